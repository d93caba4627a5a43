package export

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"prodays/report"
	"prodays/store"
)

// WriteBilanPDF writes the bilan b as a press release: the headline
// totals first (beneficiaries, meeting and visit participations, speakers
// and organisations), then the meetings, then the visits, then the
// per-region and per-day tables, each with a bar chart drawn with PDF
// rectangles.
func WriteBilanPDF(ctx context.Context, db *store.DB, w io.Writer, b *report.Figures, now time.Time) (err error) {
	defer recoverPDF("bilan", &err)
	regions, err := regionNames(ctx, db)
	if err != nil {
		return err
	}
	title := "Bilan Pro'Days"
	if b.Edition != nil {
		title = "Bilan — " + b.Edition.Name
	}
	d := newDoc(title, now)
	full := d.bandedPage()
	d.Ln(4)
	d.font("B", 9)
	d.SetTextColor(31, 73, 125)
	d.cell(full, 5, "COMMUNIQUÉ — BILAN", "", "L", false)
	d.Ln(6)
	d.SetTextColor(0, 0, 0)
	d.font("B", 18)
	d.paragraph(title, full, 8, "L", false)
	d.font("", 10)
	var sub string
	if b.Edition != nil {
		sub = fmt.Sprintf("Du %s au %s", frenchDate(b.Edition.StartDate), frenchDate(b.Edition.EndDate))
		if b.Edition.Theme != "" {
			sub += " — " + b.Edition.Theme
		}
	}
	if b.RegionCode != "" {
		for _, r := range regions {
			if r.Code == b.RegionCode {
				sub += " — Région " + r.Name
			}
		}
	}
	if sub != "" {
		d.paragraph(sub, full, 5, "L", false)
	}
	d.Ln(4)

	// Headline figures.
	boxes := []struct{ n, label string }{
		{thousands(b.Beneficiaries), "bénéficiaires"},
		{thousands(b.MeetingParticipations), "participations aux rencontres"},
		{thousands(b.VisitParticipations), "participations aux visites"},
		{thousands(b.SpeakersPresent), fmt.Sprintf("intervenants de %s organisations", thousands(b.OrganizationsRepresented))},
	}
	bw := (full - 3*4) / 4
	y := d.GetY()
	for i, bx := range boxes {
		x := margin + float64(i)*(bw+4)
		d.SetFillColor(231, 238, 247)
		d.Rect(x, y, bw, 24, "F")
		d.SetXY(x, y+3)
		d.font("B", 17)
		d.SetTextColor(31, 73, 125)
		d.cell(bw, 9, bx.n, "", "C", false)
		d.SetTextColor(0, 0, 0)
		d.font("", 8)
		d.SetXY(x+1, y+13)
		d.paragraph(bx.label, bw-2, 4, "C", false)
	}
	d.SetY(y + 29)
	d.font("", 10.5)
	d.paragraph(fmt.Sprintf("Pro'Days a compté %s bénéficiaires : %s participations de stagiaires aux rencontres thématiques et %s participations aux visites d'entreprises. %s intervenants, issus de %s organisations, ont animé les rencontres (%s interventions).",
		thousands(b.Beneficiaries), thousands(b.MeetingParticipations), thousands(b.VisitParticipations),
		thousands(b.SpeakersPresent), thousands(b.OrganizationsRepresented), thousands(b.SpeakerParticipations)), full, 5.5, "L", false)
	d.Ln(3)
	section := func(s string) {
		d.needs(20)
		d.font("B", 12)
		d.SetTextColor(31, 73, 125)
		d.cell(full, 7, s, "", "L", false)
		d.Ln(8)
		d.SetTextColor(0, 0, 0)
		d.font("", 10.5)
	}
	section("Les rencontres thématiques")
	d.paragraph(fmt.Sprintf("%s rencontres se sont tenues sur les %s programmées. Elles ont réuni %s participations de %s stagiaires distincts.",
		thousands(b.MeetingsHeld), thousands(b.MeetingsListed), thousands(b.MeetingParticipations), thousands(b.DistinctTraineesMeetings)), full, 5.5, "L", false)
	d.Ln(3)
	section("Les visites d'entreprises")
	d.paragraph(fmt.Sprintf("%s visites se sont tenues sur les %s programmées, dans %s entreprises. Elles ont compté %s participations de %s stagiaires distincts, venus de %s établissements. Au total, %s stagiaires distincts ont pris part à Pro'Days.",
		thousands(b.VisitsHeld), thousands(b.VisitsListed), thousands(b.CompaniesVisited), thousands(b.VisitParticipations),
		thousands(b.DistinctTraineesVisits), thousands(b.VisitEstablishments), thousands(b.DistinctTrainees)), full, 5.5, "L", false)
	d.Ln(4)

	// Per day on page 1 (a few rows: it fills the page), per region with
	// its chart together after it: no page holds a chart alone.
	var labels []string
	var counts []report.Counts
	for _, day := range b.Days() {
		labels = append(labels, frenchDate(day))
		counts = append(counts, b.PerDay[day])
	}
	d.countsBlock(section, "Participations par jour", "Jour", labels, counts)
	labels, counts = nil, nil
	for _, r := range regions {
		if c, ok := b.PerRegion[r.Code]; ok {
			labels = append(labels, r.Name)
			counts = append(counts, c)
		}
	}
	d.Ln(6)
	d.countsBlock(section, "Participations par région", "Région", labels, counts)
	return d.output(w)
}

// countsBlock draws a titled table and its bar chart, on a new page when
// they do not fit together on this one.
func (d *doc) countsBlock(section func(string), title, head string, labels []string, counts []report.Counts) {
	n := float64(len(labels))
	h := 15 + (n+2)*5.5 + 4 + n*(chartBarH+chartGap) + 12
	if h < pageH-2*margin-30 {
		d.needs(h)
	}
	section(title)
	d.countsTable(head, labels, counts)
	d.Ln(4)
	d.barChart(labels, counts)
}

// Bar chart geometry (mm) and label size (pt: readable on a phone).
const (
	chartBarH  = 5.0
	chartGap   = 1.6
	chartFontP = 9.0
)

// countsTable draws a per-region or per-day table with a total row.
func (d *doc) countsTable(head string, labels []string, counts []report.Counts) {
	cols := []column{{head, 66, "L"}, {"Rencontres", 40, "R"}, {"Visites", 40, "R"}, {"Bénéficiaires", 40, "R"}}
	d.tableHeader(cols)
	var tot report.Counts
	for i, l := range labels {
		c := counts[i]
		tot.MeetingParticipations += c.MeetingParticipations
		tot.VisitParticipations += c.VisitParticipations
		tot.Beneficiaries += c.Beneficiaries
		d.tableRow(cols, l, thousands(c.MeetingParticipations), thousands(c.VisitParticipations), thousands(c.Beneficiaries))
	}
	d.font("B", 8)
	d.tableRow(cols, "Total", thousands(tot.MeetingParticipations), thousands(tot.VisitParticipations), thousands(tot.Beneficiaries))
	d.font("", 8)
}

// barChart draws one horizontal stacked bar per label (meetings dark,
// visits light), scaled to the largest total, with a legend.
func (d *doc) barChart(labels []string, counts []report.Counts) {
	maxV := 1
	for _, c := range counts {
		maxV = max(maxV, c.Beneficiaries)
	}
	const labelW, barH, gap = 58.0, chartBarH, chartGap
	barMax := pageW - 2*margin - labelW - 20
	d.needs(float64(len(labels))*(barH+gap) + 12)
	y := d.GetY()
	d.font("", chartFontP)
	for i, l := range labels {
		c := counts[i]
		yy := y + float64(i)*(barH+gap)
		d.SetXY(margin, yy)
		d.cell(labelW, barH, l, "", "R", false)
		x := margin + labelW + 2
		wm := barMax * float64(c.MeetingParticipations) / float64(maxV)
		wv := barMax * float64(c.VisitParticipations) / float64(maxV)
		d.SetFillColor(31, 73, 125)
		if wm > 0 {
			d.Rect(x, yy, wm, barH, "F")
		}
		d.SetFillColor(120, 170, 220)
		if wv > 0 {
			d.Rect(x+wm, yy, wv, barH, "F")
		}
		d.SetXY(x+wm+wv+1, yy)
		d.cell(20, barH, thousands(c.Beneficiaries), "", "L", false)
	}
	yy := y + float64(len(labels))*(barH+gap) + 2
	d.SetFillColor(31, 73, 125)
	d.Rect(margin+labelW+2, yy+0.8, 3, 3, "F")
	d.SetXY(margin+labelW+6, yy)
	d.cell(40, 4.5, "Rencontres", "", "L", false)
	d.SetFillColor(120, 170, 220)
	d.Rect(margin+labelW+40, yy+0.8, 3, 3, "F")
	d.SetXY(margin+labelW+44, yy)
	d.cell(40, 4.5, "Visites", "", "L", false)
	d.SetY(yy + 6)
}

// BilanRows are the lines of the bilan's first sheet: JSON key, French
// label, value.
func BilanRows(b *report.Figures) [][3]any {
	return [][3]any{
		{"beneficiaries", "Bénéficiaires (participations)", b.Beneficiaries},
		{"meeting_participations", "Participations aux rencontres", b.MeetingParticipations},
		{"visit_participations", "Participations aux visites", b.VisitParticipations},
		{"distinct_trainees_meetings", "Stagiaires distincts (rencontres)", b.DistinctTraineesMeetings},
		{"distinct_trainees_visits", "Stagiaires distincts (visites)", b.DistinctTraineesVisits},
		{"distinct_trainees", "Stagiaires distincts", b.DistinctTrainees},
		{"speakers_present", "Intervenants présents", b.SpeakersPresent},
		{"speaker_participations", "Interventions", b.SpeakerParticipations},
		{"organizations_represented", "Organisations représentées", b.OrganizationsRepresented},
		{"meetings_held", "Rencontres tenues", b.MeetingsHeld},
		{"meetings_listed", "Rencontres programmées", b.MeetingsListed},
		{"visits_held", "Visites tenues", b.VisitsHeld},
		{"visits_listed", "Visites programmées", b.VisitsListed},
		{"companies_visited", "Entreprises visitées", b.CompaniesVisited},
		{"visit_establishments", "Établissements des visiteurs", b.VisitEstablishments},
	}
}

// WriteBilanXLSX writes the bilan b as a workbook: sheet "Bilan" (key,
// label, value), "Par région" and "Par jour" (meeting_participations,
// visit_participations, beneficiaries), numbers as numbers.
func WriteBilanXLSX(ctx context.Context, db *store.DB, w io.Writer, b *report.Figures) error {
	regions, err := regionNames(ctx, db)
	if err != nil {
		return err
	}
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", "Bilan"); err != nil {
		return err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	write := func(sheet string, widths []float64, head []string, rows [][]any) error {
		if sheet != "Bilan" {
			if _, err := x.NewSheet(sheet); err != nil {
				return err
			}
		}
		sw, err := x.NewStreamWriter(sheet)
		if err != nil {
			return err
		}
		for i, wd := range widths {
			if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
				return err
			}
		}
		cells := make([]any, len(head))
		for i, h := range head {
			cells[i] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow("A1", cells); err != nil {
			return err
		}
		for i, r := range rows {
			for j, v := range r {
				if s, ok := v.(string); ok {
					r[j] = Neutralize(s)
				}
			}
			if err := sw.SetRow("A"+strconv.Itoa(i+2), r); err != nil {
				return err
			}
		}
		return sw.Flush()
	}
	var rows [][]any
	if b.Edition != nil {
		rows = append(rows, []any{"edition", "Édition", b.Edition.Name}, []any{"dates", "Dates", b.Edition.StartDate + " / " + b.Edition.EndDate})
	}
	if b.RegionCode != "" {
		rows = append(rows, []any{"region_code", "Région", b.RegionCode})
	}
	for _, r := range BilanRows(b) {
		rows = append(rows, []any{r[0], r[1], r[2]})
	}
	if err := write("Bilan", []float64{28, 36, 16}, []string{"key", "Indicateur", "Valeur"}, rows); err != nil {
		return err
	}
	counts := []string{"meeting_participations", "visit_participations", "beneficiaries"}
	rows = nil
	for _, r := range regions {
		if c, ok := b.PerRegion[r.Code]; ok {
			rows = append(rows, []any{r.Code, r.Name, c.MeetingParticipations, c.VisitParticipations, c.Beneficiaries})
		}
	}
	if err := write("Par région", []float64{12, 30, 22, 22, 16}, append([]string{"region_code", "Région"}, counts...), rows); err != nil {
		return err
	}
	rows = nil
	for _, day := range b.Days() {
		c := b.PerDay[day]
		rows = append(rows, []any{day, frenchDate(day), c.MeetingParticipations, c.VisitParticipations, c.Beneficiaries})
	}
	if err := write("Par jour", []float64{12, 24, 22, 22, 16}, append([]string{"date", "Jour"}, counts...), rows); err != nil {
		return err
	}
	return writeWorkbook(x, w)
}
