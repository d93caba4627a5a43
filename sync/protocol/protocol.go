// Package protocol is the sync protocol v1 (shared/design/sync-protocol.md)
// without storage: the wire types of push and pull, the strict decoding and
// validation of a push body, and the pure merge rules (observed-remove
// presence, per-field last-writer-wins, clock offset, the activity date
// window). It imports no database driver and no web framework, so that the
// rules can be tested and fuzzed alone; the engine (sync/engine) applies
// them to SQLite.
package protocol

import (
	"encoding/json"
	"time"

	"prodays"
)

// Limits of one push (sync protocol, Push): at most MaxMutations mutations
// and MaxBodyBytes bytes after decompression.
const (
	MaxMutations = 1000
	MaxBodyBytes = 2 << 20
)

// MaxInteger is the largest integer a phone's JavaScript counts exactly
// (Number.MAX_SAFE_INTEGER, 2^53−1): the bound of the integers a phone
// sends. A mutation's seq and base_version are 1 to MaxInteger (outside:
// invalid_mutation), a push's outbox_size 0 to MaxInteger (outside: the
// push is invalid).
const MaxInteger = 1<<53 - 1

// Pull page sizes (sync protocol, Pull): limit is 1 to MaxPullLimit,
// DefaultPullLimit when absent.
const (
	DefaultPullLimit = 1000
	MaxPullLimit     = 5000
)

// Mutation types (sync protocol, Mutations).
const (
	TypeCheckIn         = "attendance.check_in"
	TypeUndo            = "attendance.undo"
	TypeTraineeRegister = "trainee.register"
	TypeTraineeUpdate   = "trainee.update"
)

// Result statuses of a mutation (sync protocol, Push).
const (
	StatusApplied   = "applied"
	StatusDuplicate = "duplicate"
	StatusFlagged   = "flagged"
	StatusRejected  = "rejected"
)

// Per-mutation result codes and flag kinds: the registry's (prodays.Codes),
// under the names the engine uses. A flagged mutation carries the flag's
// kind as its code. Their meanings are on the prodays constants.
const (
	CodeInvalidMutation      = prodays.CodeInvalidMutation
	CodeUnknownType          = prodays.CodeUnknownType
	CodeUnknownActivity      = prodays.CodeUnknownActivity
	CodeUnknownTrainee       = prodays.CodeUnknownTrainee
	CodeUnknownSpeaker       = prodays.CodeUnknownSpeaker
	CodeUnknownEstablishment = prodays.CodeUnknownEstablishment
	CodeOutOfScope           = prodays.CodeOutOfScope
	CodeWalkInRefused        = prodays.CodeWalkInRefused
	CodeTraineeExists        = prodays.CodeTraineeExists
	CodeSeqReused            = prodays.CodeSeqReused
	CodeIDReused             = prodays.CodeIDReused
	CodeFlagRejected         = prodays.CodeFlagRejected

	FlagLate                 = prodays.FlagLate
	FlagOutOfWindow          = prodays.FlagOutOfWindow
	FlagAwaitingRegistration = prodays.FlagAwaitingRegistration
)

// Methods of a check-in.
const (
	MethodQR     = "qr"
	MethodSearch = "search"
	MethodManual = "manual"
)

// PushRequest is the body of POST /api/v1/sync/push (sync protocol, Push).
// ClientTime is the phone's clock when it sends; OutboxSize how many
// mutations it still holds, this batch included.
type PushRequest struct {
	DeviceID   string     `json:"device_id"`
	ClientTime time.Time  `json:"client_time"`
	AppVersion string     `json:"app_version"`
	OutboxSize int        `json:"outbox_size"`
	Mutations  []Mutation `json:"mutations"`
}

// Person names who is checked in: Kind is "trainee" or "speaker", ID the
// trainee_id (matricule or walk-in UUID) or speaker_id.
type Person struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// TraineeFields is a trainee as the phone sends it in trainee.register (the
// columns of trainees.csv, with the id under "id").
type TraineeFields struct {
	ID                string `json:"id"`
	LastName          string `json:"last_name"`
	FirstName         string `json:"first_name"`
	EstablishmentCode string `json:"establishment_code"`
	Program           string `json:"program"`
	Group             string `json:"group"`
	Gender            string `json:"gender"`
}

// Mutation is one recorded action of a phone (sync protocol, Mutations).
// The common fields are ID (the idempotency key, a UUID), Seq (the
// device's counter, from 1), Type and RecordedAt (the phone's clock); the
// others belong to one type each:
//
//   - attendance.check_in: ActivityID, Person, Method;
//   - attendance.undo: ActivityID, Person, Undoes (check-in ids);
//   - trainee.register: Trainee;
//   - trainee.update: TraineeID, Fields, BaseVersion.
//
// Raw keeps the mutation as sent (the quarantine payload).
type Mutation struct {
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"`
	Type       string    `json:"type"`
	RecordedAt time.Time `json:"recorded_at"`

	ActivityID string   `json:"activity_id,omitempty"`
	Person     *Person  `json:"person,omitempty"`
	Method     string   `json:"method,omitempty"`
	Undoes     []string `json:"undoes,omitempty"`

	Trainee *TraineeFields `json:"trainee,omitempty"`

	TraineeID   string            `json:"trainee_id,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"`
	BaseVersion *int64            `json:"base_version,omitempty"`

	Raw json.RawMessage `json:"-"`
	// Invalid is set by DecodePush when the mutation cannot be applied: its
	// result is rejected with Invalid.Code (invalid_mutation or
	// unknown_type) and Invalid.Message.
	Invalid *Rejection `json:"-"`
}

// Rejection is why a mutation is refused or held: a stable code and a
// message safe to show on the phone.
type Rejection struct {
	Code    string
	Message string
}

// Result is the outcome of one mutation in a push answer. Outcome is set
// for a duplicate: the status the mutation had the first time (and Code
// its code).
type Result struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Outcome string `json:"outcome,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// PushResponse is the 200 answer of a push. ClockOffsetMS is the offset the
// server applied to the batch (server receipt − client_time).
type PushResponse struct {
	ServerTime    time.Time   `json:"server_time"`
	ClockOffsetMS int64       `json:"clock_offset_ms"`
	Device        DeviceState `json:"device"`
	Results       []Result    `json:"results"`
}

// DeviceState is the device object of push and pull answers (sync
// protocol 1.1, Push): what the server holds of the caller's device. Epoch
// is the database's history epoch (opaque; a new one after every
// restore), MaxSeq the highest seq stored (applied, flagged or rejected; 0
// for none), Gaps the ranges [first, last] (both included, ascending) of
// the seqs below MaxSeq never received, [] when none.
type DeviceState struct {
	Epoch  string     `json:"epoch"`
	MaxSeq int64      `json:"max_seq"`
	Gaps   [][2]int64 `json:"gaps"`
}

// Change is one entry of a pull page: Entity is establishment, activity,
// trainee, speaker, organization, company or attendance; Op upsert (Data
// holds the entity) or delete (a tombstone, no Data).
type Change struct {
	Entity string `json:"entity"`
	Op     string `json:"op"`
	ID     string `json:"id"`
	Data   any    `json:"data,omitempty"`
}

// PullResponse is the answer of GET /api/v1/sync/pull: the page's changes,
// the cursor to send next, and whether more pages follow.
// Device (1.1) is the DeviceState of the token's device.
type PullResponse struct {
	Cursor  string      `json:"cursor"`
	HasMore bool        `json:"has_more"`
	Device  DeviceState `json:"device"`
	Changes []Change    `json:"changes"`
}

// AttendanceID is the pull id of an attendance entity (sync protocol,
// Pull): "activity_id:kind:person_id", e.g. "A-12:trainee:T0042". Phones
// treat it as opaque; the server never parses it (an activity id may
// contain ':'), it only builds it here.
func AttendanceID(activityID, kind, personID string) string {
	return activityID + ":" + kind + ":" + personID
}

// Attendance is the data of an attendance change: the presence of a person
// at an activity with the ids of its surviving check-ins (sync protocol,
// Pull).
type Attendance struct {
	ActivityID  string     `json:"activity_id"`
	Person      Person     `json:"person"`
	Present     bool       `json:"present"`
	CheckedInAt *time.Time `json:"checked_in_at"`
	CheckInIDs  []string   `json:"check_in_ids"`
	Override    string     `json:"override,omitempty"`
}
