package engine

import (
	"database/sql"
	"fmt"

	"prodays"
	"prodays/store"
)

// mergeTrainee moves walk's attendance to keep and tombstones walk.
func (t *txc) mergeTrainee(walk, keep string) error {
	rows, err := t.QueryContext(t.ctx, `SELECT activity_id, override, override_reason, override_by, override_at FROM attendance WHERE person_kind = 'trainee' AND person_id = ?`, walk)
	if err != nil {
		return err
	}
	type ov struct {
		act                string
		ov, reason, by, at sql.NullString
	}
	var acts []ov
	for rows.Next() {
		var o ov
		if err := rows.Scan(&o.act, &o.ov, &o.reason, &o.by, &o.at); err != nil {
			rows.Close()
			return err
		}
		acts = append(acts, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Activities with check-ins of the walk-in but no row yet (all held).
	more, err := t.QueryContext(t.ctx, `SELECT DISTINCT activity_id FROM checkins WHERE walk_in = 1 AND person_kind = 'trainee' AND person_id = ?`, walk)
	if err != nil {
		return err
	}
	touched := map[string]bool{}
	for more.Next() {
		var a string
		if err := more.Scan(&a); err != nil {
			more.Close()
			return err
		}
		touched[a] = true
	}
	more.Close()
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
	for _, a := range sortedKeys(touched) {
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
