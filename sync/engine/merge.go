package engine

import (
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"prodays"
	"prodays/store"
)

// mergeTrainee moves walk's attendance to keep and tombstones walk.
func (t *txc) mergeTrainee(walk, keep string) error {
	type ov struct {
		act                string
		ov, reason, by, at sql.NullString
	}
	acts, err := store.Query(t.ctx, t, func(s store.Scanner) (ov, error) {
		var o ov
		err := s.Scan(&o.act, &o.ov, &o.reason, &o.by, &o.at)
		return o, err
	}, `SELECT activity_id, override, override_reason, override_by, override_at FROM attendance WHERE person_kind = 'trainee' AND person_id = ?`, walk)
	if err != nil {
		return fmt.Errorf("merge: attendance of %s: %w", walk, err)
	}
	// Activities with check-ins of the walk-in but no row yet (all held).
	held, err := store.Strings(t.ctx, t, `SELECT DISTINCT activity_id FROM checkins WHERE walk_in = 1 AND person_kind = 'trainee' AND person_id = ?`, walk)
	if err != nil {
		return fmt.Errorf("merge: check-ins of %s: %w", walk, err)
	}
	touched := map[string]bool{}
	for _, a := range held {
		touched[a] = true
	}
	for _, q := range []string{
		`UPDATE checkins SET person_id = ? WHERE walk_in = 1 AND person_kind = 'trainee' AND person_id = ?`,
		`UPDATE undo_targets SET person_id = ? WHERE person_kind = 'trainee' AND person_id = ?`,
	} {
		if _, err := t.exec(q, keep, walk); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	for _, o := range acts {
		touched[o.act] = true
		act, err := t.activity(o.act)
		if err != nil {
			return err
		}
		if o.ov.Valid {
			if _, err := t.exec(`INSERT INTO attendance (activity_id, person_kind, person_id, present, check_in_ids, override, override_reason, override_by, override_at, updated_at)
				VALUES (?, 'trainee', ?, 0, '[]', ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET override = COALESCE(attendance.override, excluded.override),
				override_reason = COALESCE(attendance.override_reason, excluded.override_reason), override_by = COALESCE(attendance.override_by, excluded.override_by),
				override_at = COALESCE(attendance.override_at, excluded.override_at)`,
				o.act, keep, o.ov, o.reason, o.by, o.at, store.FormatTime(t.now)); err != nil {
				return err
			}
		}
		if _, err := t.exec(`DELETE FROM attendance WHERE activity_id = ? AND person_kind = 'trainee' AND person_id = ?`, o.act, walk); err != nil {
			return err
		}
		if act != nil {
			if err := t.attendanceChange(act, prodays.PersonTrainee, walk, "delete"); err != nil {
				return err
			}
		}
	}
	for _, a := range slices.Sorted(maps.Keys(touched)) {
		act, err := t.activity(a)
		if err != nil {
			return err
		}
		if act == nil {
			continue
		}
		if err := t.recompute(act, prodays.PersonTrainee, keep); err != nil {
			return err
		}
		if err := t.attendanceChange(act, prodays.PersonTrainee, keep, "upsert"); err != nil {
			return err
		}
	}
	if _, err := t.exec(`UPDATE trainees SET deleted = 1, merged_into = ? WHERE id = ?`, keep, walk); err != nil {
		return err
	}
	return t.bumpTrainee(walk)
}
