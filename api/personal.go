package api

// Personal data of trainees (Moroccan law 09-08): the export of all the
// data held on one trainee and their erasure. The SQL lives here, beside
// the handlers, like adminstore.go; see docs/operations.md, "Data
// protection", for what is stored and why.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/store"
	"prodays/sync/engine"
)

// anonPrefix starts the id that replaces an erased trainee's matricule.
const anonPrefix = "ANON-"

// personalFields are the trainee fields blanked by an erasure, by their
// name in trainee.register / trainee.update payloads and the field
// history (trainee_field_writes.field): the establishment is kept, so that
// the bilan does not change.
var personalFields = map[string]bool{"last_name": true, "first_name": true, "program": true, "group": true, "gender": true}

// traineeExport is the answer of GET /api/v1/admin/trainees/:id/export.
// Times are RFC 3339 UTC strings as stored.
type traineeExport struct {
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

// queryMaps runs q and returns each row as a map column → value (text as
// string, JSON columns decoded when named in jsonCols).
func queryMaps(ctx context.Context, q store.Execer, jsonCols map[string]bool, query string, args ...any) ([]map[string]any, error) {
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
func exportPerson(ctx context.Context, q store.Execer, id string) (*traineeExport, error) {
	tr, err := queryMaps(ctx, q, nil, `SELECT t.id, t.last_name, t.first_name, t.establishment_code, e.name AS establishment_name, e.region_code,
		t.program, t.group_name AS "group", t.gender, t.source, t.version, t.deleted, t.merged_into, t.registered_by, t.updated_at
		FROM trainees t LEFT JOIN establishments e ON e.code = t.establishment_code WHERE t.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("export trainee %s: %w", id, err)
	}
	if len(tr) == 0 {
		return nil, prodays.Errorf(prodays.ENotFound, "No trainee %q.", id)
	}
	x := &traineeExport{Trainee: tr[0], MergedWalkIns: []map[string]any{}}
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
func mergedWalkIns(ctx context.Context, q store.Execer, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM trainees WHERE merged_into = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, err
		}
		ids = append(ids, w)
	}
	return ids, rows.Err()
}

// exportTraineeHandler: GET /api/v1/admin/trainees/:id/export answers
// every piece of data held on the trainee (traineeExport) as a JSON
// attachment, the right of access of law 09-08; 404 not_found for an
// unknown id. Audited as trainee.export.
func (s *Server) exportTraineeHandler(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	var x *traineeExport
	err := s.DB.WithTx(ctx, func(tx *sql.Tx) error { // one snapshot, and the audit entry with it
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
		x.ExportedAt = s.Now().UTC()
		return s.audit(c, tx, "trainee.export", id, map[string]any{"merged_walk_ins": len(walks)})
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="trainee-export.json"`)
	return c.JSON(http.StatusOK, x)
}

// eraseRequest is the body of POST /api/v1/admin/trainees/:id/erase.
type eraseRequest struct {
	Reason string `json:"reason"`
}

// eraseResponse answers an erasure: the anonymous id that replaces the
// matricule and the number of rows changed per table.
type eraseResponse struct {
	AnonymousID string         `json:"anonymous_id"`
	Rows        map[string]int `json:"rows"`
}

// eraseTraineeHandler: POST /api/v1/admin/trainees/:id/erase {reason}
// erases the person (law 09-08, right of erasure): see eraseTrainee.
// Answers 200 eraseResponse; 400 invalid without a reason; 404 not_found;
// 409 conflict for an id that is already anonymous. Audited as
// trainee.erase with the anonymous id only (never the matricule or the
// names), the reason and the row counts.
func (s *Server) eraseTraineeHandler(c echo.Context) error {
	var req eraseRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	reason, err := text("reason", req.Reason, true, prodays.TextReason)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if strings.HasPrefix(id, anonPrefix) {
		return prodays.Errorf(prodays.EConflict, "Trainee %s is already anonymous.", id)
	}
	ctx := c.Request().Context()
	var out eraseResponse
	err = s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		res, scrubbedReason, err := eraseTrainee(ctx, tx, s.Now(), id, reason)
		if err != nil {
			return err
		}
		out = *res
		return s.audit(c, tx, "trainee.erase", res.AnonymousID, map[string]any{"reason": scrubbedReason, "rows": res.Rows})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
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
//     undo_targets, attendance, trainee_field_stamps/writes, conflicts,
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
func eraseTrainee(ctx context.Context, tx *sql.Tx, now time.Time, id, reason string) (*eraseResponse, string, error) {
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
	ts := store.FormatTime(now)
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
		chs := []store.Change{{Entity: "trainee", ID: old, Op: "delete", RegionCode: region, EstablishmentCode: est}}
		if deleted {
			chs = append(chs, store.Change{Entity: "trainee", ID: pairs[old], Op: "delete", RegionCode: region, EstablishmentCode: est})
		} else {
			chs = append(chs, store.Change{Entity: "trainee", ID: pairs[old], Op: "upsert", RegionCode: region, EstablishmentCode: est})
		}
		for _, c := range chs {
			if err := store.RecordChange(ctx, tx, c); err != nil {
				return nil, "", err
			}
		}
	}
	for _, a := range atts {
		if err := store.RecordChange(ctx, tx, store.Change{Entity: "attendance", ID: engine.AttendanceID(a.act, prodays.PersonTrainee, a.person),
			Op: "delete", RegionCode: a.region, EstablishmentCode: a.est}); err != nil {
			return nil, "", err
		}
		if err := store.TouchAttendance(ctx, tx, store.Change{Entity: "attendance", ID: engine.AttendanceID(a.act, prodays.PersonTrainee, pairs[a.person]),
			Op: "upsert", RegionCode: a.region, EstablishmentCode: a.est}, a.act, prodays.PersonTrainee, pairs[a.person]); err != nil {
			return nil, "", err
		}
	}
	counts["changes"] = 2*len(ids) + 2*len(atts)
	for _, old := range ids {
		reason = replaceToken(reason, old, pairs[old], isIDRune)
	}
	return &eraseResponse{AnonymousID: pairs[id], Rows: counts}, scrubNames(reason, names), nil
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

// isIDRune says which runes continue an id token (TR-1 is not in TR-10).
func isIDRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_'
}

// isWordRune says which runes continue a name token.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// tokenAt reports whether s[i:i+n] is a whole token for in.
func tokenAt(s string, i, n int, in func(rune) bool) bool {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); in(r) {
			return false
		}
	}
	if i+n < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[i+n:]); in(r) {
			return false
		}
	}
	return true
}

// hasToken reports whether s holds tok as a whole token.
func hasToken(s, tok string, in func(rune) bool) bool {
	return replaceToken(s, tok, "\x00", in) != s
}

// replaceToken replaces every whole-token occurrence of old in s by new.
func replaceToken(s, old, new string, in func(rune) bool) string {
	if old == "" || !strings.Contains(s, old) {
		return s
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], old)
		if j < 0 {
			break
		}
		j += i
		b.WriteString(s[i:j])
		if tokenAt(s, j, len(old), in) {
			b.WriteString(new)
		} else {
			b.WriteString(old)
		}
		i = j + len(old)
	}
	b.WriteString(s[i:])
	return b.String()
}

// scrubNames replaces each name (as a whole word) by "***".
func scrubNames(s string, names []string) string {
	for _, n := range names {
		s = replaceToken(s, n, "***", isWordRune)
	}
	return s
}

// blankJSON blanks the string values of personal fields (personalFields,
// at any depth) of a JSON object or array; any other text is returned as
// is.
func blankJSON(s string) string {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s
	}
	changed := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if str, ok := e.(string); ok && personalFields[k] && str != "" {
					x[k], changed = "", true
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	if !changed {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s
	}
	return string(b)
}
