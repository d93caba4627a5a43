package report_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"prodays/internal/dbtest"
	"reflect"
	"sort"
	"testing"

	"prodays"
	"prodays/importer"
	"prodays/internal/shared"
	"prodays/report"
	"prodays/simulate"
	"prodays/store"
)

// LoadEdition imports the office's files of dir and writes the attendance
// table from its checkins.jsonl by the README's rule — per phone, in seq
// order, the last action wins; present when present on at least one
// phone; unknown ids ignored — standing in for the sync engine.
func LoadEdition(tb testing.TB, db *store.DB, dir string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := importer.ImportDir(ctx, db, dir, importer.Options{}); err != nil {
		tb.Fatalf("import %s: %v", dir, err)
	}
	acts := checkins(tb, dir)
	sort.SliceStable(acts, func(i, j int) bool {
		if acts[i].DeviceID != acts[j].DeviceID {
			return acts[i].DeviceID < acts[j].DeviceID
		}
		return acts[i].Seq < acts[j].Seq
	})
	type key struct{ activity, kind, id string }
	type devKey struct {
		key
		device string
	}
	last := map[devKey]simulate.Action{}
	for _, a := range acts {
		k := key{a.ActivityID, "trainee", a.TraineeID}
		if a.SpeakerID != "" {
			k = key{a.ActivityID, "speaker", a.SpeakerID}
		}
		last[devKey{k, a.DeviceID}] = a
	}
	present := map[key]string{} // earliest check-in time among the phones where present
	for dk, a := range last {
		if a.Action == "check_in" {
			if t, ok := present[dk.key]; !ok || a.RecordedAt < t {
				present[dk.key] = a.RecordedAt
			}
		}
	}
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		for k, at := range present {
			// Unknown activities and persons are ignored.
			if _, err := tx.Exec(`INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, updated_at)
				SELECT ?, ?, ?, 1, ?, 'x' WHERE EXISTS (SELECT 1 FROM activities WHERE id = ?)
				AND (EXISTS (SELECT 1 FROM trainees WHERE id = ?) OR EXISTS (SELECT 1 FROM speakers WHERE id = ?))`,
				k.activity, k.kind, k.id, at, k.activity, k.id, k.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// checkins reads the actions of dir's checkins.jsonl.
func checkins(tb testing.TB, dir string) []simulate.Action {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, "checkins.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	acts, err := simulate.ReadActions(f)
	if err != nil {
		tb.Fatal(err)
	}
	return acts
}

// TestBilanMatchesExpected replays the office's datasets and compares the
// bilan with expected.json, every key (params, raw_actions and mess are
// for information).
func TestBilanMatchesExpected(t *testing.T) {
	shared.EachEdition(t, func(t *testing.T, dir string) {
		db := dbtest.Open(t)
		LoadEdition(t, db, dir)
		got, err := report.Bilan(context.Background(), db, report.Filter{Scope: prodays.AdminScope()})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		json.Unmarshal(raw, &want)
		for _, k := range []string{"params", "raw_actions", "mess"} {
			delete(want, k)
		}
		b, _ := json.Marshal(got)
		var have map[string]any
		json.Unmarshal(b, &have)
		for k, w := range want {
			if !reflect.DeepEqual(have[k], w) {
				t.Errorf("%s: got %v, want %v", k, have[k], w)
			}
		}
	})
}
