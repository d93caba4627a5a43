package export

import (
	"context"
	"fmt"
	"io"
	"time"

	"prodays"
	"prodays/report"
	"prodays/store"
)

// CertificateFilter is prodays.CertificateFilter.
type CertificateFilter = prodays.CertificateFilter

// CertificateTrainees lists, in group and name order, the ids of the
// trainees f selects who were present at one activity at least that
// f.Scope sees. Errors: invalid without an establishment or an activity
// (or with a group but no establishment), not_found for an unknown
// establishment or activity and for a selection without anyone,
// forbidden for an establishment or activity outside the scope.
func CertificateTrainees(ctx context.Context, db *store.DB, f CertificateFilter) ([]string, error) {
	ts, targs := report.TraineeScope(f.Scope)
	as, aargs := report.ActivityScope(f.Scope)
	var q string
	var args []any
	switch {
	case f.ActivityID != "":
		if err := checkActivity(ctx, db, f.Scope, f.ActivityID); err != nil {
			return nil, err
		}
		q = `SELECT t.id FROM attendance att JOIN trainees t ON t.id = att.person_id AND t.deleted = 0
			JOIN establishments e ON e.code = t.establishment_code
			WHERE att.activity_id = ? AND att.person_kind = 'trainee' AND att.present = 1
			AND (? = '' OR t.group_name = ?) AND ` + ts + `
			ORDER BY t.group_name, t.last_name, t.first_name, t.id`
		args = append([]any{f.ActivityID, f.Group, f.Group}, targs...)
	case f.EstablishmentCode != "":
		if _, err := CheckBadges(ctx, db, BadgeFilter{Scope: f.Scope, EstablishmentCode: f.EstablishmentCode}); err != nil {
			return nil, err
		}
		q = `SELECT t.id FROM trainees t JOIN establishments e ON e.code = t.establishment_code
			WHERE t.establishment_code = ? AND t.deleted = 0 AND (? = '' OR t.group_name = ?) AND ` + ts + `
			AND EXISTS (SELECT 1 FROM attendance att JOIN activities a ON a.id = att.activity_id
				WHERE att.person_kind = 'trainee' AND att.person_id = t.id AND att.present = 1 AND ` + as + `)
			ORDER BY t.group_name, t.last_name, t.first_name, t.id`
		args = append(append([]any{f.EstablishmentCode, f.Group, f.Group}, targs...), aargs...)
	default:
		return nil, prodays.Errorf(prodays.EInvalid, "Give establishment (and optionally group), or activity.")
	}
	rows, err := db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	if len(ids) == 0 {
		return nil, prodays.Errorf(prodays.ENotFound, "Nobody with a participation in this selection.")
	}
	return ids, nil
}

// WriteCertificatesPDF writes one PDF holding the certificate (as
// WriteCertificatePDF, each starting on its own page) of every trainee of
// ids, from CertificateTrainees. Errors: those of WriteCertificatePDF.
func WriteCertificatesPDF(ctx context.Context, db *store.DB, w io.Writer, s prodays.Scope, ids []string, now time.Time) (err error) {
	defer recoverPDF("certificates", &err)
	note, err := scopeNote(ctx, db, s)
	if err != nil {
		return err
	}
	d := newDoc("Attestations de participation", now)
	for _, id := range ids {
		t, err := loadCertificateTrainee(ctx, db, s, id)
		if err != nil {
			return err
		}
		if err := d.certificate(ctx, db, s, id, t, note, now); err != nil {
			return err
		}
	}
	return d.output(w)
}
