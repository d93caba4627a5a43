package importer

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"prodays/store"
)

// table says how a kind is written. load selects the id and the values of
// every row, as text and in record.vals order; insert takes the id, the
// bound values and then the time now as many times as stamps says; update
// takes the bound values, now (when stamped) and the id.
type table struct {
	entity  string // change-log entity, "" for none
	load    string
	insert  string
	update  string
	types   string // per bound value: t text, n text or NULL when empty, i integer
	stamps  int    // times now follows the values in insert (and once in update when > 0)
	argsUpd func(vals []any, now, id string) []any
}

// actEstablishment and actRegion are the places of an activity's scope
// keys among its compared values (tables[KindActivities]).
const (
	actEstablishment = 5
	actRegion        = 7
)

var tables = map[string]*table{
	KindRegions: {
		load:   `SELECT code, name FROM regions`,
		update: `UPDATE regions SET name = ? WHERE code = ?`,
		types:  "t",
	},
	KindEstablishments: plain("establishment", "establishments", "code", "name", "city", "region_code"),
	KindTrainees: {
		entity: "trainee",
		load:   `SELECT id, last_name, first_name, establishment_code, program, group_name, gender FROM trainees`,
		insert: `INSERT INTO trainees (id, last_name, first_name, establishment_code, program, group_name, gender, source, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'roster', ?)`,
		update: `UPDATE trainees SET last_name = ?, first_name = ?, establishment_code = ?, program = ?, group_name = ?, gender = ?,
			version = version + 1, updated_at = ? WHERE id = ?`,
		types:  "tttttt",
		stamps: 1,
	},
	KindCompanies:     plain("company", "companies", "id", "name", "sector", "city", "region_code"),
	KindOrganizations: plain("organization", "organizations", "id", "name", "type"),
	KindSpeakers:      plain("speaker", "speakers", "id", "last_name", "first_name", "organization_id", "title"),
	KindActivities: {
		// vals: kind, title, date, start_time, end_time, establishment_code
		// (actEstablishment), company_id, region_code (actRegion), capacity,
		// speakers.
		entity: "activity",
		// The last value, the speakers in position order, is compared but
		// written to activity_speakers.
		load: `SELECT a.id, a.kind, a.title, a.date, a.start_time, a.end_time, a.establishment_code, COALESCE(a.company_id, ''),
			a.region_code, CAST(a.capacity AS TEXT),
			COALESCE((SELECT group_concat(s.speaker_id, '|' ORDER BY s.position) FROM activity_speakers s WHERE s.activity_id = a.id), '')
			FROM activities a`,
		insert: `INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, company_id, region_code, capacity)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		update: `UPDATE activities SET kind = ?, title = ?, date = ?, start_time = ?, end_time = ?, establishment_code = ?,
			company_id = ?, region_code = ?, capacity = ? WHERE id = ?`,
		types: "ttttttnti",
	},
	KindUsers: {
		load: `SELECT username, full_name, role, COALESCE(establishment_code, ''), COALESCE(region_code, '') FROM users`,
		insert: `INSERT INTO users (username, full_name, role, establishment_code, region_code, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
		// A change of role or scope bumps scope_version (pull cursors
		// carry it). The password and the disabled flag are not the
		// roster's business.
		update: `UPDATE users SET full_name = ?, role = ?, establishment_code = ?, region_code = ?,
			scope_version = scope_version + (role IS NOT ? OR establishment_code IS NOT ? OR region_code IS NOT ?),
			updated_at = ? WHERE username = ?`,
		types:  "ttnn",
		stamps: 2,
		argsUpd: func(v []any, now, id string) []any {
			return []any{v[0], v[1], v[2], v[3], v[1], v[2], v[3], now, id}
		},
	},
}

// plain is the table of a kind whose rows are the key column then text
// columns, written as they are: entity's changes, the statements built
// from the column names.
func plain(entity, name, key string, cols ...string) *table {
	all := strings.Join(append([]string{key}, cols...), ", ")
	return &table{
		entity: entity,
		load:   "SELECT " + all + " FROM " + name,
		insert: "INSERT INTO " + name + " (" + all + ") VALUES (?" + strings.Repeat(", ?", len(cols)) + ")",
		update: "UPDATE " + name + " SET " + strings.Join(cols, " = ?, ") + " = ? WHERE " + key + " = ?",
		types:  strings.Repeat("t", len(cols)),
	}
}

// bind converts a record's values to SQL arguments per types.
func (t *table) bind(vals []string) ([]any, error) {
	args := make([]any, len(t.types))
	for i, typ := range t.types {
		switch typ {
		case 't':
			args[i] = vals[i]
		case 'n':
			if vals[i] == "" {
				args[i] = nil
			} else {
				args[i] = vals[i]
			}
		case 'i':
			n, err := strconv.ParseInt(vals[i], 10, 64)
			if err != nil {
				return nil, err
			}
			args[i] = n
		}
	}
	return args, nil
}

// write upserts the records of one file of kind in one transaction,
// counting into fr, recording a change for every inserted or changed row
// and auditing the run.
//
// A trainee field changed on the server since the last import (a phone's
// update, a decided conflict) keeps the server's value unless
// opts.OverwriteLocalChanges; each such field is appended to local.
func write(ctx context.Context, db *store.DB, kind string, recs []*record, fr *FileReport, opts Options, local *[]LocalChange) error {
	t := tables[kind]
	now := store.FormatTime(db.Now())
	skipped := fr.Counts.Skipped
	start := len(*local)
	return db.WithTx(ctx, func(tx *sql.Tx) error {
		fr.Counts = Counts{Skipped: skipped}
		*local = (*local)[:start] // a retried transaction starts again
		existing, err := loadExisting(ctx, tx, t.load)
		if err != nil {
			return err
		}
		var base *importBase
		if kind == KindTrainees {
			if base, err = loadImportBase(ctx, tx); err != nil {
				return err
			}
		}
		var ins, upd, delSpk, insSpk *sql.Stmt
		if t.insert != "" {
			if ins, err = tx.PrepareContext(ctx, t.insert); err != nil {
				return err
			}
			defer ins.Close()
		}
		if upd, err = tx.PrepareContext(ctx, t.update); err != nil {
			return err
		}
		defer upd.Close()
		if kind == KindActivities {
			if delSpk, err = tx.PrepareContext(ctx, `DELETE FROM activity_speakers WHERE activity_id = ?`); err != nil {
				return err
			}
			defer delSpk.Close()
			if insSpk, err = tx.PrepareContext(ctx, `INSERT INTO activity_speakers (activity_id, speaker_id, position) VALUES (?, ?, ?)`); err != nil {
				return err
			}
			defer insSpk.Close()
		}
		for _, rec := range recs {
			old, found := existing[rec.id]
			fileVals, vals, region, est := rec.vals, rec.vals, rec.region, rec.establishment
			if base != nil {
				if found {
					var changes []LocalChange
					vals, changes = base.merge(rec, fr.File, old, fileVals, opts.OverwriteLocalChanges)
					*local = append(*local, changes...)
					fr.LocalChanges += len(changes)
					if vals[traineeEstablishment] != fileVals[traineeEstablishment] {
						if err := tx.QueryRowContext(ctx, `SELECT code, region_code FROM establishments WHERE code = ?`,
							vals[traineeEstablishment]).Scan(&est, &region); err != nil {
							return fmt.Errorf("line %d: establishment of %s: %w", rec.line, rec.id, err)
						}
					}
				}
				base.remember(rec.id, fileVals)
			}
			if found && slices.Equal(old, vals) {
				fr.Counts.Unchanged++
				continue
			}
			args, err := t.bind(vals)
			if err != nil {
				return fmt.Errorf("line %d: %w", rec.line, err)
			}
			if !found {
				if ins == nil {
					return fmt.Errorf("line %d: %s %s cannot be added", rec.line, kind, rec.id)
				}
				a := append([]any{rec.id}, args...)
				for range t.stamps {
					a = append(a, now)
				}
				if _, err := ins.ExecContext(ctx, a...); err != nil {
					return fmt.Errorf("line %d: insert %s: %w", rec.line, rec.id, err)
				}
				fr.Counts.Inserted++
			} else {
				var a []any
				if t.argsUpd != nil {
					a = t.argsUpd(args, now, rec.id)
				} else {
					a = args
					if t.stamps > 0 {
						a = append(a, now)
					}
					a = append(a, rec.id)
				}
				if _, err := upd.ExecContext(ctx, a...); err != nil {
					return fmt.Errorf("line %d: update %s: %w", rec.line, rec.id, err)
				}
				fr.Counts.Updated++
			}
			// existing is updated so that a later row of the same id (from
			// another file of the run) compares against what was written.
			existing[rec.id] = vals
			if kind == KindActivities && found && (old[actEstablishment] != vals[actEstablishment] || old[actRegion] != vals[actRegion]) {
				// Its presences move to the new scope's phones.
				if err := store.RescopeAttendance(ctx, tx, rec.id, old[actRegion], old[actEstablishment]); err != nil {
					return fmt.Errorf("line %d: %w", rec.line, err)
				}
			}
			if kind == KindActivities {
				last := len(vals) - 1
				if !found || old[last] != vals[last] {
					if err := writeSpeakers(ctx, delSpk, insSpk, rec.id, vals[last], found); err != nil {
						return fmt.Errorf("line %d: %w", rec.line, err)
					}
				}
			}
			if t.entity != "" {
				err := store.RecordChange(ctx, tx, store.Change{Entity: t.entity, ID: rec.id, Op: "upsert",
					RegionCode: region, EstablishmentCode: est})
				if err != nil {
					return err
				}
			}
		}
		if base != nil {
			if err := base.flush(ctx, tx); err != nil {
				return err
			}
		}
		return store.Audit(ctx, tx, db.Now(), store.AuditEntry{
			Username: opts.Username,
			Action:   "import",
			Target:   kind,
			Detail: map[string]any{
				"file": fr.File, "rows": fr.Rows, "inserted": fr.Counts.Inserted, "updated": fr.Counts.Updated,
				"unchanged": fr.Counts.Unchanged, "skipped": fr.Counts.Skipped,
				"local_changes": fr.LocalChanges, "overwrite_local_changes": opts.OverwriteLocalChanges,
			},
		})
	})
}

// writeSpeakers replaces the speakers of an activity by ids ("a|b", in
// position order from 1).
func writeSpeakers(ctx context.Context, del, ins *sql.Stmt, activity, ids string, existed bool) error {
	if existed {
		if _, err := del.ExecContext(ctx, activity); err != nil {
			return fmt.Errorf("speakers of %s: %w", activity, err)
		}
	}
	if ids == "" {
		return nil
	}
	for i, s := range strings.Split(ids, "|") {
		if _, err := ins.ExecContext(ctx, activity, s, i+1); err != nil {
			return fmt.Errorf("speaker %s of %s: %w", s, activity, err)
		}
	}
	return nil
}

// loadExisting reads every row of a kind: id → values as text.
func loadExisting(ctx context.Context, tx *sql.Tx, q string) (map[string][]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("load existing rows: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	dest := make([]any, len(cols))
	vals := make([]string, len(cols))
	for i := range dest {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("load existing rows: %w", err)
		}
		out[vals[0]] = slices.Clone(vals[1:])
	}
	return out, rows.Err()
}
