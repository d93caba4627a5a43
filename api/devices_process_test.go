package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
)

// devicesAnswer is the JSON of GET /api/v1/review/devices.
type devicesAnswer struct {
	Date    string `json:"date"`
	Summary struct {
		Total       int `json:"total"`
		SyncedToday int `json:"synced_today"`
		Pending     int `json:"pending"`
		Gaps        int `json:"gaps"`
		NotSeen     int `json:"not_seen"`
	} `json:"summary"`
	Devices []struct {
		ID          string     `json:"device_id"`
		Role        string     `json:"role"`
		OutboxSize  int64      `json:"outbox_size"`
		SeqGaps     [][2]int64 `json:"seq_gaps"`
		SyncedToday bool       `json:"synced_today"`
		Attention   []string   `json:"attention"`
	} `json:"devices"`
}

// TestDevicesAttention (issue #18, finding 7) against the real binary: a
// phone that sent its whole outbox shows 0 pending (the push's
// outbox_size counts its batch); one that sent 2 of 5 mutations, with a
// seq gap, shows 3 pending and comes first when sorted by attention; a
// phone that last pushed yesterday is not synced today; the CSV export
// lists the same devices in the same order.
func TestDevicesAttention(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: ptSeed})
	const (
		done    = "0190d5a4-8f0c-7a11-9c3b-00000000d0e1"
		behind  = "0190d5a4-8f0c-7a11-9c3b-00000000d0e2"
		old     = "0190d5a4-8f0c-7a11-9c3b-00000000d0e3"
		console = "0190d5a4-8f0c-7a11-9c3b-00000000d0e4"
	)
	tr := synctest.TraineesE1
	ph := &ptPhone{}
	s := env.Login(t, "staff1", done)
	if st, _, code := ptPush(t, s, 3, ph.checkIn(1, tr[0]), ph.checkIn(2, tr[1]), ph.checkIn(3, tr[2])); st != http.StatusOK {
		t.Fatalf("push (all): %d %s", st, code)
	}
	s = env.Login(t, "staff1", behind)
	if st, _, code := ptPush(t, s, 5, ph.checkIn(1, tr[3]), ph.checkIn(3, tr[4])); st != http.StatusOK {
		t.Fatalf("push (2 of 5): %d %s", st, code)
	}
	s = env.Login(t, "staff1", old)
	if st, _, code := ptPush(t, s, 1, ph.checkIn(1, tr[5])); st != http.StatusOK {
		t.Fatalf("push (old): %d %s", st, code)
	}
	yesterday := time.Now().Add(-30 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	if _, err := env.DB.Write.Exec(`UPDATE devices SET last_push_at = ?, last_seen_at = ? WHERE id = ?`, yesterday, yesterday, old); err != nil {
		t.Fatal(err)
	}
	sup := env.Login(t, "sup1", console)

	get := func(q url.Values) devicesAnswer {
		t.Helper()
		st, body := ptGet(t, sup, "/api/v1/review/devices?"+q.Encode())
		if st != http.StatusOK {
			t.Fatalf("devices %v: %d %s", q, st, body)
		}
		var a devicesAnswer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := get(url.Values{"sort": {"attention"}, "not_seen_since": {time.Now().Add(-2 * time.Hour).Format(time.RFC3339)}})
	var order []string
	for _, d := range a.Devices {
		order = append(order, d.ID)
		switch d.ID {
		case done:
			if d.OutboxSize != 0 || len(d.Attention) != 0 || !d.SyncedToday {
				t.Errorf("phone that sent everything: pending %d attention %v synced today %v, want 0 [] true", d.OutboxSize, d.Attention, d.SyncedToday)
			}
		case behind:
			if d.OutboxSize != 3 || !slices.Equal(d.Attention, []string{"pending", "gaps"}) {
				t.Errorf("phone that sent 2 of 5: pending %d attention %v, want 3 [pending gaps]", d.OutboxSize, d.Attention)
			}
		case old:
			if d.SyncedToday || !slices.Equal(d.Attention, []string{"not_seen", "not_synced_today"}) {
				t.Errorf("phone of yesterday: synced today %v attention %v, want false [not_seen not_synced_today]", d.SyncedToday, d.Attention)
			}
		}
	}
	if want := []string{behind, old, done, console}; !slices.Equal(order, want) {
		t.Errorf("attention order %v, want %v", order, want)
	}
	if a.Summary.Total != 4 || a.Summary.SyncedToday != 2 || a.Summary.Pending != 1 || a.Summary.Gaps != 1 || a.Summary.NotSeen != 1 {
		t.Errorf("summary %+v, want total 4, synced today 2, pending 1, gaps 1, not seen 1", a.Summary)
	}

	st, body := ptGet(t, sup, "/api/v1/review/devices?sort=attention&format=csv")
	if st != http.StatusOK {
		t.Fatalf("csv: %d %s", st, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 5 || rows[0][0] != "device_id" || rows[0][7] != "pending" {
		t.Fatalf("csv: %v %q", err, body)
	}
	if rows[1][0] != behind || rows[1][7] != "3" || rows[1][8] != "2-2" || rows[3][0] != done || rows[3][7] != "0" {
		t.Errorf("csv rows %q, want %s pending 3 gap 2-2 first, %s pending 0 third", rows[1:], behind, done)
	}

	if st, _ := ptGet(t, sup, "/api/v1/review/devices?region=CS"); st != http.StatusForbidden {
		t.Errorf("a supervisor asking another region: %d, want 403", st)
	}
	for _, q := range []string{"sort=worst", "not_seen_since=yesterday", "format=pdf"} {
		if st, _ := ptGet(t, sup, "/api/v1/review/devices?"+q); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, st)
		}
	}
}
