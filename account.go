package prodays

import "time"

// Account is a user as the admin API shows it: the account, its scope
// version (bumped on every change of role or scope, which ends the user's
// access tokens and asks its phones to resync) and its last change.
type Account struct {
	User
	ScopeVersion int64     `json:"scope_version"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// UserChange is a change of an account; nil fields keep their value.
// Changing the role to supervisor or admin drops the establishment, to
// admin the region too, unless given; a staff user's region is always
// its establishment's.
type UserChange struct {
	FullName          *string
	Role              *string
	EstablishmentCode *string
	RegionCode        *string
	Disabled          *bool
}

// Device is a phone or browser that logged in, as the admin API shows it:
// who uses it, when it was first and last seen, its last push, app
// version, clock offset (milliseconds, server minus phone) and outbox
// size as it last reported them, and its revocation.
type Device struct {
	ID            string     `json:"device_id"`
	Username      string     `json:"username"`
	FirstSeenAt   time.Time  `json:"first_seen_at"`
	LastSeenAt    time.Time  `json:"last_seen_at"`
	LastPushAt    *time.Time `json:"last_push_at,omitempty"`
	AppVersion    string     `json:"app_version"`
	ClockOffsetMS int64      `json:"clock_offset_ms"`
	ClockSkewed   bool       `json:"clock_skewed"`
	OutboxSize    int64      `json:"outbox_size"`
	UserAgent     string     `json:"user_agent"`
	LastAddress   string     `json:"last_address"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedBy     string     `json:"revoked_by,omitempty"`
}

// EditionChange is a change of an edition; nil fields keep their value.
// Dates are YYYY-MM-DD.
type EditionChange struct {
	Name      *string
	Theme     *string
	StartDate *string
	EndDate   *string
}

// CheckRole returns EInvalid naming field unless role is staff,
// supervisor or admin.
func CheckRole(field, role string) error {
	switch role {
	case RoleStaff, RoleSupervisor, RoleAdmin:
		return nil
	}
	return Errorf(EInvalid, "%s: one of staff, supervisor, admin.", field)
}

// OpsStats are the figures an operator watches, computed on demand (the
// /metrics scrape): sizes in bytes, counts of rows.
type OpsStats struct {
	FileBytes int64 // the database file
	WALBytes  int64 // its write-ahead log (0 when absent)
	// LastBackup is the start of the last successful Backup (zero: none).
	LastBackup time.Time
	// DevicesLastHour counts devices whose last_seen_at is within the hour
	// before now.
	DevicesLastHour int64
	OpenFlags       int64 // flags waiting for a supervisor
	Quarantined     int64 // rejected mutations kept in the quarantine
}
