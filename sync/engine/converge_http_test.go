package engine_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"prodays/auth"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// TestConvergenceHTTP delivers a few histories of the property test
// through the real HTTP API (push, close, flag decisions) and checks that
// they end in the same state as through the engine directly.
func TestConvergenceHTTP(t *testing.T) {
	e := convergenceDB(t)
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		h := genHistory(r)
		closeAt := r.Float64()
		want := run(t, e, genOrder(r, h, closeAt))
		got := runHTTP(t, genOrder(r, h, closeAt))
		if got != want {
			t.Fatalf("seed %d: HTTP delivery ends in another state:\n%s", seed, diff(want, got))
		}
	}
}

func runHTTP(t *testing.T, order []delivery) string {
	env := testenv.New(t, testenv.Options{})
	synctest.Seed(t, env.DB)
	env.DB.Now = func() time.Time { return eventNow }
	keys, _ := auth.NewKeyring(testenv.TestKey)
	iss := &auth.Tokens{Keys: keys}
	now := store.FormatTime(eventNow)
	tokens := map[string]string{}
	token := func(user, device string) string {
		if tok, ok := tokens[device]; ok {
			return tok
		}
		if _, err := env.DB.Write.Exec(`INSERT INTO devices (id, username, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)`, device, user, now, now); err != nil {
			t.Fatal(err)
		}
		// The session the token speaks for (auth.Service.VerifyAccess).
		sid := "session-" + device
		if _, err := env.DB.Write.Exec(`INSERT INTO refresh_tokens (id, family_id, username, device_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sid, sid, user, device, "hash-"+sid, now, "2099-01-01T00:00:00Z"); err != nil {
			t.Fatal(err)
		}
		p := synctest.Principal(user, device)
		p.SessionID = sid
		tok, _, err := iss.Issue(*p, 1)
		if err != nil {
			t.Fatal(err)
		}
		tokens[device] = tok
		return tok
	}
	sup := token("sup1", "dev-sup")
	admin := token("admin", "dev-admin")
	for _, d := range order {
		if d.close {
			if st := env.Do(t, "POST", "/api/v1/activities/A1/close", sup, map[string]string{"reason": "signed off"}, nil); st != 204 {
				t.Fatalf("close: %d", st)
			}
			continue
		}
		var body map[string]any
		json.Unmarshal(synctest.Body(d.dev.id, eventNow, len(d.ms), d.ms...), &body)
		var resp protocol.PushResponse
		if st := env.Do(t, "POST", "/api/v1/sync/push", token(d.dev.user, d.dev.id), body, &resp); st != http.StatusOK || len(resp.Results) != len(d.ms) {
			t.Fatalf("push: %d %+v", st, resp)
		}
	}
	for {
		var out struct {
			Flags []struct {
				ID   int64  `json:"id"`
				Kind string `json:"kind"`
			} `json:"flags"`
		}
		if st := env.Do(t, "GET", "/api/v1/review/flags", admin, nil, &out); st != 200 {
			t.Fatalf("flags: %d", st)
		}
		n := 0
		for _, f := range out.Flags {
			if f.Kind == protocol.FlagLate {
				n++
				if st := env.Do(t, "POST", fmt.Sprintf("/api/v1/review/flags/%d/accept", f.ID), admin, map[string]string{"reason": "accepted"}, nil); st != 204 {
					t.Fatalf("accept: %d", st)
				}
			}
		}
		if n == 0 {
			break
		}
	}
	return dump(t, env.DB.Read)
}
