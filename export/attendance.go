package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"prodays"
	"prodays/store"
)

// SheetActivity is the header of an attendance sheet: the activity and
// where it takes place. Status is open or closed; ClosedBy and ClosedAt
// (stored UTC) are set when closed.
type SheetActivity struct {
	prodays.Activity
	Status   string
	ClosedAt string
	ClosedBy string
	// ClosedByName is the full name of the user who closed it (ClosedBy
	// when the account has none or is gone).
	ClosedByName      string
	EstablishmentName string
	City              string
	CompanyName       string
	CompanyCity       string
	RegionName        string
}

// Place is where the activity takes place, for a human: the company for a
// visit, the host establishment for a meeting.
func (a *SheetActivity) Place() string {
	if a.Kind == prodays.KindCompanyVisit && a.CompanyName != "" {
		return a.CompanyName + ", " + a.CompanyCity + " (organisée par " + a.EstablishmentName + ")"
	}
	return a.EstablishmentName + ", " + a.City
}

// KindLabel is the French name of the activity's kind.
func (a *SheetActivity) KindLabel() string {
	if a.Kind == prodays.KindCompanyVisit {
		return "Visite d'entreprise"
	}
	return "Rencontre thématique"
}

// SheetActivities lists the activities of f (an activity, or a day of a
// region or establishment) that f.Scope may see, in date and time order.
// An ActivityID that does not exist, or a day without activities in
// scope, is a not_found error; an ActivityID outside the scope is
// forbidden; a filter without an activity or a date is invalid.
func SheetActivities(ctx context.Context, db *store.DB, f Filter) ([]SheetActivity, error) {
	if f.ActivityID == "" && f.Date == "" {
		return nil, prodays.Errorf(prodays.EInvalid, "Name an activity, or a date (with a region or an establishment).")
	}
	cond, args, err := filterWhere(ctx, db, f)
	if err != nil {
		return nil, err
	}
	out, err := store.Query(ctx, db.Read, func(r store.Scanner) (SheetActivity, error) {
		var a SheetActivity
		err := r.Scan(&a.ID, &a.Kind, &a.Title, &a.Date, &a.StartTime, &a.EndTime, &a.EstablishmentCode,
			&a.CompanyID, &a.RegionCode, &a.Capacity, &a.Status, &a.ClosedAt, &a.ClosedBy, &a.ClosedByName,
			&a.EstablishmentName, &a.City, &a.CompanyName, &a.CompanyCity, &a.RegionName)
		return a, err
	}, `SELECT a.id, a.kind, a.title, a.date, a.start_time, a.end_time, a.establishment_code,
		COALESCE(a.company_id, ''), a.region_code, a.capacity, a.status, COALESCE(a.closed_at, ''), COALESCE(a.closed_by, ''),
		COALESCE(NULLIF(u.full_name, ''), a.closed_by, ''), e.name, e.city, COALESCE(co.name, ''), COALESCE(co.city, ''), r.name
		FROM activities a JOIN establishments e ON e.code = a.establishment_code
		JOIN regions r ON r.code = a.region_code
		LEFT JOIN companies co ON co.id = a.company_id
		LEFT JOIN users u ON u.username = a.closed_by
		WHERE `+cond+` ORDER BY a.date, a.start_time, a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("attendance sheet: %w", err)
	}
	if len(out) == 0 {
		if f.ActivityID != "" {
			if err := checkActivity(ctx, db, f.Scope, f.ActivityID); err != nil {
				return nil, err
			}
			return nil, prodays.Errorf(prodays.ENotFound, "No activity %s for this selection.", f.ActivityID)
		}
		return nil, prodays.Errorf(prodays.ENotFound, "No activity on %s for this selection.", f.Date)
	}
	return out, nil
}

// checkActivity answers not_found for an activity that does not exist and
// forbidden for one that s may not see (prodays.Scope.SeesActivity).
func checkActivity(ctx context.Context, db *store.DB, s prodays.Scope, id string) error {
	var region, est string
	err := db.Read.QueryRowContext(ctx, `SELECT region_code, establishment_code FROM activities WHERE id = ?`, id).Scan(&region, &est)
	if errors.Is(err, sql.ErrNoRows) {
		return prodays.Errorf(prodays.ENotFound, "No activity %s.", id)
	} else if err != nil {
		return fmt.Errorf("activity %s: %w", id, err)
	}
	if !s.SeesActivity(region, est) {
		return prodays.Errorf(prodays.EForbidden, "Activity %s is outside your scope (another region or establishment).", id)
	}
	return nil
}

// Attendee is a present person on an attendance sheet. For a trainee
// Affiliation is the establishment's name and Group the group; for a
// speaker Affiliation is the organisation and Group the speaker's title.
type Attendee struct {
	PersonKind  string
	PersonID    string
	LastName    string
	FirstName   string
	Affiliation string
	Group       string
	CheckedInAt string // stored UTC
}

// eachAttendee calls fn for the present speakers (first) then trainees of
// activity id, by name, from one cursor.
func eachAttendee(ctx context.Context, db *store.DB, id string, fn func(*Attendee) error) error {
	rows, err := db.Read.QueryContext(ctx, `
		SELECT 'speaker', s.id, s.last_name, s.first_name, o.name, s.title, COALESCE(att.checked_in_at, '')
		FROM attendance att JOIN speakers s ON s.id = att.person_id JOIN organizations o ON o.id = s.organization_id
		WHERE att.activity_id = ? AND att.person_kind = 'speaker' AND att.present = 1
		UNION ALL
		SELECT 'trainee', t.id, t.last_name, t.first_name, e.name, t.group_name, COALESCE(att.checked_in_at, '')
		FROM attendance att JOIN trainees t ON t.id = att.person_id AND t.deleted = 0 JOIN establishments e ON e.code = t.establishment_code
		WHERE att.activity_id = ? AND att.person_kind = 'trainee' AND att.present = 1
		ORDER BY 1, 3, 4, 2`, id, id)
	if err != nil {
		return fmt.Errorf("attendees of %s: %w", id, err)
	}
	defer rows.Close()
	var a Attendee
	for rows.Next() {
		if err := rows.Scan(&a.PersonKind, &a.PersonID, &a.LastName, &a.FirstName, &a.Affiliation, &a.Group, &a.CheckedInAt); err != nil {
			return fmt.Errorf("attendees of %s: %w", id, err)
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return rows.Err()
}

var (
	speakerCols = []column{{"N°", 9, "R"}, {"Intervenant", 60, "L"}, {"Organisation", 70, "L"}, {"Fonction", 33, "L"}, {"Heure", 14, "C"}}
	traineeCols = []column{{"N°", 9, "R"}, {"Matricule", 28, "L"}, {"Nom et prénom", 62, "L"}, {"Établissement", 53, "L"}, {"Groupe", 20, "L"}, {"Heure", 14, "C"}}
)

// closer names who closed a: "Full Name (username)", or the username
// when the account has no full name.
func (a *SheetActivity) closer() string {
	if a.ClosedByName != "" && a.ClosedByName != a.ClosedBy {
		return a.ClosedByName + " (" + a.ClosedBy + ")"
	}
	return a.ClosedBy
}

// sheetKeep is how many of an activity's last rows stay on the page of its
// signature block, and sheetClosingH the height (mm) of that block
// (totals, closing line, signature boxes).
const (
	sheetKeep     = 3
	sheetClosingH = 50.0
)

// sheetItem is something drawn on an attendance sheet that may have to
// move to the next page with the signature block: a table row (cols set)
// or a table's heading (cols nil).
type sheetItem struct {
	h    float64
	cols []column
	draw func()
}

// sectionTitle is the item that opens a list of the sheet (speakers or
// trainees): gap mm of space (d.Ln, millimetres) above, the bold title and
// the column header of cols; the item is gap+12 mm high.
func sectionTitle(d *doc, gap float64, title string, cols []column) sheetItem {
	return sheetItem{h: 12 + gap, draw: func() {
		if gap > 0 {
			d.Ln(gap)
		}
		d.needs(20)
		d.font("B", 10)
		d.cell(0, 6, title, "", "L", false)
		d.Ln(6)
		d.tableHeader(cols)
	}}
}

// WriteAttendancePDF writes the attendance sheets of f (one activity, or
// every activity of a day of a region or establishment) as an A4 PDF: per
// activity a header (title, date, times, place, company), the present
// speakers, the present trainees (name, establishment, group, time of
// check-in), totals and a signature block (closed by — full name — and
// at, when the activity is closed). The signature block never stands
// alone on a page: the last sheetKeep rows go with it. Each activity
// starts a page and numbers its own pages ("page 2/3"), the file's page
// is in the footer too. Persons are read from a cursor and drawn as they
// come (a few rows behind). Errors: as SheetActivities.
func WriteAttendancePDF(ctx context.Context, db *store.DB, w io.Writer, f Filter, now time.Time) (err error) {
	defer recoverPDF("attendance", &err)
	acts, err := SheetActivities(ctx, db, f)
	if err != nil {
		return err
	}
	d := newDoc("Feuille de présence", now)
	for i := range acts {
		a := &acts[i]
		d.AddPage()
		d.startSection(a.ID)
		d.font("B", 9)
		d.SetTextColor(31, 73, 125)
		d.cell(0, 5, "PRO'DAYS — FEUILLE DE PRÉSENCE — "+a.KindLabel(), "", "L", false)
		d.Ln(6)
		d.SetTextColor(0, 0, 0)
		d.font("B", 13)
		d.paragraph(a.Title, pageW-2*margin, 6, "L", false)
		d.font("", 9)
		info := [][2]string{
			{"Activité", a.ID},
			{"Date", frenchDate(a.Date) + ", de " + a.StartTime + " à " + a.EndTime},
			{"Lieu", a.Place()},
			{"Région", a.RegionName},
		}
		if a.Kind == prodays.KindCompanyVisit {
			info = append(info, [2]string{"Entreprise", a.CompanyName})
		}
		for _, kv := range info {
			d.font("B", 9)
			d.cell(25, 5, kv[0], "", "L", false)
			d.font("", 9)
			d.cell(pageW-2*margin-25, 5, kv[1], "", "L", false)
			d.Ln(5)
		}
		d.Ln(3)
		speakers, trainees := 0, 0
		var pending []sheetItem
		push := func(it sheetItem) {
			pending = append(pending, it)
			rows := 0
			for _, p := range pending {
				if p.cols != nil {
					rows++
				}
			}
			for rows > sheetKeep {
				if pending[0].cols != nil {
					rows--
				}
				pending[0].draw()
				pending = pending[1:]
			}
		}
		err := eachAttendee(ctx, db, a.ID, func(p *Attendee) error {
			if p.PersonKind == prodays.PersonSpeaker {
				if speakers == 0 {
					push(sectionTitle(d, 0, "Intervenants présents", speakerCols))
				}
				speakers++
				vals := []string{strconv.Itoa(speakers), p.LastName + " " + p.FirstName, p.Affiliation, p.Group, hhmm(p.CheckedInAt)}
				push(sheetItem{h: 5.5, cols: speakerCols, draw: func() { d.tableRow(speakerCols, vals...) }})
				return nil
			}
			if trainees == 0 {
				push(sectionTitle(d, 3, "Stagiaires présents", traineeCols))
			}
			trainees++
			vals := []string{strconv.Itoa(trainees), p.PersonID, p.LastName + " " + p.FirstName, p.Affiliation, p.Group, hhmm(p.CheckedInAt)}
			push(sheetItem{h: 5.5, cols: traineeCols, draw: func() { d.tableRow(traineeCols, vals...) }})
			return nil
		})
		if err != nil {
			return err
		}
		// The last rows and the signature block together.
		h := sheetClosingH
		for _, p := range pending {
			h += p.h
		}
		if d.needs(h) && len(pending) > 0 && pending[0].cols != nil {
			d.tableHeader(pending[0].cols)
		}
		for _, p := range pending {
			p.draw()
		}
		d.Ln(4)
		d.font("B", 10)
		d.cell(0, 6, fmt.Sprintf("Total : %d stagiaire(s) présent(s), %d intervenant(s) présent(s).", trainees, speakers), "", "L", false)
		d.Ln(8)
		d.font("", 9)
		if a.Status == "closed" {
			d.cell(0, 5, fmt.Sprintf("Feuille clôturée par %s le %s.", a.closer(), localLong(a.ClosedAt)), "", "L", false)
		} else {
			d.cell(0, 5, "Feuille non clôturée : la liste peut encore changer.", "", "L", false)
		}
		d.Ln(7)
		y := d.GetY()
		d.Rect(margin, y, 88, 28, "D")
		d.Rect(pageW-margin-88, y, 88, 28, "D")
		d.SetXY(margin+2, y+1)
		d.cell(84, 5, "Responsable de l'activité : nom, date et signature", "", "L", false)
		d.SetXY(pageW-margin-86, y+1)
		d.cell(84, 5, "Cachet de l'établissement", "", "L", false)
		d.SetY(y + 30)
	}
	d.endSection(d.PageNo())
	return d.output(w)
}

// localLong renders a stored time as "22/03/2026 à 11:15 (+01:00)".
func localLong(stored string) string {
	t, err := time.Parse(time.RFC3339Nano, stored)
	if err != nil {
		return stored
	}
	return t.In(Casablanca).Format("02/01/2006 à 15:04 (-07:00)")
}

// WriteAttendanceXLSX writes the same sheets as WriteAttendancePDF as an
// XLSX workbook, one worksheet per activity (named by activity_id): the
// header lines, then one row per present person (kind, id, last name,
// first name, establishment or organisation, group or title, time of
// check-in with its offset; headed and kinds worded in f.Lang), then the
// totals and the closing. Cells are plain strings, neutralised.
func WriteAttendanceXLSX(ctx context.Context, db *store.DB, w io.Writer, f Filter) error {
	acts, err := SheetActivities(ctx, db, f)
	if err != nil {
		return err
	}
	x := excelize.NewFile()
	defer x.Close()
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i := range acts {
		a := &acts[i]
		name := sheetName(a.ID)
		if i == 0 {
			if err := x.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := x.NewSheet(name); err != nil {
			return err
		}
		sw, err := x.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for c, wd := range []float64{12, 18, 26, 26, 40, 18, 28} {
			if err := sw.SetColWidth(c+1, c+1, wd); err != nil {
				return err
			}
		}
		row := 0
		put := func(style int, vals ...string) error {
			row++
			cells := make([]any, len(vals))
			for i, v := range vals {
				cells[i] = excelize.Cell{StyleID: style, Value: Neutralize(v)}
			}
			cell, _ := excelize.CoordinatesToCellName(1, row)
			return sw.SetRow(cell, cells)
		}
		closing := "Feuille non clôturée"
		if a.Status == "closed" {
			closing = "Clôturée par " + a.closer() + " le " + LocalTime(a.ClosedAt)
		}
		head := [][2]string{
			{"Feuille de présence", a.KindLabel()}, {"activity_id", a.ID}, {"Titre", a.Title},
			{"Date", a.Date}, {"Horaire", a.StartTime + " - " + a.EndTime}, {"Lieu", a.Place()},
			{"Entreprise", a.CompanyName}, {"Région", a.RegionCode + " " + a.RegionName},
		}
		for _, kv := range head {
			row++
			cell, _ := excelize.CoordinatesToCellName(1, row)
			if err := sw.SetRow(cell, []any{excelize.Cell{StyleID: bold, Value: Neutralize(kv[0])}, Neutralize(kv[1])}); err != nil {
				return err
			}
		}
		row++
		if err := put(bold, attendanceHeads(f.Lang)...); err != nil {
			return err
		}
		var speakers, trainees int
		err = eachAttendee(ctx, db, a.ID, func(p *Attendee) error {
			if p.PersonKind == prodays.PersonSpeaker {
				speakers++
			} else {
				trainees++
			}
			return put(0, label(f.Lang, p.PersonKind), p.PersonID, p.LastName, p.FirstName, p.Affiliation, p.Group, LocalTime(p.CheckedInAt))
		})
		if err != nil {
			return err
		}
		row++
		if err := put(bold, "Stagiaires présents", strconv.Itoa(trainees)); err != nil {
			return err
		}
		if err := put(bold, "Intervenants présents", strconv.Itoa(speakers)); err != nil {
			return err
		}
		if err := put(0, "Clôture", closing); err != nil {
			return err
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return writeWorkbook(x, w)
}

// sheetName makes an activity id a legal worksheet name (at most 31
// characters, none of : \ / ? * [ ]).
func sheetName(id string) string {
	rs := []rune(id)
	for i, r := range rs {
		switch r {
		case ':', '\\', '/', '?', '*', '[', ']':
			rs[i] = '_'
		}
	}
	if len(rs) > 31 {
		rs = rs[:31]
	}
	return string(rs)
}
