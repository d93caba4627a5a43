package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"prodays"
	"prodays/report"
	"prodays/store"
)

// Casablanca is the time zone of every local time the exports write
// (Morocco: UTC+1, UTC+0 during Ramadan).
var Casablanca = prodays.Casablanca

// LocalTimeFormat is how the exports write a time: Casablanca local time
// with its offset, e.g. 2026-03-21T09:10:43+00:00 or 2026-03-23T10:02:11+01:00.
const LocalTimeFormat = "2006-01-02T15:04:05-07:00"

// LocalTime renders a stored time (store.TimeFormat, UTC) in Casablanca
// local time with the offset written; "" stays "" and an unparsable value
// is returned as is.
func LocalTime(stored string) string {
	if stored == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, stored)
	if err != nil {
		return stored
	}
	return t.In(Casablanca).Format(LocalTimeFormat)
}

// Filter is prodays.ExportFilter.
type Filter = prodays.ExportFilter

// filterWhere returns the SQL condition on activities alias a, with arguments.
func filterWhere(ctx context.Context, db *store.DB, f Filter) (string, []any, error) {
	sc, args := report.ActivityScope(f.Scope)
	conds := []string{sc}
	if f.EditionID != nil {
		ed, err := report.LoadEdition(ctx, db, *f.EditionID)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "(a.edition_id = ? OR (a.edition_id IS NULL AND a.date BETWEEN ? AND ?))")
		args = append(args, ed.ID, ed.StartDate, ed.EndDate)
	}
	if f.RegionCode != "" {
		conds = append(conds, "a.region_code = ?")
		args = append(args, f.RegionCode)
	}
	if f.Date != "" {
		if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
			return "", nil, prodays.Errorf(prodays.EInvalid, "date must be YYYY-MM-DD.")
		}
		conds = append(conds, "a.date = ?")
		args = append(args, f.Date)
	}
	if f.EstablishmentCode != "" {
		conds = append(conds, "a.establishment_code = ?")
		args = append(args, f.EstablishmentCode)
	}
	if f.ActivityID != "" {
		conds = append(conds, "a.id = ?")
		args = append(args, f.ActivityID)
	}
	return strings.Join(conds, " AND "), args, nil
}

// Participation is one row of the flat export: a present person at an
// activity. CheckedInAt is Casablanca local time with its offset; Methods
// the check-in methods (qr, search, manual) joined by "|", or "override"
// for a presence set by a supervisor. For a speaker PersonEstablishment,
// Program and Group are empty and Organization is the speaker's
// organisation.
type Participation struct {
	ActivityID          string
	Kind                string
	Date                string
	RegionCode          string
	EstablishmentCode   string
	ActivityTitle       string
	Company             string
	PersonKind          string
	PersonID            string
	LastName            string
	FirstName           string
	PersonEstablishment string
	Program             string
	Group               string
	CheckedInAt         string
	Methods             string
	Organization        string
}

// ParticipationColumns are the header of the flat export, in the field's
// terms.
var ParticipationColumns = []string{
	"activity_id", "kind", "date", "region_code", "establishment_code", "activity_title", "company",
	"person_kind", "person_id", "last_name", "first_name", "person_establishment", "program", "group",
	"checked_in_at", "methods", "organization",
}

func (p *Participation) fields() []string {
	return []string{p.ActivityID, p.Kind, p.Date, p.RegionCode, p.EstablishmentCode, p.ActivityTitle, p.Company,
		p.PersonKind, p.PersonID, p.LastName, p.FirstName, p.PersonEstablishment, p.Program, p.Group,
		p.CheckedInAt, p.Methods, p.Organization}
}

// participationsSQL selects the present persons (roster trainees not
// deleted, and speakers) of the activities matching the condition %s:
// meetings first, then visits, each by date, activity, speakers before
// trainees, by name.
const participationsSQL = `
SELECT a.id, a.kind, a.date, a.region_code, a.establishment_code, a.title, COALESCE(co.name, ''),
 att.person_kind, att.person_id,
 COALESCE(t.last_name, s.last_name), COALESCE(t.first_name, s.first_name),
 COALESCE(t.establishment_code, ''), COALESCE(t.program, ''), COALESCE(t.group_name, ''),
 COALESCE(att.checked_in_at, ''),
 COALESCE((SELECT group_concat(m, '|') FROM (SELECT DISTINCT c.method AS m FROM json_each(att.check_in_ids) j JOIN checkins c ON c.id = j.value ORDER BY m)),
   CASE WHEN att.override = 'present' THEN 'override' ELSE '' END),
 COALESCE(o.name, '')
FROM attendance att
JOIN activities a ON a.id = att.activity_id
LEFT JOIN companies co ON co.id = a.company_id
LEFT JOIN trainees t ON att.person_kind = 'trainee' AND t.id = att.person_id AND t.deleted = 0
LEFT JOIN speakers s ON att.person_kind = 'speaker' AND s.id = att.person_id
LEFT JOIN organizations o ON o.id = s.organization_id
WHERE att.present = 1 AND (t.id IS NOT NULL OR s.id IS NOT NULL) AND %s
ORDER BY a.kind <> 'meeting', a.date, a.id, att.person_kind, 10, 11, att.person_id`

// EachParticipation calls fn for every participation f selects, read from
// one SQL cursor (nothing is accumulated). fn's *Participation is reused
// between calls. An error from fn stops the iteration and is returned.
func EachParticipation(ctx context.Context, db *store.DB, f Filter, fn func(*Participation) error) error {
	cond, args, err := filterWhere(ctx, db, f)
	if err != nil {
		return err
	}
	rows, err := db.Read.QueryContext(ctx, fmt.Sprintf(participationsSQL, cond), args...)
	if err != nil {
		return fmt.Errorf("participations: %w", err)
	}
	defer rows.Close()
	var p Participation
	for rows.Next() {
		if err := rows.Scan(&p.ActivityID, &p.Kind, &p.Date, &p.RegionCode, &p.EstablishmentCode, &p.ActivityTitle, &p.Company,
			&p.PersonKind, &p.PersonID, &p.LastName, &p.FirstName, &p.PersonEstablishment, &p.Program, &p.Group,
			&p.CheckedInAt, &p.Methods, &p.Organization); err != nil {
			return fmt.Errorf("participations: %w", err)
		}
		p.CheckedInAt = LocalTime(p.CheckedInAt)
		if err := fn(&p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("participations: %w", err)
	}
	return nil
}

// UTF8BOM starts every CSV export, so that Excel reads it as UTF-8.
const UTF8BOM = "\uFEFF"

// WriteParticipationsCSV writes the participations f selects as CSV: the
// UTF-8 BOM, a header (ParticipationColumns), one row per participation,
// fields separated by sep (',' or ';' for a French Excel), quoted as in
// RFC 4180 with LF line ends, every field neutralised (Neutralize). It
// returns the number of data rows written.
func WriteParticipationsCSV(ctx context.Context, db *store.DB, w io.Writer, f Filter, sep rune) (int, error) {
	if sep != ',' && sep != ';' {
		return 0, prodays.Errorf(prodays.EInvalid, "The separator must be a comma or a semicolon.")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(UTF8BOM); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	cw.Comma = sep
	// LF line ends: with UseCRLF, encoding/csv drops a lone \r inside a
	// field, and a name is data that must come back intact.
	cw.UseCRLF = false
	if err := cw.Write(ParticipationColumns); err != nil {
		return 0, err
	}
	n := 0
	rec := make([]string, len(ParticipationColumns))
	err := EachParticipation(ctx, db, f, func(p *Participation) error {
		for i, v := range p.fields() {
			rec[i] = Neutralize(v)
		}
		n++
		return cw.Write(rec)
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// Sheet names of the participations workbook.
const (
	SheetMeetings = "Rencontres"
	SheetVisits   = "Visites"
	SheetSummary  = "Synthèse"
)

// tally counts what a participations export wrote, for its summary sheet.
type tally struct {
	meetings, visits, speakers int
	byRegion                   map[string][2]int
	byDay                      map[string][2]int
}

func (t *tally) add(p *Participation) {
	if p.PersonKind != prodays.PersonTrainee {
		t.speakers++
		return
	}
	i := 0
	if p.Kind == prodays.KindMeeting {
		t.meetings++
	} else {
		t.visits++
		i = 1
	}
	r, d := t.byRegion[p.RegionCode], t.byDay[p.Date]
	r[i]++
	d[i]++
	t.byRegion[p.RegionCode], t.byDay[p.Date] = r, d
}

// xlsxWidths are the column widths (characters) of the participations
// sheets.
var xlsxWidths = []float64{12, 14, 11, 8, 12, 40, 28, 10, 16, 22, 22, 12, 26, 10, 26, 14, 28}

// WriteParticipationsXLSX writes the participations f selects as an XLSX
// workbook: sheet "Rencontres" (meetings), sheet "Visites" (company
// visits), both with the columns of ParticipationColumns headed in
// f.Lang (participationHeads) and the kinds, person kinds and methods in
// words of f.Lang, the header row frozen and filters on it (a table over
// the rows), and sheet
// "Synthèse" (totals, per region, per day). Rows are streamed (excelize
// StreamWriter, which spills to temporary files), every cell is a plain
// string — never a formula — and neutralised as in CSV. It returns the
// number of data rows written.
func WriteParticipationsXLSX(ctx context.Context, db *store.DB, w io.Writer, f Filter) (int, error) {
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", SheetMeetings); err != nil {
		return 0, err
	}
	for _, name := range []string{SheetVisits, SheetSummary} {
		if _, err := x.NewSheet(name); err != nil {
			return 0, err
		}
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F1"}}})
	if err != nil {
		return 0, err
	}
	open := func(sheet string) (*excelize.StreamWriter, error) {
		sw, err := x.NewStreamWriter(sheet)
		if err != nil {
			return nil, err
		}
		sizeStream(sw)
		for i, wd := range xlsxWidths {
			if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
				return nil, err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
		head := make([]any, len(ParticipationColumns))
		for i, c := range headsOf(f.Lang) {
			head[i] = excelize.Cell{StyleID: bold, Value: c}
		}
		return sw, sw.SetRow("A1", head)
	}
	// done gives a sheet of rows rows (header included) its filters (a
	// table over them: autofilter buttons on the header) and flushes it.
	done := func(sw *excelize.StreamWriter, sheet string, rows int) error {
		last, _ := excelize.CoordinatesToCellName(len(ParticipationColumns), max(rows, 2))
		name := "Meetings"
		if sheet == SheetVisits {
			name = "Visits"
		}
		if err := sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: name, StyleName: "TableStyleLight1"}); err != nil {
			return err
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		releaseStream(sw)
		return nil
	}
	t := &tally{byRegion: map[string][2]int{}, byDay: map[string][2]int{}}
	sw, err := open(SheetMeetings)
	if err != nil {
		return 0, err
	}
	current, row, n := SheetMeetings, 1, 0
	rec := make([]any, len(ParticipationColumns))
	err = EachParticipation(ctx, db, f, func(p *Participation) error {
		if p.Kind != prodays.KindMeeting && current == SheetMeetings {
			if err := done(sw, current, row); err != nil {
				return err
			}
			if sw, err = open(SheetVisits); err != nil {
				return err
			}
			current, row = SheetVisits, 1
		}
		for i, v := range p.fields() {
			rec[i] = Neutralize(v)
		}
		rec[1], rec[7], rec[15] = label(f.Lang, p.Kind), label(f.Lang, p.PersonKind), methodsLabel(f.Lang, p.Methods)
		row++
		n++
		t.add(p)
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(cell, rec)
	})
	if err != nil {
		return n, err
	}
	if err := done(sw, current, row); err != nil {
		return n, err
	}
	if current == SheetMeetings { // no visit: the sheet still has its header
		if sw, err = open(SheetVisits); err != nil {
			return n, err
		}
		if err := done(sw, SheetVisits, 1); err != nil {
			return n, err
		}
	}
	if err := writeSummary(ctx, db, x, f, t, bold); err != nil {
		return n, err
	}
	if err := writeWorkbook(x, w); err != nil {
		return n, err
	}
	return n, nil
}

// regionNames lists the regions in their official order.
func regionNames(ctx context.Context, db *store.DB) ([]prodays.Region, error) {
	rows, err := db.Read.QueryContext(ctx, `SELECT code, name, official_number FROM regions ORDER BY official_number`)
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	defer rows.Close()
	var out []prodays.Region
	for rows.Next() {
		var r prodays.Region
		if err := rows.Scan(&r.Code, &r.Name, &r.OfficialNumber); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
