package review

import "time"

// What needs attention on a device (Device.Attention), most urgent first.
const (
	// AttentionPending: the phone still held mutations after its last push.
	AttentionPending = "pending"
	// AttentionGaps: seqs below the device's max_seq never arrived.
	AttentionGaps = "gaps"
	// AttentionNotSeen: not seen since DeviceQuery.NotSeenSince.
	AttentionNotSeen = "not_seen"
	// AttentionNotSyncedToday: a staff phone with no push today
	// (Africa/Casablanca); the consoles' browsers do not push.
	AttentionNotSyncedToday = "not_synced_today"
)

// Sort orders of Devices (DeviceQuery.Sort).
const (
	DeviceSortUser      = "user"      // by username, then device id (default)
	DeviceSortAttention = "attention" // what needs attention first
)

// DeviceQuery narrows and orders Devices. The zero value lists the
// caller's region by username.
type DeviceQuery struct {
	// Region: an admin's choice ("" all regions); a supervisor may only
	// name their own (forbidden otherwise).
	Region string
	// Sort is DeviceSortUser or DeviceSortAttention.
	Sort string
	// NotSeenSince, when not zero, marks devices whose last_seen_at is
	// before it (AttentionNotSeen).
	NotSeenSince time.Time
}

// DeviceSummary counts a device list (revoked devices are not counted).
type DeviceSummary struct {
	Total       int `json:"total"`
	SyncedToday int `json:"synced_today"`
	Pending     int `json:"pending"`
	Gaps        int `json:"gaps"`
	NotSeen     int `json:"not_seen"`
}

// DeviceList is the answer of Devices: Date is today in Africa/Casablanca
// (what synced_today means).
type DeviceList struct {
	Date    string        `json:"date"`
	Summary DeviceSummary `json:"summary"`
	Devices []Device      `json:"devices"`
}

// ReviewQuery filters and pages the review queue (ReviewQueue). Empty
// fields filter nothing.
type ReviewQuery struct {
	// Kinds keeps items of these kinds: a flag's kind (late,
	// out_of_window, awaiting_registration) or a refused mutation's code
	// (unknown_trainee, flag_rejected, out_of_scope, …).
	Kinds []string
	// ActivityID, DeviceID, Username (the staff member who pushed) and
	// Day (the activity's date, YYYY-MM-DD) keep the items that match.
	ActivityID, DeviceID, Username, Day string
	// Search keeps the items whose person id starts with it (a matricule)
	// or whose trainee's name contains it (case-insensitive for ASCII).
	Search string
	// After is the Next of the previous page; Limit the page size (1 to
	// MaxReviewPage, default DefaultReviewPage).
	After string
	Limit int
	// Refs keeps the items of these refs (DecideItems).
	Refs []string `json:"-"`
}

// Page sizes of the review queue.
const (
	DefaultReviewPage = 100
	MaxReviewPage     = 500
)

// ReviewItem is one item still to review: an open flag (Ref "flag:ID")
// or a refused mutation not yet decided (Ref "mutation:ID"). Pair is the
// Ref of the item it cancels out with (a refused check-in and the refused
// undo of it by the same device), "" when none: both settle with one
// decision.
type ReviewItem struct {
	Ref          string `json:"ref"`
	Kind         string `json:"kind"`
	ActivityID   string `json:"activity_id"`
	ActivityDate string `json:"activity_date"`
	DeviceID     string `json:"device_id"`
	Username     string `json:"username"`
	PersonID     string `json:"person_id"`
	PersonName   string `json:"person_name"`
	At           string `json:"at"`
	Message      string `json:"message"`
	Pair         string `json:"pair"`
}

// ReviewPage is a page of the review queue: Total items match the filters
// (all pages), Counts per kind match the filters but the kinds; Next,
// when not empty, asks for the following page (the order, by time then
// ref, is stable: a decision or a new item never shifts a later page).
type ReviewPage struct {
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
	Items  []ReviewItem   `json:"items"`
	Next   string         `json:"next"`
}

// Bulk decisions of the review queue (DecideItems).
const (
	// BulkDismiss rejects flags and acknowledges refused mutations.
	BulkDismiss = "dismiss"
	// BulkAccept accepts flags and counts refused check-ins present (a
	// reason is required).
	BulkAccept = "accept"
	// MaxBulkItems caps the items of one bulk decision.
	MaxBulkItems = 1000
)

// BulkResult lists the refs a bulk decision decided (the pairs of the
// selected items included) and those skipped because someone decided
// them since they were listed.
type BulkResult struct {
	Decided []string `json:"decided"`
	Skipped []string `json:"skipped"`
}

// Clock sources of an uploaded outbox file (UploadClock.Source).
const (
	// ClockLastKnownOffset: the device's clock offset measured at its last
	// push corrects the file's recorded_at times.
	ClockLastKnownOffset = "last_known_offset"
	// ClockNone: the device never pushed; recorded_at is taken as is.
	ClockNone = "none"
)

// UploadClock says which clock correction an uploaded outbox file got:
// Source is ClockLastKnownOffset (OffsetMS, in milliseconds, is the
// offset of the device's last push, server minus phone) or ClockNone
// (OffsetMS is 0).
type UploadClock struct {
	Source   string
	OffsetMS int64
}

// TraineeHit is a trainee found by SearchTrainees (attach a mistyped
// matricule to the right trainee).
type TraineeHit struct {
	ID                string `json:"trainee_id"`
	LastName          string `json:"last_name"`
	FirstName         string `json:"first_name"`
	EstablishmentCode string `json:"establishment_code"`
	GroupName         string `json:"group_name"`
	Program           string `json:"program"`
}

// Sizes of a trainee search (SearchTrainees).
const (
	DefaultTraineeHits = 20
	MaxTraineeHits     = 100
)
