// Package review holds the read models of the supervisors' review: what
// the review console lists (flags, conflicts, quarantined mutations, merge
// proposals, devices, the activities of a day). It imports no driver: the
// engine (sync/engine) fills them, the HTTP API renders them.
package review

import (
	"encoding/json"
)

// Flag is an open (or decided) flag as the review console shows it.
type Flag struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	MutationID string          `json:"mutation_id,omitempty"`
	ActivityID string          `json:"activity_id,omitempty"`
	DeviceID   string          `json:"device_id,omitempty"`
	RegionCode string          `json:"region_code,omitempty"`
	Detail     json.RawMessage `json:"detail"`
	Status     string          `json:"status"`
	CreatedAt  string          `json:"created_at"`
	Payload    json.RawMessage `json:"payload,omitempty"`
	// PersonName is the "last first" name of the trainee or speaker the
	// flagged mutation names; StaffName the full name of the device's
	// user ("" when unknown).
	PersonName string `json:"person_name,omitempty"`
	StaffName  string `json:"staff_name,omitempty"`
}

// Conflict is a recorded conflict of a trainee field.
type Conflict struct {
	ID               int64  `json:"id"`
	TraineeID        string `json:"trainee_id"`
	Field            string `json:"field"`
	BaseVersion      int64  `json:"base_version"`
	WinnerMutationID string `json:"winner_mutation_id"`
	WinnerValue      string `json:"winner_value"`
	LoserMutationID  string `json:"loser_mutation_id"`
	LoserValue       string `json:"loser_value"`
	RegionCode       string `json:"region_code,omitempty"`
	Status           string `json:"status"`
	CreatedAt        string `json:"created_at"`
	// What each phone said and when: the device and the phone's clock of
	// the winning and the losing write.
	WinnerDeviceID   string `json:"winner_device_id,omitempty"`
	WinnerRecordedAt string `json:"winner_recorded_at,omitempty"`
	LoserDeviceID    string `json:"loser_device_id,omitempty"`
	LoserRecordedAt  string `json:"loser_recorded_at,omitempty"`
	// TraineeName is the trainee's "last first" name; WinnerStaffName and
	// LoserStaffName the full names of both devices' users.
	TraineeName     string `json:"trainee_name,omitempty"`
	WinnerStaffName string `json:"winner_staff_name,omitempty"`
	LoserStaffName  string `json:"loser_staff_name,omitempty"`
}

// QuarantinedMutation is a rejected mutation with its payload and reason.
type QuarantinedMutation struct {
	ID         string          `json:"id"`
	DeviceID   string          `json:"device_id"`
	Username   string          `json:"username"`
	Seq        int64           `json:"seq"`
	Type       string          `json:"type"`
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	ReceivedAt string          `json:"received_at"`
	Payload    json.RawMessage `json:"payload"`
	// Decision is empty while the mutation waits for review, else
	// "acknowledged" or "counted_present" (ResolveQuarantined), with who,
	// when and why.
	Decision       string `json:"decision,omitempty"`
	DecidedBy      string `json:"decided_by,omitempty"`
	DecidedAt      string `json:"decided_at,omitempty"`
	DecisionReason string `json:"decision_reason,omitempty"`
	// PersonName is the "last first" name of the person the mutation
	// names; StaffName the pushing user's full name.
	PersonName string `json:"person_name,omitempty"`
	StaffName  string `json:"staff_name,omitempty"`
}

// MergeProposal proposes merging walk-in WalkInID into CandidateID.
type MergeProposal struct {
	ID          int64  `json:"id"`
	WalkInID    string `json:"walk_in_id"`
	CandidateID string `json:"candidate_id"`
	Reason      string `json:"reason"`
	RegionCode  string `json:"region_code,omitempty"`
	Status      string `json:"status"`
	CreatedAt   string `json:"created_at"`
	// WalkInName and CandidateName are "last first" of both trainees.
	WalkInName    string `json:"walk_in_name,omitempty"`
	CandidateName string `json:"candidate_name,omitempty"`
	// WalkIn and Candidate tell both apart: establishment, programme, group.
	WalkIn    TraineeFacts `json:"walk_in"`
	Candidate TraineeFacts `json:"candidate"`
}

// Device is a phone as the supervisors' console shows it: user, last sync,
// outbox size, app version, clock offset and skew mark, the highest seq
// received and the gaps below it (mutations lost on the phone).
type Device struct {
	ID       string `json:"device_id"`
	Username string `json:"username"`
	// RegionCode is the owner's region (a staff user's: their
	// establishment's); Role the owner's role.
	RegionCode    string `json:"region_code"`
	Role          string `json:"role"`
	LastSeenAt    string `json:"last_seen_at"`
	LastPushAt    string `json:"last_push_at,omitempty"`
	AppVersion    string `json:"app_version"`
	ClockOffsetMS int64  `json:"clock_offset_ms"`
	ClockSkewed   bool   `json:"clock_skewed"`
	// OutboxSize is what the phone still held after its last push (the
	// push's outbox_size minus its batch): 0 once it sent everything.
	OutboxSize int64      `json:"outbox_size"`
	MaxSeq     int64      `json:"max_seq"`
	SeqGaps    [][2]int64 `json:"seq_gaps"`
	Revoked    bool       `json:"revoked"`
	// SkewAcknowledgedAt/By: a supervisor acknowledged the skew mark
	// (AcknowledgeSkew); the device leaves the review queue.
	SkewAcknowledgedAt string `json:"skew_acknowledged_at,omitempty"`
	SkewAcknowledgedBy string `json:"skew_acknowledged_by,omitempty"`
	// SyncedToday: the device pushed today (Africa/Casablanca).
	SyncedToday bool `json:"synced_today"`
	// Attention lists what needs a look, most urgent first (Attention*
	// constants); empty when nothing does or the device is revoked.
	Attention []string `json:"attention"`
}

// ActivityOfDay is one row of the review's activities of a day: an
// activity with its capacity, the trainees present, its status and
// sign-off (closed_at RFC 3339 UTC as stored), and its open flags.
type ActivityOfDay struct {
	ID                string `json:"activity_id"`
	Kind              string `json:"kind"`
	Title             string `json:"title"`
	Date              string `json:"date"`
	StartTime         string `json:"start_time"`
	EndTime           string `json:"end_time"`
	EstablishmentCode string `json:"establishment_code"`
	RegionCode        string `json:"region_code"`
	Capacity          int    `json:"capacity"`
	Present           int    `json:"present"`
	Status            string `json:"status"`
	ClosedAt          string `json:"closed_at,omitempty"`
	ClosedBy          string `json:"closed_by,omitempty"`
	CloseReason       string `json:"close_reason,omitempty"`
	OpenFlags         int    `json:"open_flags"`
	// PendingMerges counts the open merge proposals of its people: with
	// OpenFlags, what a close without a reason is refused for.
	PendingMerges int `json:"pending_merges"`
}

// TraineeFacts is what tells two trainees apart on a merge card: name,
// establishment (code and name), programme and group. Empty strings when
// the trainee is unknown.
type TraineeFacts struct {
	Name              string `json:"name"`
	EstablishmentCode string `json:"establishment_code"`
	EstablishmentName string `json:"establishment_name"`
	Program           string `json:"program"`
	Group             string `json:"group"`
}

// ActivityNames are the names a console shows beside an activity's codes.
type ActivityNames struct {
	EstablishmentName string `json:"establishment_name"`
	CompanyID         string `json:"company_id,omitempty"`
	CompanyName       string `json:"company_name,omitempty"`
}

// NamedActivity is an activity of a day with the names a console shows.
type NamedActivity struct {
	ActivityOfDay
	ActivityNames
}
