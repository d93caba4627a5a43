package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"prodays"
	"prodays/report"
	"prodays/store"
)

// QRPayload is the content of a badge's QR code: "PD1:T:<trainee_id>" for
// a trainee, "PD1:S:<speaker_id>" for a speaker (version 1 of the badge
// format, read by the app's scanner).
func QRPayload(personKind, id string) string {
	if personKind == prodays.PersonSpeaker {
		return "PD1:S:" + id
	}
	return "PD1:T:" + id
}

// BadgeFilter is prodays.BadgeFilter.
type BadgeFilter = prodays.BadgeFilter

// Badge geometry: 2 × 5 badges of 93 × 55 mm on an A4 page.
const (
	badgeCols = 2
	badgeRows = 5
	badgeW    = 93.0
	badgeH    = 55.0
)

// CheckBadges returns the heading of the badges f selects (the
// establishment's name, or the activity's title) or the error
// WriteBadgesPDF would give before drawing anything: invalid without an
// establishment (or, with Speakers, an activity), not_found for an
// unknown one, forbidden for one outside f.Scope.
func CheckBadges(ctx context.Context, db *store.DB, f BadgeFilter) (string, error) {
	var heading string
	if f.Speakers {
		if err := checkActivity(ctx, db, f.Scope, f.ActivityID); err != nil {
			return "", err
		}
		if err := db.Read.QueryRowContext(ctx, `SELECT title FROM activities WHERE id = ?`, f.ActivityID).Scan(&heading); err != nil {
			return "", fmt.Errorf("badges: %w", err)
		}
		return heading, nil
	}
	if f.EstablishmentCode == "" {
		return "", prodays.Errorf(prodays.EInvalid, "Give establishment (and optionally group), or kind=speaker and activity.")
	}
	var region string
	err := db.Read.QueryRowContext(ctx, `SELECT name, region_code FROM establishments WHERE code = ?`, f.EstablishmentCode).Scan(&heading, &region)
	if errors.Is(err, sql.ErrNoRows) {
		return "", prodays.Errorf(prodays.ENotFound, "No establishment %s.", f.EstablishmentCode)
	} else if err != nil {
		return "", fmt.Errorf("badges: %w", err)
	}
	if !f.Scope.SeesTrainee(region) {
		return "", prodays.Errorf(prodays.EForbidden, "Establishment %s is in another region than yours.", f.EstablishmentCode)
	}
	return heading, nil
}

// WriteBadgesPDF writes A4 pages of badges (2 × 5 a page, cut marks as
// borders) for the persons f selects, read from a cursor in name order:
// name, matricule (or organisation), establishment, group and program,
// and the QR code of QRPayload. Errors: those of CheckBadges, and
// not_found for a selection without anyone.
func WriteBadgesPDF(ctx context.Context, db *store.DB, w io.Writer, f BadgeFilter, now time.Time) (err error) {
	defer recoverPDF("badges", &err)
	heading, err := CheckBadges(ctx, db, f)
	if err != nil {
		return err
	}
	var q string
	var args []any
	if f.Speakers {
		sc, sargs := report.ActivityScope(f.Scope)
		q = `SELECT 'speaker', s.id, s.last_name, s.first_name, o.name, s.title, ''
			FROM activity_speakers x JOIN activities a ON a.id = x.activity_id
			JOIN speakers s ON s.id = x.speaker_id JOIN organizations o ON o.id = s.organization_id
			WHERE x.activity_id = ? AND ` + sc + ` ORDER BY s.last_name, s.first_name, s.id`
		args = append([]any{f.ActivityID}, sargs...)
	} else {
		sc, sargs := report.TraineeScope(f.Scope)
		q = `SELECT 'trainee', t.id, t.last_name, t.first_name, e.name, t.group_name, t.program
			FROM trainees t JOIN establishments e ON e.code = t.establishment_code
			WHERE t.establishment_code = ? AND t.deleted = 0 AND (? = '' OR t.group_name = ?) AND ` + sc + `
			ORDER BY t.group_name, t.last_name, t.first_name, t.id`
		args = append([]any{f.EstablishmentCode, f.Group, f.Group}, sargs...)
	}
	rows, err := db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("badges: %w", err)
	}
	defer rows.Close()
	d := newDoc("Badges — "+heading, now)
	x0 := (pageW - badgeCols*badgeW) / 2
	y0 := (pageH - 10 - badgeRows*badgeH) / 2
	n := 0
	for rows.Next() {
		var kind, id, last, first, affiliation, group, program string
		if err := rows.Scan(&kind, &id, &last, &first, &affiliation, &group, &program); err != nil {
			return fmt.Errorf("badges: %w", err)
		}
		slot := n % (badgeCols * badgeRows)
		if slot == 0 {
			d.AddPage()
		}
		n++
		x := x0 + float64(slot%badgeCols)*badgeW
		y := y0 + float64(slot/badgeCols)*badgeH
		d.SetDrawColor(170, 170, 170)
		d.Rect(x, y, badgeW, badgeH, "D")
		d.SetDrawColor(0, 0, 0)
		d.SetFillColor(31, 73, 125)
		d.Rect(x, y, badgeW, 8, "F")
		d.SetTextColor(255, 255, 255)
		d.font("B", 9)
		d.SetXY(x+3, y+1.5)
		label := "STAGIAIRE"
		if kind == prodays.PersonSpeaker {
			label = "INTERVENANT"
		}
		d.cell(badgeW-6, 5, "PRO'DAYS — "+label, "", "L", false)
		d.SetTextColor(0, 0, 0)
		textW := badgeW - 44
		d.SetXY(x+3, y+11)
		d.font("B", 11)
		d.cell(textW, 6, last, "", "L", false)
		d.SetXY(x+3, y+17)
		d.font("", 10)
		d.cell(textW, 5.5, first, "", "L", false)
		d.font("", 7.5)
		lines := []string{affiliation, group, program}
		if kind == prodays.PersonTrainee {
			d.SetXY(x+3, y+24)
			d.font("B", 8)
			d.cell(textW, 4.5, "Matricule "+id, "", "L", false)
			d.font("", 7.5)
		}
		for i, l := range lines {
			d.SetXY(x+3, y+30+float64(i)*4.2)
			d.cell(textW, 4, l, "", "L", false)
		}
		if err := d.qr(QRPayload(kind, id), x+badgeW-41, y+11, 38); err != nil {
			return err
		}
		d.SetXY(x+badgeW-41, y+49.5)
		d.font("", 6)
		d.cell(38, 3, QRPayload(kind, id), "", "C", false)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("badges: %w", err)
	}
	if n == 0 {
		return prodays.Errorf(prodays.ENotFound, "Nobody to print a badge for.")
	}
	return d.output(w)
}

// certificateTrainee is the trainee a certificate names.
type certificateTrainee struct {
	last, first, estName, city, program string
	region                              string
}

// CheckCertificate answers the errors WriteCertificatePDF would give
// before drawing anything: not_found for an unknown (or merged) trainee,
// forbidden for a trainee whose establishment is outside s's region
// (prodays.Scope.SeesTrainee).
func CheckCertificate(ctx context.Context, db *store.DB, s prodays.Scope, traineeID string) error {
	_, err := loadCertificateTrainee(ctx, db, s, traineeID)
	return err
}

func loadCertificateTrainee(ctx context.Context, db *store.DB, s prodays.Scope, traineeID string) (*certificateTrainee, error) {
	var t certificateTrainee
	err := db.Read.QueryRowContext(ctx, `SELECT t.last_name, t.first_name, e.name, e.city, t.program, e.region_code
		FROM trainees t JOIN establishments e ON e.code = t.establishment_code WHERE t.id = ? AND t.deleted = 0`, traineeID).
		Scan(&t.last, &t.first, &t.estName, &t.city, &t.program, &t.region)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No trainee %s.", traineeID)
	} else if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if !s.SeesTrainee(t.region) {
		return nil, prodays.Errorf(prodays.EForbidden, "Trainee %s belongs to an establishment of another region than yours.", traineeID)
	}
	return &t, nil
}

// scopeNote says, on a certificate made for a scope that does not see
// every activity, which activities it lists ("" for an admin's).
func scopeNote(ctx context.Context, db *store.DB, s prodays.Scope) (string, error) {
	switch s.Role {
	case prodays.RoleAdmin:
		return "", nil
	case prodays.RoleStaff:
		return "Liste limitée aux activités de l'établissement " + s.EstablishmentCode + ".", nil
	}
	regions, err := regionNames(ctx, db)
	if err != nil {
		return "", err
	}
	for _, r := range regions {
		if r.Code == s.RegionCode {
			return "Liste limitée aux activités de la région " + r.Name + ".", nil
		}
	}
	return "Liste limitée aux activités de la région " + s.RegionCode + ".", nil
}

// WriteCertificatePDF writes the participation certificate of a trainee:
// one A4 page (more when the list is long) in French and Arabic naming the
// trainee, their matricule and establishment, and listing the activities
// they were present at that s may see (prodays.Scope.SeesActivity: a
// supervisor's certificate lists the activities of their region, and
// says so), with date, kind, title and place, read from a cursor. Errors:
// those of CheckCertificate.
func WriteCertificatePDF(ctx context.Context, db *store.DB, w io.Writer, s prodays.Scope, traineeID string, now time.Time) (err error) {
	defer recoverPDF("certificate", &err)
	t, err := loadCertificateTrainee(ctx, db, s, traineeID)
	if err != nil {
		return err
	}
	note, err := scopeNote(ctx, db, s)
	if err != nil {
		return err
	}
	d := newDoc("Attestation de participation", now)
	if err := d.certificate(ctx, db, s, traineeID, t, note, now); err != nil {
		return err
	}
	return d.output(w)
}

// certificate draws the certificate of trainee t (id traineeID) on a new
// page (more when its list is long), listing the activities s may see.
func (d *doc) certificate(ctx context.Context, db *store.DB, s prodays.Scope, traineeID string, t *certificateTrainee, note string, now time.Time) error {
	last, first, estName, city, program := t.last, t.first, t.estName, t.city, t.program
	name := first + " " + last
	full := d.bandedPage()
	d.Ln(6)
	d.font("B", 20)
	d.cell(full, 10, "ATTESTATION DE PARTICIPATION", "", "C", false)
	d.Ln(11)
	d.font("B", 18)
	d.CellFormat(full, 10, PDFTextRTL("شهادة المشاركة"), "", 1, "C", false, 0, "")
	d.font("", 10)
	d.cell(full, 6, "Pro'Days — Journées de l'orientation professionnelle et des métiers", "", "C", false)
	d.Ln(12)

	d.font("", 11)
	d.paragraph(fmt.Sprintf("Nous attestons que %s, stagiaire de l'établissement %s (%s), matricule %s, filière %s, a participé aux activités Pro'Days ci-dessous.",
		name, estName, city, traineeID, program), full, 6, "L", false)
	d.Ln(4)
	d.font("", 12)
	d.paragraph(fmt.Sprintf("نشهد أن المتدرب(ة) %s، رقم التسجيل %s، بمؤسسة التكوين %s، قد شارك(ت) في أنشطة أيام Pro'Days المذكورة أدناه.",
		name, traineeID, estName), full, 7, "R", true)
	d.Ln(6)
	if note != "" {
		d.font("", 9)
		d.paragraph(note, full, 5, "L", false)
		d.Ln(2)
	}

	cols := []column{{"Date", 24, "L"}, {"Activité", 34, "L"}, {"Intitulé", 78, "L"}, {"Lieu", 50, "L"}}
	d.tableHeader(cols)
	sc, sargs := report.ActivityScope(s)
	rows, err := db.Read.QueryContext(ctx, `SELECT a.date, a.kind, a.title, e.name, COALESCE(co.name, '')
		FROM attendance att JOIN activities a ON a.id = att.activity_id
		JOIN establishments e ON e.code = a.establishment_code LEFT JOIN companies co ON co.id = a.company_id
		WHERE att.person_kind = 'trainee' AND att.person_id = ? AND att.present = 1 AND `+sc+`
		ORDER BY a.date, a.start_time, a.id`, append([]any{traineeID}, sargs...)...)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var date, kind, title, est, company string
		if err := rows.Scan(&date, &kind, &title, &est, &company); err != nil {
			return fmt.Errorf("certificate: %w", err)
		}
		n++
		a := SheetActivity{Activity: prodays.Activity{Kind: kind}}
		place := est
		if company != "" {
			place = company
		}
		t, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return fmt.Errorf("certificate: activity %q date: %w", title, err)
		}
		d.tableRowWrapped(cols, t.Format("02/01/2006"), a.KindLabel(), title, place)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	if n == 0 {
		d.tableRow(cols, "", "", "Aucune participation enregistrée.", "")
	}
	d.Ln(4)
	d.font("", 10)
	d.cell(full, 6, fmt.Sprintf("Total : %d activité(s).", n), "", "L", false)
	d.Ln(14)
	d.needs(30)
	d.cell(full, 6, fmt.Sprintf("Fait à %s, le %s.", city, now.In(Casablanca).Format("02/01/2006")), "", "R", false)
	d.Ln(7)
	d.font("B", 10)
	d.cell(full, 6, "Le directeur de l'établissement", "", "R", false)
	d.Ln(6)
	d.CellFormat(full, 6, PDFTextRTL("مدير المؤسسة"), "", 1, "R", false, 0, "")
	return nil
}
