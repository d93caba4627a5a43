package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
)

// EResync is prodays.EResync, the code of a pull whose cursor was issued
// for another scope or history epoch.
const EResync = prodays.EResync

// cursor is what the opaque pull cursor encodes: the last server sequence
// delivered, the scope fingerprint and the history epoch (sync protocol
// 1.1, History) it was issued for. A cursor issued before 1.1 has no
// epoch: it is answered resync like one of another epoch (the server
// cannot tell whether a restore came since).
type cursor struct {
	Seq   int64  `json:"s"`
	Scope string `json:"f"`
	Epoch string `json:"e,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 200 || json.Unmarshal(b, &c) != nil || c.Seq < 0 || c.Scope == "" {
		return c, prodays.Errorf(prodays.EInvalid, "Invalid cursor: send the cursor of the previous pull, or none for a snapshot.")
	}
	return c, nil
}

// scopeFingerprint identifies p's scope: role, establishment, region and
// the user's scope_version (which grows whenever an admin changes them).
func (e *Engine) scopeFingerprint(ctx context.Context, p *prodays.Principal) (string, error) {
	var sv int64
	err := e.DB.Read.QueryRowContext(ctx, `SELECT scope_version FROM users WHERE username = ?`, p.Username).Scan(&sv)
	if err != nil {
		return "", fmt.Errorf("scope version of %s: %w", p.Username, err)
	}
	sum := sha256.Sum256([]byte(p.Role + "\x00" + p.EstablishmentCode + "\x00" + p.RegionCode + "\x00" + strconv.FormatInt(sv, 10)))
	return hex.EncodeToString(sum[:6]), nil
}

// Pull returns the page of changes after cursor (none: a full snapshot of
// p's scope, in pages) holding at most limit changes, with the device
// object of p's device (sync protocol, Pull; 1.1, Push). Errors: invalid
// (bad cursor or limit), resync (409: the scope changed since the cursor
// was issued, or the cursor is of another history epoch, or of none).
func (e *Engine) Pull(ctx context.Context, p *prodays.Principal, cur string, limit int) (_ *protocol.PullResponse, err error) {
	defer derrors.Wrap(&err, "engine.Pull(%s, %q)", p.DeviceID, cur)
	if limit == 0 {
		limit = protocol.DefaultPullLimit
	}
	if limit < 1 || limit > protocol.MaxPullLimit {
		return nil, prodays.Errorf(prodays.EInvalid, "limit must be between 1 and %d.", protocol.MaxPullLimit)
	}
	fp, err := e.scopeFingerprint(ctx, p)
	if err != nil {
		return nil, err
	}
	epoch, err := store.Epoch(ctx, e.DB.Read)
	if err != nil {
		return nil, err
	}
	var after int64
	if cur != "" {
		c, err := decodeCursor(cur)
		if err != nil {
			return nil, err
		}
		if c.Scope != fp {
			return nil, prodays.Errorf(EResync, "Your scope changed since this cursor was issued: pull a fresh snapshot (keep your outbox).")
		}
		if c.Epoch != epoch {
			return nil, prodays.Errorf(EResync, "The server's history changed since this cursor was issued (it was restored): pull a fresh snapshot (keep your outbox and sent log).")
		}
		after = c.Seq
	}
	if err := e.backfillChanges(ctx); err != nil {
		return nil, err
	}
	// The change log and the attendance rows (which carry their own seq,
	// migration 00034) above the cursor, each in seq order, merged; both
	// read in one transaction, so from one snapshot: a seq below the last
	// one delivered is never committed after the read.
	tx, err := e.DB.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	defer tx.Rollback()
	logged, err := pullLog(ctx, tx, p, after, limit+1)
	if err != nil {
		return nil, err
	}
	atts, err := pullAttendance(ctx, tx, p, after, limit+1)
	if err != nil {
		return nil, err
	}
	resp := &protocol.PullResponse{Changes: make([]protocol.Change, 0, min(limit, len(logged)+len(atts)))}
	last := after
	for len(logged)+len(atts) > 0 {
		if len(resp.Changes) == limit {
			resp.HasMore = true
			break
		}
		var next seqChange
		if len(atts) == 0 || (len(logged) > 0 && logged[0].seq < atts[0].seq) {
			next, logged = logged[0], logged[1:]
		} else {
			next, atts = atts[0], atts[1:]
		}
		resp.Changes = append(resp.Changes, next.Change)
		last = next.seq
	}
	resp.Changes = netEffect(resp.Changes)
	if !resp.HasMore && len(resp.Changes) == 0 && cur == "" {
		// An empty scope still gets a cursor at the end of the log.
		if err := tx.QueryRowContext(ctx, `SELECT max((SELECT COALESCE(max(seq), 0) FROM changes), (SELECT COALESCE(max(seq), 0) FROM attendance))`).Scan(&last); err != nil {
			return nil, err
		}
	}
	if resp.Device, err = deviceState(ctx, tx, p.DeviceID, epoch); err != nil {
		return nil, err
	}
	tx.Rollback() // the read is done: release the snapshot before loading the data
	if err := e.loadData(ctx, resp.Changes); err != nil {
		return nil, err
	}
	resp.Cursor = encodeCursor(cursor{Seq: last, Scope: fp, Epoch: epoch})
	return resp, nil
}

// netEffect keeps the last change of each entity in a page (sync
// protocol, Pull: "a page holds the net effect of its changes"). The only
// entity that can appear twice is a presence whose delete stays in the
// change log when the batch fast path creates its row again (it does not
// look the log up); elsewhere a page is returned as read.
func netEffect(chs []protocol.Change) []protocol.Change {
	last := map[string]int{}
	for i, c := range chs {
		if c.Entity == "attendance" {
			last[c.ID] = i
		}
	}
	if len(last) == 0 {
		return chs
	}
	out := chs[:0]
	for i, c := range chs {
		if j, ok := last[c.ID]; c.Entity == "attendance" && ok && j != i {
			continue
		}
		out = append(out, c)
	}
	return out
}

// seqChange is a change and its place in the server sequence.
type seqChange struct {
	seq int64
	protocol.Change
}

// pullLog reads at most n entries of the change log above after, in seq
// order, that p may receive.
func pullLog(ctx context.Context, tx *sql.Tx, p *prodays.Principal, after int64, n int) ([]seqChange, error) {
	where, args := pullScope(p)
	q := `SELECT c.seq, c.entity, c.entity_id, c.op FROM changes c WHERE c.seq > ? AND (` + where + `) ORDER BY c.seq LIMIT ?`
	out, err := store.Query(ctx, tx, func(s store.Scanner) (c seqChange, err error) {
		return c, s.Scan(&c.seq, &c.Entity, &c.ID, &c.Op)
	}, q, append(append([]any{after}, args...), n)...)
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	return out, nil
}

// pullAttendance reads at most n attendance rows whose seq is above
// after, in seq order, that p may receive (staff: activities of their
// establishment; supervisors: of their region; admins: all), each as an
// upsert with its data.
func pullAttendance(ctx context.Context, tx *sql.Tx, p *prodays.Principal, after int64, n int) ([]seqChange, error) {
	var where string
	var args []any
	switch p.Role {
	case prodays.RoleAdmin:
		where = "1"
	case prodays.RoleSupervisor:
		where, args = "x.region_code = ?", []any{p.RegionCode}
	case prodays.RoleStaff:
		where, args = "x.establishment_code = ?", []any{p.EstablishmentCode}
	default:
		return nil, nil
	}
	// CROSS JOIN keeps attendance outside: the rows after the cursor by
	// the seq index, each checked against its activity (the cost follows
	// the changes since the cursor, not the size of the scope).
	out, err := store.Query(ctx, tx, func(s store.Scanner) (seqChange, error) {
		c := seqChange{Change: protocol.Change{Entity: "attendance", Op: "upsert"}}
		x, err := scanAttendance(s, &c.seq)
		c.ID, c.Data = protocol.AttendanceID(x.ActivityID, x.Person.Kind, x.Person.ID), x
		return c, err
	}, `SELECT a.seq, `+attendanceCols+` FROM attendance a CROSS JOIN activities x ON x.id = a.activity_id
		WHERE a.seq > ? AND (`+where+`) ORDER BY a.seq LIMIT ?`, append(append([]any{after}, args...), n)...)
	if err != nil {
		return nil, fmt.Errorf("pull attendance: %w", err)
	}
	return out, nil
}

// attendanceCols are the columns of an attendance row in a pull, read by
// scanAttendance.
const attendanceCols = `a.activity_id, a.person_kind, a.person_id, a.present, a.checked_in_at, a.check_in_ids, COALESCE(a.override, '')`

// scanAttendance reads attendanceCols (after dest, if any) into the
// pulled shape of a presence.
func scanAttendance(rows store.Scanner, dest ...any) (protocol.Attendance, error) {
	var x protocol.Attendance
	var at sql.NullString
	var ids string
	if err := rows.Scan(append(dest, &x.ActivityID, &x.Person.Kind, &x.Person.ID, &x.Present, &at, &ids, &x.Override)...); err != nil {
		return x, err
	}
	if at.Valid {
		t, err := store.ParseTime(at.String)
		if err != nil {
			return x, fmt.Errorf("attendance %s: checked_in_at: %w", x.ActivityID, err)
		}
		x.CheckedInAt = &t
	}
	if err := json.Unmarshal([]byte(ids), &x.CheckInIDs); err != nil || x.CheckInIDs == nil {
		x.CheckInIDs = []string{}
	}
	return x, nil
}

// pullScope is the SQL condition on changes c of what p may receive
// (guarantee 4, Scoped): staff: activities and attendance of their
// establishment, trainees and establishments of their region, speakers of
// their establishment's meetings; supervisors: the same for their region;
// admins: everything. Companies and organisations go to everyone.
func pullScope(p *prodays.Principal) (string, []any) {
	switch p.Role {
	case prodays.RoleAdmin:
		return "1", nil
	case prodays.RoleSupervisor:
		return `c.entity IN ('company', 'organization')
			OR (c.entity IN ('trainee', 'establishment', 'activity', 'attendance') AND c.region_code = ?)
			OR (c.entity = 'speaker' AND EXISTS (SELECT 1 FROM activity_speakers s JOIN activities a ON a.id = s.activity_id
				WHERE s.speaker_id = c.entity_id AND a.region_code = ?))`, []any{p.RegionCode, p.RegionCode}
	case prodays.RoleStaff:
		return `c.entity IN ('company', 'organization')
			OR (c.entity IN ('trainee', 'establishment') AND c.region_code = ?)
			OR (c.entity IN ('activity', 'attendance') AND c.establishment_code = ?)
			OR (c.entity = 'speaker' AND EXISTS (SELECT 1 FROM activity_speakers s JOIN activities a ON a.id = s.activity_id
				WHERE s.speaker_id = c.entity_id AND a.establishment_code = ?))`, []any{p.RegionCode, p.EstablishmentCode, p.EstablishmentCode}
	}
	return "0", nil
}

// backfillSQL gives a change-log entry to every roster entity that has
// none (rows written by the importer or by hand), so that a snapshot is
// simply the change log read from its start.
var backfillSQL = []struct{ count, fill string }{
	{`SELECT (SELECT count(*) FROM establishments) - (SELECT count(*) FROM changes WHERE entity = 'establishment')`,
		`INSERT OR IGNORE INTO changes (entity, entity_id, op, region_code, establishment_code)
		SELECT 'establishment', code, 'upsert', region_code, code FROM establishments x
		WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity = 'establishment' AND c.entity_id = x.code) ORDER BY code`},
	{`SELECT (SELECT count(*) FROM organizations) - (SELECT count(*) FROM changes WHERE entity = 'organization')`,
		`INSERT OR IGNORE INTO changes (entity, entity_id, op) SELECT 'organization', id, 'upsert' FROM organizations x
		WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity = 'organization' AND c.entity_id = x.id) ORDER BY id`},
	{`SELECT (SELECT count(*) FROM companies) - (SELECT count(*) FROM changes WHERE entity = 'company')`,
		`INSERT OR IGNORE INTO changes (entity, entity_id, op, region_code) SELECT 'company', id, 'upsert', region_code FROM companies x
		WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity = 'company' AND c.entity_id = x.id) ORDER BY id`},
	{`SELECT (SELECT count(*) FROM speakers) - (SELECT count(*) FROM changes WHERE entity = 'speaker')`,
		`INSERT OR IGNORE INTO changes (entity, entity_id, op) SELECT 'speaker', id, 'upsert' FROM speakers x
		WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity = 'speaker' AND c.entity_id = x.id) ORDER BY id`},
	{`SELECT (SELECT count(*) FROM activities) - (SELECT count(*) FROM changes WHERE entity = 'activity')`,
		`INSERT OR IGNORE INTO changes (entity, entity_id, op, region_code, establishment_code)
		SELECT 'activity', id, 'upsert', region_code, establishment_code FROM activities x
		WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity = 'activity' AND c.entity_id = x.id) ORDER BY id`},
	{`SELECT (SELECT count(*) FROM trainees) - (SELECT count(*) FROM changes WHERE entity = 'trainee')`,
		`INSERT OR IGNORE INTO changes (entity, entity_id, op, region_code, establishment_code)
		SELECT 'trainee', x.id, CASE x.deleted WHEN 1 THEN 'delete' ELSE 'upsert' END, e.region_code, x.establishment_code
		FROM trainees x JOIN establishments e ON e.code = x.establishment_code
		WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity = 'trainee' AND c.entity_id = x.id) ORDER BY x.id`},
}

// backfillChanges runs backfillSQL when some entity kind has fewer change
// entries than rows (cheap counts first; the write only when needed).
func (e *Engine) backfillChanges(ctx context.Context) error {
	var todo []string
	for _, b := range backfillSQL {
		var n int64
		if err := e.DB.Read.QueryRowContext(ctx, b.count).Scan(&n); err != nil {
			return fmt.Errorf("change log count: %w", err)
		}
		if n > 0 {
			todo = append(todo, b.fill)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	return e.DB.WithTx(ctx, func(tx *sql.Tx) error {
		for _, q := range todo {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("change log backfill: %w", err)
			}
		}
		return nil
	})
}

// BackfillChanges gives every roster entity without one a change-log entry
// (run after an import that wrote rows without recording changes).
func (e *Engine) BackfillChanges(ctx context.Context) (err error) {
	defer derrors.Wrap(&err, "engine.BackfillChanges")
	return e.backfillChanges(ctx)
}

// loadData fills the Data of the page's upserts, one query per entity
// kind and chunk of ids (never one query per row). An upsert whose entity
// is gone becomes a delete.
func (e *Engine) loadData(ctx context.Context, chs []protocol.Change) error {
	byKind := map[string][]int{}
	for i, c := range chs {
		if c.Op == "upsert" && c.Data == nil {
			byKind[c.Entity] = append(byKind[c.Entity], i)
		}
	}
	for kind, idx := range byKind {
		for len(idx) > 0 {
			n := min(len(idx), 500)
			part := idx[:n]
			idx = idx[n:]
			data, err := e.loadKind(ctx, kind, chs, part)
			if err != nil {
				return fmt.Errorf("pull %s: %w", kind, err)
			}
			for _, i := range part {
				if d, ok := data[chs[i].ID]; ok {
					chs[i].Data = d
				} else {
					chs[i].Op = "delete"
				}
			}
		}
	}
	return nil
}

func (e *Engine) loadKind(ctx context.Context, kind string, chs []protocol.Change, idx []int) (map[string]any, error) {
	out := map[string]any{}
	args := make([]any, len(idx))
	for j, i := range idx {
		args[j] = chs[i].ID
	}
	in := placeholders(len(args))
	scan := func(q string, fn func(rows *sql.Rows) (string, any, error)) error {
		rows, err := e.DB.Read.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			id, d, err := fn(rows)
			if err != nil {
				return err
			}
			out[id] = d
		}
		return rows.Err()
	}
	var err error
	switch kind {
	case "establishment":
		err = scan(`SELECT code, name, city, region_code FROM establishments WHERE code IN (`+in+`)`, func(r *sql.Rows) (string, any, error) {
			var x prodays.Establishment
			err := r.Scan(&x.Code, &x.Name, &x.City, &x.RegionCode)
			return x.Code, x, err
		})
	case "organization":
		err = scan(`SELECT id, name, type FROM organizations WHERE id IN (`+in+`)`, func(r *sql.Rows) (string, any, error) {
			var x prodays.Organization
			err := r.Scan(&x.ID, &x.Name, &x.Type)
			return x.ID, x, err
		})
	case "company":
		err = scan(`SELECT id, name, sector, city, region_code FROM companies WHERE id IN (`+in+`)`, func(r *sql.Rows) (string, any, error) {
			var x prodays.Company
			err := r.Scan(&x.ID, &x.Name, &x.Sector, &x.City, &x.RegionCode)
			return x.ID, x, err
		})
	case "speaker":
		err = scan(`SELECT id, last_name, first_name, organization_id, title FROM speakers WHERE id IN (`+in+`)`, func(r *sql.Rows) (string, any, error) {
			var x prodays.Speaker
			err := r.Scan(&x.ID, &x.LastName, &x.FirstName, &x.OrganizationID, &x.Title)
			return x.ID, x, err
		})
	case "trainee":
		err = scan(`SELECT id, last_name, first_name, establishment_code, program, group_name, gender, version, source FROM trainees
			WHERE deleted = 0 AND id IN (`+in+`)`, func(r *sql.Rows) (string, any, error) {
			var x TraineeData
			err := r.Scan(&x.ID, &x.LastName, &x.FirstName, &x.EstablishmentCode, &x.Program, &x.Group, &x.Gender, &x.Version, &x.Source)
			return x.ID, x, err
		})
	case "activity":
		err = scan(`SELECT a.id, a.kind, a.title, a.date, a.start_time, a.end_time, a.establishment_code, COALESCE(a.company_id, ''), a.region_code,
			a.capacity, a.status, COALESCE((SELECT json_group_array(speaker_id ORDER BY position) FROM activity_speakers s WHERE s.activity_id = a.id), '[]')
			FROM activities a WHERE a.id IN (`+in+`)`, func(r *sql.Rows) (string, any, error) {
			var x ActivityData
			var sp string
			err := r.Scan(&x.ID, &x.Kind, &x.Title, &x.Date, &x.StartTime, &x.EndTime, &x.EstablishmentCode, &x.CompanyID, &x.RegionCode,
				&x.Capacity, &x.Status, &sp)
			if err == nil {
				err = json.Unmarshal([]byte(sp), &x.SpeakerIDs)
			}
			if x.SpeakerIDs == nil {
				x.SpeakerIDs = []string{}
			}
			return x.ID, x, err
		})
	case "attendance":
		// The composite id is matched by its parts through json_each.
		keys := make([][3]string, 0, len(args))
		for _, a := range args {
			parts := strings.SplitN(a.(string), ":", 3)
			if len(parts) == 3 {
				keys = append(keys, [3]string{parts[0], parts[1], parts[2]})
			}
		}
		kb, _ := json.Marshal(keys)
		rows, qerr := e.DB.Read.QueryContext(ctx, `SELECT `+attendanceCols+`
			FROM json_each(?) k JOIN attendance a ON a.activity_id = k.value->>0 AND a.person_kind = k.value->>1 AND a.person_id = k.value->>2`, string(kb))
		if qerr != nil {
			return nil, qerr
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanAttendance(rows)
			if err != nil {
				return nil, err
			}
			out[protocol.AttendanceID(x.ActivityID, x.Person.Kind, x.Person.ID)] = x
		}
		err = rows.Err()
	default:
		return nil, fmt.Errorf("unknown entity %q in the change log", kind)
	}
	return out, err
}

// TraineeData is a trainee in a pull: the columns of trainees.csv under
// the same names, plus version (the base_version of a correction) and
// source (roster or walk_in).
type TraineeData struct {
	prodays.Trainee
	Version int64  `json:"version"`
	Source  string `json:"source"`
}

// ActivityData is an activity in a pull: the columns of activities.csv
// (speaker_ids as an array) and its status (open or closed).
type ActivityData struct {
	prodays.Activity
	Status string `json:"status"`
}
