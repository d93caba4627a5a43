package api

import (
	"context"
	"io"
	"time"

	"prodays"
	"prodays/sync/protocol"
	"prodays/sync/review"
)

// The services the handlers call, declared here where they are used so
// that the HTTP adapter imports no driver (api/layering_test.go). main
// builds the concrete ones on the SQLite store (server/serve.go):
// *store.DB is a Store, *engine.Engine a SyncEngine, *auth.Service an
// Authenticator, export.Documents the Documents and importer.Service the
// Importer. Errors are *prodays.Error with the codes each method's
// implementation documents; anything else is internal.

// Store holds the accounts, devices, editions, the audit log and the
// personal data of trainees (store/).
type Store interface {
	ListUsers(ctx context.Context) ([]*prodays.User, error)
	GetAccount(ctx context.Context, username string) (*prodays.Account, error)
	CreateUser(ctx context.Context, u prodays.User, passwordHash, by string) (*prodays.User, error)
	UpdateUser(ctx context.Context, username string, ch prodays.UserChange) (*prodays.Account, error)
	SetPassword(ctx context.Context, username, passwordHash, by string) error
	ListDevices(ctx context.Context, username string) ([]*prodays.Device, error)
	RevokeDevice(ctx context.Context, id string) (*prodays.Device, error)
	ListEditions(ctx context.Context) ([]*prodays.Edition, error)
	CreateEdition(ctx context.Context, ch prodays.EditionChange) (*prodays.Edition, error)
	UpdateEdition(ctx context.Context, id int64, ch prodays.EditionChange) (*prodays.Edition, error)
	AddAudit(ctx context.Context, e prodays.AuditEntry) error
	ListAudit(ctx context.Context, f prodays.AuditFilter) ([]prodays.AuditEntry, error)
	ExportTrainee(ctx context.Context, id string) (*prodays.TraineeExport, error)
	EraseTrainee(ctx context.Context, id, reason string) (*prodays.Erasure, error)
	// SchemaVersion returns the applied and the latest migration (readyz).
	SchemaVersion(ctx context.Context) (current, latest int64, err error)
	// OpsStats gives the figures of /metrics (metrics.Source).
	OpsStats(ctx context.Context) (prodays.OpsStats, error)
}

// SyncEngine runs push, pull and the review on the store (sync/engine;
// the sync protocol's Push and Pull sections).
type SyncEngine interface {
	Push(ctx context.Context, p *prodays.Principal, req *protocol.PushRequest) (*protocol.PushResponse, error)
	Pull(ctx context.Context, p *prodays.Principal, cursor string, limit int) (*protocol.PullResponse, error)
	ListFlags(ctx context.Context, p *prodays.Principal, status string) ([]review.Flag, error)
	ListConflicts(ctx context.Context, p *prodays.Principal, status string) ([]review.Conflict, error)
	ListQuarantine(ctx context.Context, p *prodays.Principal, all bool) ([]review.QuarantinedMutation, error)
	ListProposals(ctx context.Context, p *prodays.Principal, status string) ([]review.MergeProposal, error)
	ListDevices(ctx context.Context, p *prodays.Principal) ([]review.Device, error)
	ActivitiesOfDay(ctx context.Context, p *prodays.Principal, date string) ([]review.ActivityOfDay, error)
	// ActivityDays lists the dates with an activity p sees;
	// NamedActivitiesOfDay is ActivitiesOfDay with the names a console shows.
	ActivityDays(ctx context.Context, p *prodays.Principal) ([]string, error)
	NamedActivitiesOfDay(ctx context.Context, p *prodays.Principal, date string) ([]review.NamedActivity, error)
	DeviceOwner(ctx context.Context, deviceID string) (*prodays.Principal, error)
	DecideFlag(ctx context.Context, p *prodays.Principal, id int64, accept bool, reason string) error
	DecideConflict(ctx context.Context, p *prodays.Principal, id int64, confirm bool, reason string) error
	DecideProposal(ctx context.Context, p *prodays.Principal, id int64, merge bool, reason string) error
	ResolveQuarantined(ctx context.Context, p *prodays.Principal, id, action, reason string) error
	AcknowledgeSkew(ctx context.Context, p *prodays.Principal, id, reason string) error
	Close(ctx context.Context, p *prodays.Principal, id, reason string) error
	Reopen(ctx context.Context, p *prodays.Principal, id, reason string) error
	Override(ctx context.Context, p *prodays.Principal, activityID string, person protocol.Person, present bool, reason string) error
	// Devices answers "is every phone synced?" for p's region (issue #18).
	Devices(ctx context.Context, p *prodays.Principal, q review.DeviceQuery) (*review.DeviceList, error)
	// UploadOutbox applies a phone's saved outbox file on its owner's
	// behalf, with the device's last known clock offset or none.
	UploadOutbox(ctx context.Context, p *prodays.Principal, req *protocol.PushRequest) (*protocol.PushResponse, review.UploadClock, error)
	ReviewQueue(ctx context.Context, p *prodays.Principal, q review.ReviewQuery) (*review.ReviewPage, error)
	DecideItems(ctx context.Context, p *prodays.Principal, refs []string, q review.ReviewQuery, action, reason string) (*review.BulkResult, error)
	AttachTrainee(ctx context.Context, p *prodays.Principal, mutationID, traineeID, reason string) error
	// SearchTrainees finds trainees of p's region by matricule or name.
	SearchTrainees(ctx context.Context, p *prodays.Principal, q string, limit int) ([]review.TraineeHit, error)
}

// Authenticator logs users in and out, rotates refresh tokens, verifies
// access tokens and hashes new passwords (auth/).
type Authenticator interface {
	Login(ctx context.Context, username, password string, dev prodays.DeviceLogin, cl prodays.Client) (*prodays.Session, error)
	Refresh(ctx context.Context, refreshToken string, cl prodays.Client) (*prodays.Session, error)
	Logout(ctx context.Context, refreshToken string, p *prodays.Principal, cl prodays.Client) error
	VerifyAccess(ctx context.Context, accessToken string) (*prodays.Principal, error)
	// HashNewPassword checks a new password's rules (EInvalid naming
	// "password") and returns its encoded hash.
	HashNewPassword(password string) (string, error)
}

// Documents computes the bilan and writes the exported documents, each
// restricted by its filter's scope (report/, export/).
type Documents interface {
	Bilan(ctx context.Context, f prodays.BilanFilter) (*prodays.Figures, error)
	LoadEdition(ctx context.Context, id int64) (*prodays.Edition, error)
	CheckRegion(ctx context.Context, code string) error
	// CertificateTrainees lists the trainees of a batch of certificates
	// (export.CertificateTrainees); WriteCertificatesPDF writes them in one
	// PDF; ListChoices is what the exports screen's pickers offer.
	CertificateTrainees(ctx context.Context, f prodays.CertificateFilter) ([]string, error)
	WriteCertificatesPDF(ctx context.Context, w io.Writer, s prodays.Scope, ids []string, now time.Time) error
	ListChoices(ctx context.Context, s prodays.Scope) (*prodays.Choices, error)
	// WriteDevicesCSV writes the supervisors' devices list as CSV (stable
	// machine headers, RFC 4180).
	WriteDevicesCSV(w io.Writer, ds []review.Device) error
	WriteParticipationsCSV(ctx context.Context, w io.Writer, f prodays.ExportFilter, sep rune) (int, error)
	WriteParticipationsXLSX(ctx context.Context, w io.Writer, f prodays.ExportFilter) (int, error)
	// CheckSheet fails as the attendance sheets of f would, before
	// anything is written (ENotFound, EForbidden).
	CheckSheet(ctx context.Context, f prodays.ExportFilter) error
	WriteAttendancePDF(ctx context.Context, w io.Writer, f prodays.ExportFilter, now time.Time) error
	WriteAttendanceXLSX(ctx context.Context, w io.Writer, f prodays.ExportFilter) error
	CheckBadges(ctx context.Context, f prodays.BadgeFilter) (string, error)
	WriteBadgesPDF(ctx context.Context, w io.Writer, f prodays.BadgeFilter, now time.Time) error
	CheckCertificate(ctx context.Context, s prodays.Scope, traineeID string) error
	WriteCertificatePDF(ctx context.Context, w io.Writer, s prodays.Scope, traineeID string, now time.Time) error
	WriteBilanPDF(ctx context.Context, w io.Writer, b *prodays.Figures, now time.Time) error
	WriteBilanXLSX(ctx context.Context, w io.Writer, b *prodays.Figures) error
}

// Importer imports one of the office's files (importer/).
type Importer interface {
	// Kinds lists the kinds of import file, in dependency order.
	Kinds() []string
	Import(ctx context.Context, r io.Reader, name, kind string, opts prodays.ImportOptions) (*prodays.ImportReport, error)
}
