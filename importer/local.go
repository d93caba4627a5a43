package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"prodays"
)

// traineeFields are the trainees file's fields in record.vals order (and
// the field names of trainee_import_values and trainee_field_stamps).
var traineeFields = []string{"last_name", "first_name", "establishment_code", "program", "group", "gender"}

// traineeEstablishment is the place of establishment_code in traineeFields.
const traineeEstablishment = 2

// LocalChange is prodays.ImportLocalChange.
type LocalChange = prodays.ImportLocalChange

// importBase is what a trainees import compares with: each trainee's
// values in the last import (trainee_import_values), and the fields the
// server wrote since (trainee_field_stamps) for a trainee imported before
// the last import's values were kept.
type importBase struct {
	last    map[string][]*string // trainee id → value per traineeFields, nil when unknown
	stamped map[string]bool      // "id\x00field" with a trainee_field_stamps row
	// pending are the trainees whose values to store as the last
	// import's ([id, JSON object] rows), written by flush in a few
	// statements.
	pending [][2]string
}

// loadImportBase reads the last import's values and the stamped fields.
func loadImportBase(ctx context.Context, tx *sql.Tx) (*importBase, error) {
	b := &importBase{last: map[string][]*string{}, stamped: map[string]bool{}}
	rows, err := tx.QueryContext(ctx, `SELECT trainee_id, fields FROM trainee_import_values`)
	if err != nil {
		return nil, fmt.Errorf("load last import values: %w", err)
	}
	for rows.Next() {
		var id, fields string
		if err := rows.Scan(&id, &fields); err != nil {
			rows.Close()
			return nil, err
		}
		var m map[string]string
		if json.Unmarshal([]byte(fields), &m) != nil {
			continue // unknown: as a trainee imported before 00039
		}
		vals := make([]*string, len(traineeFields))
		for i, f := range traineeFields {
			if v, ok := m[f]; ok {
				vals[i] = &v
			}
		}
		b.last[id] = vals
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT trainee_id, field FROM trainee_field_stamps`)
	if err != nil {
		return nil, fmt.Errorf("load trainee field stamps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, field string
		if err := rows.Scan(&id, &field); err != nil {
			return nil, err
		}
		b.stamped[id+"\x00"+field] = true
	}
	return b, rows.Err()
}

// changedOnServer reports whether field i of trainee id differs from its
// last imported value (cur is the server's value); with no imported value
// known, whether the server wrote the field (a stamp).
func (b *importBase) changedOnServer(id string, i int, cur string) bool {
	if last := b.last[id]; last != nil && last[i] != nil {
		return *last[i] != cur
	}
	return b.stamped[id+"\x00"+traineeFields[i]]
}

// merge returns the values to write for trainee rec (old: the server's
// values, file: the file's), and the fields changed on the server since
// the last import that the file would change: those keep the server's
// value unless overwrite.
func (b *importBase) merge(rec *record, file string, old, vals []string, overwrite bool) ([]string, []LocalChange) {
	var out []string
	var changes []LocalChange
	for i := range traineeFields {
		if vals[i] == old[i] || !b.changedOnServer(rec.id, i, old[i]) {
			continue
		}
		changes = append(changes, LocalChange{File: file, Line: rec.line, TraineeID: rec.id, Field: traineeFields[i],
			ServerValue: old[i], FileValue: vals[i], Kept: !overwrite})
		if !overwrite {
			if out == nil {
				out = append([]string(nil), vals...)
			}
			out[i] = old[i]
		}
	}
	if out == nil {
		return vals, changes
	}
	return out, changes
}

// remember queues the file's values of trainee id as its last import's
// (flush writes them) when they differ from those stored.
func (b *importBase) remember(id string, vals []string) {
	last := b.last[id]
	same := last != nil
	m := make(map[string]string, len(traineeFields))
	for i, f := range traineeFields {
		m[f] = vals[i]
		same = same && last[i] != nil && *last[i] == vals[i]
	}
	if same {
		return
	}
	js, _ := json.Marshal(m) // a map of strings always marshals
	b.pending = append(b.pending, [2]string{id, string(js)})
}

// flush writes the queued values, 2,000 trainees a statement (one JSON
// list each).
func (b *importBase) flush(ctx context.Context, tx *sql.Tx) error {
	for len(b.pending) > 0 {
		n := min(len(b.pending), 2000)
		list, err := json.Marshal(b.pending[:n])
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO trainee_import_values (trainee_id, fields)
			SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?) j WHERE true
			ON CONFLICT (trainee_id) DO UPDATE SET fields = excluded.fields`, string(list)); err != nil {
			return fmt.Errorf("store the last import's values: %w", err)
		}
		b.pending = b.pending[n:]
	}
	return nil
}
