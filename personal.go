package prodays

import "time"

// TraineeExport is everything held on one trainee (law 09-08, right of
// access), the answer of GET /api/v1/admin/trainees/:id/export. Rows are
// maps column → value as stored (times RFC 3339 UTC strings, JSON columns
// decoded).
type TraineeExport struct {
	ExportedAt time.Time `json:"exported_at"`
	// Trainee is the trainees row (roster fields, source roster or walk_in,
	// version, merge tombstone).
	Trainee map[string]any `json:"trainee"`
	// WalkIn is the trainee.register mutation of a walk-in (who registered
	// them, from which device, when); null for a roster trainee.
	WalkIn map[string]any `json:"walk_in"`
	// MergedWalkIns are the walk-in records merged into this trainee (the
	// same person registered on a phone), each with its own rows.
	MergedWalkIns []map[string]any `json:"merged_walk_ins"`
	// Attendance: one row per activity, with its title, kind and date.
	Attendance []map[string]any `json:"attendance"`
	// Checkins: every attendance.check_in received for them, with device
	// and method; Undos the attendance.undo that named one.
	Checkins []map[string]any `json:"checkins"`
	Undos    []map[string]any `json:"undos"`
	// FieldHistory: every accepted write of a field (trainee.update),
	// Conflicts the concurrent writes a supervisor reviewed.
	FieldHistory   []map[string]any `json:"field_history"`
	Conflicts      []map[string]any `json:"conflicts"`
	MergeProposals []map[string]any `json:"merge_proposals"`
	// Mutations: the stored mutations (as sent by the phones) about them.
	Mutations []map[string]any `json:"mutations"`
	// Audit: the audit entries whose target or detail names them.
	Audit []map[string]any `json:"audit"`
}

// Erasure is the result of an erasure: the anonymous id that replaces
// the matricule and the number of rows changed per table.
type Erasure struct {
	AnonymousID string         `json:"anonymous_id"`
	Rows        map[string]int `json:"rows"`
}
