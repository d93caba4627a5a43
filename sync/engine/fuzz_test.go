package engine_test

import (
	"context"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// FuzzPush decodes and applies push bodies against a small seeded database
// (as staff1 on device dev-fuzz). Whatever the body, the engine answers a
// stable error code or one valid result per mutation, never an internal
// error, and the attendance table stays consistent with its check-ins.
func FuzzPush(f *testing.F) {
	ph := synctest.NewPhone("dev-fuzz", eventNow.Add(-time.Hour))
	c := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	reg := ph.Register("E1", "Aït", "Noura")
	f.Add(synctest.Body("dev-fuzz", eventNow, 1, c))
	f.Add(synctest.Body("dev-fuzz", eventNow, 4, c, ph.Undo("A1", "trainee", synctest.TraineesE1[0], c.ID), ph.CheckIn("A1", "trainee", reg.Trainee.ID), reg))
	f.Add(synctest.Body("dev-fuzz", eventNow.Add(72*time.Hour), 1, ph.Update(synctest.TraineesE1[1], 1, map[string]string{"last_name": "X", "group": "G"})))
	f.Add([]byte(`{"device_id":"dev-fuzz","client_time":"2026-03-23T10:00:00Z","mutations":[{"id":"x","seq":0,"type":"nope"},{"id":"0190a6b2-0000-7000-8000-000000000001","seq":1,"type":"future.thing","x":1},null,7]}`))
	e := mustEngine(f)
	p := synctest.Principal("staff1", "dev-fuzz")
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := protocol.DecodePush(body)
		if err != nil {
			if code := prodays.ErrorCode(err); code != prodays.EInvalid && code != prodays.ETooLarge {
				t.Fatalf("decode: unexpected code %s: %v", code, err)
			}
			return
		}
		resp, err := e.Push(context.Background(), p, req)
		if err != nil {
			if prodays.ErrorCode(err) != protocol.ECodeDeviceMismatch {
				t.Fatalf("push: %v", err)
			}
			return
		}
		if len(resp.Results) != len(req.Mutations) {
			t.Fatalf("%d results for %d mutations", len(resp.Results), len(req.Mutations))
		}
		for _, r := range resp.Results {
			switch r.Status {
			case protocol.StatusApplied:
			case protocol.StatusRejected, protocol.StatusFlagged:
				if r.Code == "" {
					t.Fatalf("%s without a code: %+v", r.Status, r)
				}
			case protocol.StatusDuplicate:
				if r.Outcome == "" {
					t.Fatalf("duplicate without outcome: %+v", r)
				}
			default:
				t.Fatalf("bad status %+v", r)
			}
		}
		for _, inv := range []struct{ what, q string }{
			{"inconsistent attendance rows", `SELECT count(*) FROM attendance a WHERE a.override IS NULL AND a.present <> (a.check_in_ids <> '[]')`},
			// Every presence has its place in the change sequence, its own
			// (migration 00034).
			{"presences without a seq", `SELECT count(*) FROM attendance WHERE seq <= 0`},
			{"seqs taken twice", `SELECT count(*) FROM (SELECT seq FROM (SELECT seq FROM attendance UNION ALL SELECT seq FROM changes) GROUP BY seq HAVING count(*) > 1)`},
			// Every check-in of a walk-in is in the by-person index
			// (migration 00035).
			{"walk-in check-ins not marked", `SELECT count(*) FROM checkins WHERE person_kind = 'trainee' AND walk_in = 0
				AND person_id IN (SELECT id FROM trainees WHERE source = 'walk_in')`},
		} {
			var bad int
			if err := e.DB.Read.QueryRow(inv.q).Scan(&bad); err != nil || bad != 0 {
				t.Fatalf("%s: %d %v", inv.what, bad, err)
			}
		}
	})
}
