package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"prodays"
	"prodays/sync/protocol"
)

// anonPrefix starts the id that replaces an erased trainee's matricule.
const anonPrefix = "ANON-"

// personalFields are the trainee fields blanked by an erasure, by their
// name in trainee.register / trainee.update payloads and the field
// history (trainee_field_writes.field): the establishment is kept, so that
// the bilan does not change.
var personalFields = map[string]bool{"last_name": true, "first_name": true, "program": true, "group": true, "gender": true}

// Erasure is prodays.Erasure.
type Erasure = prodays.Erasure

// EraseTrainee erases trainee id and the walk-ins merged into it (law
// 09-08, right of erasure; see eraseTrainee for what changes) for reason
// (required, prodays.TextReason), and audits it as trainee.erase (by ctx's
// Actor) with the anonymous id only (never the matricule or the names),
// the reason with the names and ids scrubbed, and the row counts. Errors:
// EInvalid (reason), ENotFound, EConflict for an id that is already
// anonymous.
func (db *DB) EraseTrainee(ctx context.Context, id, reason string) (*Erasure, error) {
	reason, err := prodays.CheckText("reason", reason, prodays.TextReason)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, prodays.Errorf(prodays.EInvalid, "reason: required.")
	}
	if strings.HasPrefix(id, anonPrefix) {
		return nil, prodays.Errorf(prodays.EConflict, "Trainee %s is already anonymous.", id)
	}
	now := db.Now()
	var out *Erasure
	err = db.WithTx(ctx, func(tx *sql.Tx) error {
		res, scrubbedReason, err := eraseTrainee(ctx, tx, now, id, reason)
		if err != nil {
			return err
		}
		out = res
		return Audit(ctx, tx, now, AuditEntry{Action: "trainee.erase", Target: res.AnonymousID,
			Detail: map[string]any{"reason": scrubbedReason, "rows": res.Rows}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newAnonID returns "ANON-" and 16 random hex digits.
func newAnonID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return anonPrefix + strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// eraseTrainee erases trainee id and the walk-ins merged into it inside tx:
//   - every id is replaced, in every text column of every table, by a new
//     anonymous id ("ANON-…"), as a whole token (so that TR-1 never
//     touches TR-10): trainees, checkins (person_id, original_person_id),
//     undo_targets, attendance, trainee_field_stamps/writes,
//     trainee_import_values, conflicts,
//     merge_proposals, refused_registrations, flags.detail, the stored
//     mutations (payload, message) and the audit log;
//   - the personal fields (personalFields) are blanked in the trainees
//     rows, the field history and conflicts, and in every JSON value
//     (mutation payloads, details) of a row that named the person; their
//     names (current and former) are replaced by "***" in any other text
//     of such a row;
//   - attendance stays, under the anonymous id, with the establishment:
//     every bilan figure is unchanged;
//   - the change log gets a delete of each old id (trainee and attendance
//     entities), so that phones drop them, and an upsert of the new ones.
//
// The only trace of the old id left is those delete entries of the change
// log (a phone must be told which id to drop). It returns the anonymous id,
// the rows changed per table, and reason with the names scrubbed.
func eraseTrainee(ctx context.Context, tx *sql.Tx, now time.Time, id, reason string) (*Erasure, string, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM trainees WHERE id = ?`, id).Scan(&n); err != nil {
		return nil, "", err
	}
	if n == 0 {
		return nil, "", prodays.Errorf(prodays.ENotFound, "No trainee %q.", id)
	}
	walks, err := mergedWalkIns(ctx, tx, id)
	if err != nil {
		return nil, "", err
	}
	ids := append([]string{id}, walks...)
	pairs := map[string]string{}
	for _, old := range ids {
		if pairs[old], err = newAnonID(); err != nil {
			return nil, "", err
		}
	}
	names, err := personNames(ctx, tx, ids)
	if err != nil {
		return nil, "", err
	}
	// The trainees id is referenced by trainee_field_stamps: check the
	// foreign keys at commit, once every table is rewritten.
	if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return nil, "", err
	}
	// What the phones hold now: the attendance rows under the old ids.
	type attRow struct{ act, person, region, est string }
	var atts []attRow
	for _, old := range ids {
		rows, err := tx.QueryContext(ctx, `SELECT a.activity_id, ac.region_code, ac.establishment_code FROM attendance a JOIN activities ac ON ac.id = a.activity_id
			WHERE a.person_kind = 'trainee' AND a.person_id = ?`, old)
		if err != nil {
			return nil, "", err
		}
		for rows.Next() {
			r := attRow{person: old}
			if err := rows.Scan(&r.act, &r.region, &r.est); err != nil {
				rows.Close()
				return nil, "", err
			}
			atts = append(atts, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, "", err
		}
	}
	counts, err := rewriteAll(ctx, tx, pairs, names)
	if err != nil {
		return nil, "", err
	}
	ts := FormatTime(now)
	const personal = `('last_name', 'first_name', 'program', 'group', 'gender')`
	for _, old := range ids {
		anon := pairs[old]
		if _, err := tx.ExecContext(ctx, `UPDATE trainees SET last_name = '', first_name = '', program = '', group_name = '', gender = '',
			version = version + 1, updated_at = ? WHERE id = ?`, ts, anon); err != nil {
			return nil, "", fmt.Errorf("erase trainee: %w", err)
		}
		for _, b := range []struct{ table, q string }{
			{"trainee_field_stamps", `UPDATE trainee_field_stamps SET value = '' WHERE trainee_id = ? AND value <> '' AND field IN ` + personal},
			{"trainee_field_writes", `UPDATE trainee_field_writes SET value = '' WHERE trainee_id = ? AND value <> '' AND field IN ` + personal},
			{"conflicts", `UPDATE conflicts SET winner_value = '', loser_value = '' WHERE trainee_id = ? AND field IN ` + personal},
			{"trainee_import_values", `UPDATE trainee_import_values SET fields = json_set(fields, '$.last_name', '', '$.first_name', '', '$.program', '',
				'$.group', '', '$.gender', '') WHERE trainee_id = ?`},
		} {
			res, err := tx.ExecContext(ctx, b.q, anon)
			if err != nil {
				return nil, "", fmt.Errorf("erase %s: %w", b.table, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				counts[b.table] += int(k)
			}
		}
	}
	// Change log: phones drop the old ids and receive the anonymous ones.
	for _, old := range ids {
		var est, region string
		var deleted bool
		if err := tx.QueryRowContext(ctx, `SELECT t.establishment_code, e.region_code, t.deleted FROM trainees t JOIN establishments e ON e.code = t.establishment_code
			WHERE t.id = ?`, pairs[old]).Scan(&est, &region, &deleted); err != nil {
			return nil, "", fmt.Errorf("erase: read %s: %w", pairs[old], err)
		}
		chs := []Change{{Entity: "trainee", ID: old, Op: "delete", RegionCode: region, EstablishmentCode: est}}
		if deleted {
			chs = append(chs, Change{Entity: "trainee", ID: pairs[old], Op: "delete", RegionCode: region, EstablishmentCode: est})
		} else {
			chs = append(chs, Change{Entity: "trainee", ID: pairs[old], Op: "upsert", RegionCode: region, EstablishmentCode: est})
		}
		for _, c := range chs {
			if err := RecordChange(ctx, tx, c); err != nil {
				return nil, "", err
			}
		}
	}
	for _, a := range atts {
		if err := RecordChange(ctx, tx, Change{Entity: "attendance", ID: protocol.AttendanceID(a.act, prodays.PersonTrainee, a.person),
			Op: "delete", RegionCode: a.region, EstablishmentCode: a.est}); err != nil {
			return nil, "", err
		}
		if err := TouchAttendance(ctx, tx, Change{Entity: "attendance", ID: protocol.AttendanceID(a.act, prodays.PersonTrainee, pairs[a.person]),
			Op: "upsert", RegionCode: a.region, EstablishmentCode: a.est}, a.act, prodays.PersonTrainee, pairs[a.person]); err != nil {
			return nil, "", err
		}
	}
	counts["changes"] = 2*len(ids) + 2*len(atts)
	for _, old := range ids {
		reason = replaceToken(reason, old, pairs[old], isIDRune)
	}
	return &Erasure{AnonymousID: pairs[id], Rows: counts}, scrubNames(reason, names), nil
}

// personNames collects the names the persons ids have had (trainees rows,
// field history, conflicts), in their stored, upper and lower case forms;
// names shorter than 2 characters are left out.
func personNames(ctx context.Context, tx *sql.Tx, ids []string) ([]string, error) {
	set := map[string]bool{}
	for _, id := range ids {
		rows, err := tx.QueryContext(ctx, `SELECT last_name FROM trainees WHERE id = ?1 UNION SELECT first_name FROM trainees WHERE id = ?1
			UNION SELECT value FROM trainee_field_writes WHERE trainee_id = ?1 AND field IN ('last_name', 'first_name')
			UNION SELECT value FROM trainee_field_stamps WHERE trainee_id = ?1 AND field IN ('last_name', 'first_name')
			UNION SELECT winner_value FROM conflicts WHERE trainee_id = ?1 AND field IN ('last_name', 'first_name')
			UNION SELECT loser_value FROM conflicts WHERE trainee_id = ?1 AND field IN ('last_name', 'first_name')`, id)
		if err != nil {
			return nil, fmt.Errorf("erase: names: %w", err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, err
			}
			v = strings.TrimSpace(v)
			if utf8.RuneCountInString(v) < 2 {
				continue
			}
			set[v], set[strings.ToUpper(v)], set[strings.ToLower(v)] = true, true, true
			// Each part of a compound name ("El Amrani") too.
			for _, p := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) }) {
				if utf8.RuneCountInString(p) >= 3 {
					set[p], set[strings.ToUpper(p)], set[strings.ToLower(p)] = true, true, true
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	// Longest first, so that "El Amrani" goes before "Amrani".
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out, nil
}

// rewriteAll replaces, in every text column of every table but the change
// log, each old id of pairs by its new one (as a token), and in the rows
// that named a person blanks the personal fields of JSON values and
// scrubs names. It returns the rows changed per table.
func rewriteAll(ctx context.Context, tx *sql.Tx, pairs map[string]string, names []string) (map[string]int, error) {
	cols, err := textColumns(ctx, tx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	tables := make([]string, 0, len(cols))
	for t := range cols {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, table := range tables {
		cs := cols[table]
		var conds []string
		var args []any
		for _, c := range cs {
			for old := range pairs {
				conds = append(conds, fmt.Sprintf(`instr(%q, ?) > 0`, c))
				args = append(args, old)
			}
		}
		sel := make([]string, len(cs))
		for i, c := range cs {
			sel[i] = fmt.Sprintf("%q", c)
		}
		q := fmt.Sprintf(`SELECT rowid, %s FROM %q WHERE %s`, strings.Join(sel, ", "), table, strings.Join(conds, " OR "))
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("erase: scan %s: %w", table, err)
		}
		type upd struct {
			rowid int64
			vals  []sql.NullString
		}
		var ups []upd
		for rows.Next() {
			vals := make([]sql.NullString, len(cs))
			ptrs := []any{new(int64)}
			for i := range vals {
				ptrs = append(ptrs, &vals[i])
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			ups = append(ups, upd{rowid: *ptrs[0].(*int64), vals: vals})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, u := range ups {
			named := false
			next := make([]string, len(cs))
			for i, v := range u.vals {
				next[i] = v.String
				for old, anon := range pairs {
					if r := replaceToken(next[i], old, anon, isIDRune); r != next[i] {
						next[i], named = r, true
					}
				}
			}
			if !named {
				continue // the id only inside a longer token
			}
			var set []string
			var setArgs []any
			for i, v := range u.vals {
				nv := scrubNames(blankJSON(next[i]), names)
				if !v.Valid || nv == v.String {
					continue
				}
				set = append(set, fmt.Sprintf("%q = ?", cs[i]))
				setArgs = append(setArgs, nv)
			}
			if len(set) == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %q SET %s WHERE rowid = ?`, table, strings.Join(set, ", ")), append(setArgs, u.rowid)...); err != nil {
				return nil, fmt.Errorf("erase: rewrite %s: %w", table, err)
			}
			counts[table]++
		}
	}
	return counts, nil
}

// textColumns lists the TEXT columns of every table, except the change
// log (handled by eraseTrainee) and the migration bookkeeping.
func textColumns(ctx context.Context, tx *sql.Tx) (map[string][]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT IN ('changes', 'goose_db_version') AND upper(p.type) = 'TEXT'
		ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, fmt.Errorf("erase: schema: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}
