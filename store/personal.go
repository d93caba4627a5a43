package store

// Personal data of trainees (Moroccan law 09-08): the export of all the
// data held on one trainee (here) and their erasure (erase.go); see
// docs/operations.md, "Data protection", for what is stored and why.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"prodays"
)

// TraineeExport is prodays.TraineeExport.
type TraineeExport = prodays.TraineeExport

// ExportTrainee returns every piece of data held on trainee id and on the
// walk-ins merged into it, read in one transaction, and audits it as
// trainee.export (by ctx's Actor) in that transaction. Errors: ENotFound.
func (db *DB) ExportTrainee(ctx context.Context, id string) (*TraineeExport, error) {
	now := db.Now()
	var x *TraineeExport
	err := db.WithTx(ctx, func(tx *sql.Tx) error { // one snapshot, and the audit entry with it
		var err error
		if x, err = exportPerson(ctx, tx, id); err != nil {
			return err
		}
		walks, err := mergedWalkIns(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, w := range walks {
			wx, err := exportPerson(ctx, tx, w)
			if err != nil {
				return err
			}
			x.MergedWalkIns = append(x.MergedWalkIns, map[string]any{"trainee": wx.Trainee, "walk_in": wx.WalkIn, "attendance": wx.Attendance,
				"checkins": wx.Checkins, "undos": wx.Undos, "field_history": wx.FieldHistory, "conflicts": wx.Conflicts,
				"merge_proposals": wx.MergeProposals, "mutations": wx.Mutations, "audit": wx.Audit})
		}
		x.ExportedAt = now.UTC()
		return Audit(ctx, tx, now, AuditEntry{Action: "trainee.export", Target: id, Detail: map[string]any{"merged_walk_ins": len(walks)}})
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// queryMaps runs q and returns each row as a map column → value (text as
// string, JSON columns decoded when named in jsonCols).
func queryMaps(ctx context.Context, q Execer, jsonCols map[string]bool, query string, args ...any) ([]map[string]any, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if s, ok := v.(string); ok && jsonCols[c] {
				var j any
				if json.Unmarshal([]byte(s), &j) == nil {
					v = j
				}
			}
			m[c] = v
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// exportPerson reads everything held on trainee id (not its merged
// walk-ins: the caller adds them).
func exportPerson(ctx context.Context, q Execer, id string) (*TraineeExport, error) {
	tr, err := queryMaps(ctx, q, nil, `SELECT t.id, t.last_name, t.first_name, t.establishment_code, e.name AS establishment_name, e.region_code,
		t.program, t.group_name AS "group", t.gender, t.source, t.version, t.deleted, t.merged_into, t.registered_by, t.updated_at
		FROM trainees t LEFT JOIN establishments e ON e.code = t.establishment_code WHERE t.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("export trainee %s: %w", id, err)
	}
	if len(tr) == 0 {
		return nil, prodays.Errorf(prodays.ENotFound, "No trainee %q.", id)
	}
	x := &TraineeExport{Trainee: tr[0], MergedWalkIns: []map[string]any{}}
	js := map[string]bool{"payload": true, "detail": true, "check_in_ids": true}
	steps := []struct {
		dst *[]map[string]any
		q   string
	}{
		{&x.Attendance, `SELECT a.activity_id, ac.title AS activity_title, ac.kind AS activity_kind, ac.date AS activity_date, ac.start_time, ac.end_time,
			a.present, a.checked_in_at, a.check_in_ids, a.override, a.override_reason, a.override_by, a.override_at, a.updated_at
			FROM attendance a LEFT JOIN activities ac ON ac.id = a.activity_id WHERE a.person_kind = 'trainee' AND a.person_id = ?1 ORDER BY ac.date, a.activity_id`},
		{&x.Checkins, `SELECT id, activity_id, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status
			FROM checkins WHERE person_kind = 'trainee' AND (person_id = ?1 OR original_person_id = ?1) ORDER BY occurred_at, id`},
		{&x.Undos, `SELECT undo_id, checkin_id, activity_id, status FROM undo_targets WHERE person_kind = 'trainee' AND person_id = ?1 ORDER BY undo_id, checkin_id`},
		{&x.FieldHistory, `SELECT field, value, occurred_at, device_id, mutation_id, base_version FROM trainee_field_writes WHERE trainee_id = ?1 ORDER BY occurred_at, mutation_id`},
		{&x.Conflicts, `SELECT id, field, base_version, winner_mutation_id, winner_value, loser_mutation_id, loser_value, status, created_at, decided_by, decided_at, reason
			FROM conflicts WHERE trainee_id = ?1 ORDER BY id`},
		{&x.MergeProposals, `SELECT id, walk_in_id, candidate_id, reason, status, created_at, decided_by, decided_at FROM merge_proposals
			WHERE walk_in_id = ?1 OR candidate_id = ?1 ORDER BY id`},
		{&x.Mutations, `SELECT id, device_id, username, seq, type, status, code, message, recorded_at, occurred_at, received_at, payload FROM mutations
			WHERE id IN (SELECT id FROM checkins WHERE person_kind = 'trainee' AND (person_id = ?1 OR original_person_id = ?1))
			   OR id IN (SELECT undo_id FROM undo_targets WHERE person_kind = 'trainee' AND person_id = ?1)
			   OR id IN (SELECT mutation_id FROM trainee_field_writes WHERE trainee_id = ?1)
			   OR id IN (SELECT registered_by FROM trainees WHERE id = ?1)
			   OR (instr(payload, ?1) > 0 AND (payload->>'$.trainee_id' = ?1 OR payload->>'$.trainee.id' = ?1 OR payload->>'$.person.id' = ?1))
			ORDER BY received_at, id`},
	}
	for _, st := range steps {
		if *st.dst, err = queryMaps(ctx, q, js, st.q, id); err != nil {
			return nil, fmt.Errorf("export trainee %s: %w", id, err)
		}
	}
	if reg, _ := x.Trainee["registered_by"].(string); reg != "" {
		w, err := queryMaps(ctx, q, js, `SELECT id AS mutation_id, device_id, username, recorded_at, occurred_at, received_at FROM mutations WHERE id = ?`, reg)
		if err != nil {
			return nil, err
		}
		if len(w) == 1 {
			x.WalkIn = w[0]
		}
	}
	// Audit entries naming them: target or detail holds the id as a token.
	cands, err := queryMaps(ctx, q, js, `SELECT id, at, username, device_id, address, action, target, detail FROM audit_log
		WHERE instr(target, ?1) > 0 OR instr(detail, ?1) > 0 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	x.Audit = []map[string]any{}
	for _, a := range cands {
		t, _ := a["target"].(string)
		d, _ := json.Marshal(a["detail"])
		if hasToken(t, id, isIDRune) || hasToken(string(d), id, isIDRune) {
			x.Audit = append(x.Audit, a)
		}
	}
	return x, nil
}

// mergedWalkIns returns the walk-in ids merged into trainee id.
func mergedWalkIns(ctx context.Context, q Execer, id string) ([]string, error) {
	ms, err := queryMaps(ctx, q, nil, `SELECT id FROM trainees WHERE merged_into = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("walk-ins merged into %s: %w", id, err)
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i], _ = m["id"].(string)
	}
	return ids, nil
}
