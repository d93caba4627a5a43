package export

import (
	"context"
	"io"
	"time"

	"prodays"
	"prodays/report"
	"prodays/store"
)

// Documents is this package's and report's functions on DB, as the
// methods the HTTP API calls (api.Documents); main builds it.
type Documents struct{ DB *store.DB }

// Bilan is report.Bilan on d.DB.
func (d Documents) Bilan(ctx context.Context, f report.Filter) (*report.Figures, error) {
	return report.Bilan(ctx, d.DB, f)
}

// LoadEdition is report.LoadEdition on d.DB.
func (d Documents) LoadEdition(ctx context.Context, id int64) (*prodays.Edition, error) {
	return report.LoadEdition(ctx, d.DB, id)
}

// CheckRegion is report.CheckRegion on d.DB.
func (d Documents) CheckRegion(ctx context.Context, code string) error {
	return report.CheckRegion(ctx, d.DB, code)
}

// WriteParticipationsCSV is WriteParticipationsCSV on d.DB.
func (d Documents) WriteParticipationsCSV(ctx context.Context, w io.Writer, f Filter, sep rune) (int, error) {
	return WriteParticipationsCSV(ctx, d.DB, w, f, sep)
}

// WriteParticipationsXLSX is WriteParticipationsXLSX on d.DB.
func (d Documents) WriteParticipationsXLSX(ctx context.Context, w io.Writer, f Filter) (int, error) {
	return WriteParticipationsXLSX(ctx, d.DB, w, f)
}

// CheckSheet returns SheetActivities' error on d.DB.
func (d Documents) CheckSheet(ctx context.Context, f Filter) error {
	_, err := SheetActivities(ctx, d.DB, f)
	return err
}

// WriteAttendancePDF is WriteAttendancePDF on d.DB.
func (d Documents) WriteAttendancePDF(ctx context.Context, w io.Writer, f Filter, now time.Time) error {
	return WriteAttendancePDF(ctx, d.DB, w, f, now)
}

// WriteAttendanceXLSX is WriteAttendanceXLSX on d.DB.
func (d Documents) WriteAttendanceXLSX(ctx context.Context, w io.Writer, f Filter) error {
	return WriteAttendanceXLSX(ctx, d.DB, w, f)
}

// CheckBadges is CheckBadges on d.DB.
func (d Documents) CheckBadges(ctx context.Context, f BadgeFilter) (string, error) {
	return CheckBadges(ctx, d.DB, f)
}

// WriteBadgesPDF is WriteBadgesPDF on d.DB.
func (d Documents) WriteBadgesPDF(ctx context.Context, w io.Writer, f BadgeFilter, now time.Time) error {
	return WriteBadgesPDF(ctx, d.DB, w, f, now)
}

// CheckCertificate is CheckCertificate on d.DB.
func (d Documents) CheckCertificate(ctx context.Context, s prodays.Scope, traineeID string) error {
	return CheckCertificate(ctx, d.DB, s, traineeID)
}

// WriteCertificatePDF is WriteCertificatePDF on d.DB.
func (d Documents) WriteCertificatePDF(ctx context.Context, w io.Writer, s prodays.Scope, traineeID string, now time.Time) error {
	return WriteCertificatePDF(ctx, d.DB, w, s, traineeID, now)
}

// WriteBilanPDF is WriteBilanPDF on d.DB.
func (d Documents) WriteBilanPDF(ctx context.Context, w io.Writer, b *report.Figures, now time.Time) error {
	return WriteBilanPDF(ctx, d.DB, w, b, now)
}

// WriteBilanXLSX is WriteBilanXLSX on d.DB.
func (d Documents) WriteBilanXLSX(ctx context.Context, w io.Writer, b *report.Figures) error {
	return WriteBilanXLSX(ctx, d.DB, w, b)
}

// CertificateTrainees is CertificateTrainees on d.DB.
func (d Documents) CertificateTrainees(ctx context.Context, f CertificateFilter) ([]string, error) {
	return CertificateTrainees(ctx, d.DB, f)
}

// WriteCertificatesPDF is WriteCertificatesPDF on d.DB.
func (d Documents) WriteCertificatesPDF(ctx context.Context, w io.Writer, s prodays.Scope, ids []string, now time.Time) error {
	return WriteCertificatesPDF(ctx, d.DB, w, s, ids, now)
}

// ListChoices is ListChoices on d.DB.
func (d Documents) ListChoices(ctx context.Context, s prodays.Scope) (*Choices, error) {
	return ListChoices(ctx, d.DB, s)
}
