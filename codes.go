package prodays

import "slices"

// Problem codes: the stable code of an *Error, sent as the "code" of an
// application/problem+json answer. Clients and tests match on them; the
// registry (Codes) gives each its HTTP status.
const (
	// EInvalid: the request is malformed or breaks a rule (400).
	EInvalid = "invalid"
	// EUnauthorized: no valid access token (401).
	EUnauthorized = "unauthorized"
	// EForbidden: the caller's role or scope does not allow it (403).
	EForbidden = "forbidden"
	// ENotFound: no such resource (404).
	ENotFound = "not_found"
	// EMethodNotAllowed: the route exists for other methods, or a
	// cross-origin write (405).
	EMethodNotAllowed = "method_not_allowed"
	// EConflict: the change contradicts the stored state (409).
	EConflict = "conflict"
	// ETooLarge: a body or a batch over its limits, given in Detail (413).
	ETooLarge = "too_large"
	// EUnsupported: a body of a media type the route does not read (415).
	EUnsupported = "unsupported_media_type"
	// ETooManyRequest: the caller is throttled; Detail "retry_after" in
	// seconds (429).
	ETooManyRequest = "too_many_requests"
	// EInternal: anything else; logged with its cause, never shown (500).
	EInternal = "internal"
	// EUnavailable: the server sheds load; Detail "retry_after" in
	// seconds (503).
	EUnavailable = "unavailable"

	// EInvalidCredentials: a login with an unknown user, a wrong or unset
	// password, or a disabled account (401).
	EInvalidCredentials = "invalid_credentials"
	// ERefreshInvalid: a refresh token that is unknown, spent, revoked or
	// expired (401).
	ERefreshInvalid = "refresh_invalid"
	// EDeviceRevoked: the device was revoked by an administrator (401).
	EDeviceRevoked = "device_revoked"
	// EUserDisabled: the account is disabled (401).
	EUserDisabled = "user_disabled"
	// EDeviceTaken: a login names a device id bound to another installation,
	// without its device_secret or with a wrong one (sync protocol 1.1,
	// "Device binding") (403).
	EDeviceTaken = "device_taken"
	// EDeviceMismatch: a push whose device_id is not the device of the
	// caller's token (403).
	EDeviceMismatch = "device_mismatch"
	// EResync: a pull whose cursor was issued for another scope or history
	// epoch; the phone pulls a fresh snapshot, keeping its outbox (409).
	EResync = "resync"
	// EReviewPending: an activity with open flags or pending merge
	// proposals of its people cannot be closed without a reason; Detail
	// "open_flags", "pending_merges" (409).
	EReviewPending = "review_pending"
	// EAlreadyDecided: the flag, conflict or proposal was decided (409).
	EAlreadyDecided = "already_decided"
	// EImportInvalid: an import refused because of errors in its files;
	// Detail "errors" and "warnings" hold the issues (422).
	EImportInvalid = "import_invalid"
)

// Per-mutation codes of push results (sync protocol, "Codes"): the code of
// a rejected mutation, or the flag kind of a flagged one. They never make
// an HTTP answer of their own; phones show them and match on them.
const (
	// CodeInvalidMutation: the mutation is malformed (missing or bad field,
	// unknown field, bad UUID, bad time, seq or base_version outside 1 to
	// the protocol's MaxInteger, a text field refused by CheckText).
	CodeInvalidMutation = "invalid_mutation"
	// CodeUnknownType: the server does not know the mutation's type.
	CodeUnknownType = "unknown_type"
	// CodeUnknownActivity: no activity with that activity_id.
	CodeUnknownActivity = "unknown_activity"
	// CodeUnknownTrainee: no trainee with that matricule (a walk-in's UUID
	// is held instead, see FlagAwaitingRegistration).
	CodeUnknownTrainee = "unknown_trainee"
	// CodeUnknownSpeaker: no speaker with that speaker_id.
	CodeUnknownSpeaker = "unknown_speaker"
	// CodeUnknownEstablishment: a walk-in names an unknown establishment.
	CodeUnknownEstablishment = "unknown_establishment"
	// CodeOutOfScope: the activity or trainee is outside the user's scope.
	CodeOutOfScope = "out_of_scope"
	// CodeWalkInRefused: a walk-in registration outside the user's scope,
	// and every mutation naming it.
	CodeWalkInRefused = "walk_in_refused"
	// CodeTraineeExists: a trainee.register names an id already taken.
	CodeTraineeExists = "trainee_exists"
	// CodeSeqReused: the device already sent another mutation with this seq.
	CodeSeqReused = "seq_reused"
	// CodeIDReused: the mutation's id was first used by another device; it
	// is refused (never a duplicate of that device's mutation) and kept in
	// quarantine.
	CodeIDReused = "id_reused"
	// CodeFlagRejected: a supervisor rejected the flagged mutation.
	CodeFlagRejected = "flag_rejected"

	// FlagLate: a check-in or undo for a closed activity.
	FlagLate = "late"
	// FlagOutOfWindow: a check-in whose occurred_at is outside the
	// activity's date ± 1 day (Casablanca days).
	FlagOutOfWindow = "out_of_window"
	// FlagAwaitingRegistration: a check-in of a walk-in whose
	// trainee.register has not arrived yet; applied when it does.
	FlagAwaitingRegistration = "awaiting_registration"
)

// Import issue codes: the kind of one error of an import file (an Issue
// of the importer, in the "errors" of an import_invalid answer or of an
// import's report). They never make an HTTP answer of their own; the admin
// screens translate them.
const (
	// IssueRequired: a required value or column is missing.
	IssueRequired = "import_required"
	// IssueInvalidValue: a value of the wrong form (a date, a time, a
	// matricule, a number, a choice, a text refused by CheckText).
	IssueInvalidValue = "import_invalid_value"
	// IssueUnknown: a reference to something neither in the database nor
	// in the import (an establishment, a region, a company, a speaker…).
	IssueUnknown = "import_unknown"
	// IssueDuplicate: an id or a column given twice.
	IssueDuplicate = "import_duplicate"
	// IssueFieldCount: a row with more or fewer fields than the header.
	IssueFieldCount = "import_field_count"
)

// CodeInfo is one entry of the registry of codes.
type CodeInfo struct {
	// Code is the string on the wire: the "code" of a problem+json body or
	// of a push result.
	Code string
	// Status is the HTTP status of a problem+json answer with this code
	// (400 to 599), or 0 for a per-mutation code of push results, which
	// never makes an HTTP answer.
	Status int
	// Result is the push result status a per-mutation code goes with:
	// "rejected", or "flagged" for a flag kind; "issue" for an import
	// issue code; "" for a problem code.
	Result string
	// Phone reports whether the phone's own requests (login, refresh,
	// push, pull) can receive the code. Every code of the sync protocol's
	// codes table is one.
	Phone bool
}

const (
	rejected = "rejected" // protocol.StatusRejected
	flagged  = "flagged"  // protocol.StatusFlagged
	issue    = "issue"    // an import issue (importer.Issue)
)

// codes is the registry: every code the server sends, once, with its HTTP
// status (RFC 9110 numbers; this package imports no net/http). The error
// writer of the API, the OpenAPI test and the web app's translation test
// iterate it, so a code missing here fails a test.
var codes = []CodeInfo{
	{Code: EInvalid, Status: 400, Phone: true},
	{Code: EUnauthorized, Status: 401, Phone: true},
	{Code: EInvalidCredentials, Status: 401, Phone: true},
	{Code: ERefreshInvalid, Status: 401, Phone: true},
	{Code: EDeviceRevoked, Status: 401, Phone: true},
	{Code: EUserDisabled, Status: 401, Phone: true},
	{Code: EForbidden, Status: 403, Phone: true},
	{Code: EDeviceTaken, Status: 403, Phone: true},
	{Code: EDeviceMismatch, Status: 403, Phone: true},
	{Code: ENotFound, Status: 404},
	{Code: EMethodNotAllowed, Status: 405},
	{Code: EConflict, Status: 409},
	{Code: EResync, Status: 409, Phone: true},
	{Code: EReviewPending, Status: 409},
	{Code: EAlreadyDecided, Status: 409},
	{Code: ETooLarge, Status: 413, Phone: true},
	{Code: EUnsupported, Status: 415, Phone: true},
	{Code: EImportInvalid, Status: 422},
	{Code: ETooManyRequest, Status: 429, Phone: true},
	{Code: EInternal, Status: 500, Phone: true},
	{Code: EUnavailable, Status: 503, Phone: true},

	{Code: CodeInvalidMutation, Result: rejected, Phone: true},
	{Code: CodeUnknownType, Result: rejected, Phone: true},
	{Code: CodeUnknownActivity, Result: rejected, Phone: true},
	{Code: CodeUnknownTrainee, Result: rejected, Phone: true},
	{Code: CodeUnknownSpeaker, Result: rejected, Phone: true},
	{Code: CodeUnknownEstablishment, Result: rejected, Phone: true},
	{Code: CodeOutOfScope, Result: rejected, Phone: true},
	{Code: CodeWalkInRefused, Result: rejected, Phone: true},
	{Code: CodeTraineeExists, Result: rejected, Phone: true},
	{Code: CodeSeqReused, Result: rejected, Phone: true},
	{Code: CodeIDReused, Result: rejected, Phone: true},
	{Code: CodeFlagRejected, Result: rejected, Phone: true},
	{Code: FlagLate, Result: flagged, Phone: true},
	{Code: FlagOutOfWindow, Result: flagged, Phone: true},
	{Code: FlagAwaitingRegistration, Result: flagged, Phone: true},

	{Code: IssueRequired, Result: issue},
	{Code: IssueInvalidValue, Result: issue},
	{Code: IssueUnknown, Result: issue},
	{Code: IssueDuplicate, Result: issue},
	{Code: IssueFieldCount, Result: issue},
}

var codeIndex = func() map[string]CodeInfo {
	m := make(map[string]CodeInfo, len(codes))
	for _, c := range codes {
		m[c.Code] = c
	}
	return m
}()

// Codes returns the registry: every code the server sends, problem codes
// (by HTTP status) first, then the per-mutation codes of push results. The
// slice is a copy.
func Codes() []CodeInfo { return slices.Clone(codes) }

// LookupCode returns the registry's entry of code, and false when code is
// not registered (a bug: every code the server sends is).
func LookupCode(code string) (CodeInfo, bool) {
	c, ok := codeIndex[code]
	return c, ok
}
