package e2e_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"prodays"
	"prodays/api"
	"prodays/auth"
)

// fakeSync stands in for the sync engine while it is not in this build: it
// serves the fixture as a pull snapshot and applies pushes with the
// protocol's rules (idempotent by mutation id, observed-remove presence),
// so that the PWA can be tested against the wire contract alone.
type fakeSync struct {
	auth    *auth.Service
	changes []map[string]any

	mu sync.Mutex
	// Knobs of the edge-case test.
	rejectActivity string            // check-ins there are rejected (unknown_activity)
	tooMany        int               // the next pushes answer 429 with Retry-After: 1
	unavailable    bool              // pushes answer 503
	resyncNext     bool              // the next pull with a cursor answers 409 resync
	seen           map[string]string // mutation id → first status
	checkIn        map[string]string // check-in id → pair
	undone         map[string]bool   // check-in ids named by an undo
	pushes         int
	batches        []int // sizes of the pushes
}

func newFakeSync(f *fixture) *fakeSync {
	return &fakeSync{changes: f.changes(), seen: map[string]string{}, checkIn: map[string]string{}, undone: map[string]bool{}}
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "urn:prodays:problem:" + code, "title": http.StatusText(status), "status": status, "detail": detail, "code": code})
}

func (f *fakeSync) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		problem(w, 401, prodays.EUnauthorized, "Authentication required.")
		return
	}
	if _, err := f.auth.VerifyAccess(r.Context(), tok); err != nil {
		problem(w, 401, prodays.EUnauthorized, "Invalid token.")
		return
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/v1/sync/pull":
		f.pull(w, r)
	case r.Method == "POST" && r.URL.Path == "/api/v1/sync/push":
		f.push(w, r)
	default:
		problem(w, 404, prodays.ENotFound, "No such resource.")
	}
}

func (f *fakeSync) pull(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	resync := f.resyncNext && r.URL.Query().Get("cursor") != ""
	if resync {
		f.resyncNext = false
	}
	f.mu.Unlock()
	if resync {
		problem(w, 409, "resync", "Your scope changed: pull a fresh snapshot.")
		return
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	f.mu.Lock()
	all := append([]map[string]any(nil), f.changes...)
	f.mu.Unlock()
	to := min(from+limit, len(all))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"cursor": strconv.Itoa(to), "has_more": to < len(all), "changes": all[from:to]})
}

type fakeMutation struct {
	ID         string `json:"id"`
	Seq        int64  `json:"seq"`
	Type       string `json:"type"`
	RecordedAt string `json:"recorded_at"`
	ActivityID string `json:"activity_id"`
	Person     struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
	} `json:"person"`
	Method  string         `json:"method"`
	Undoes  []string       `json:"undoes"`
	Trainee map[string]any `json:"trainee"`
}

func (f *fakeSync) push(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DeviceID   string         `json:"device_id"`
		ClientTime string         `json:"client_time"`
		AppVersion string         `json:"app_version"`
		OutboxSize int            `json:"outbox_size"`
		Mutations  []fakeMutation `json:"mutations"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.DeviceID == "" || body.ClientTime == "" {
		problem(w, 400, prodays.EInvalid, "bad push body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavailable {
		problem(w, 503, prodays.EUnavailable, "Try later.")
		return
	}
	if f.tooMany > 0 {
		f.tooMany--
		w.Header().Set("Retry-After", "1")
		problem(w, 429, prodays.ETooManyRequest, "Too many requests.")
		return
	}
	f.pushes++
	f.batches = append(f.batches, len(body.Mutations))
	var results []map[string]any
	for _, m := range body.Mutations {
		if first, ok := f.seen[m.ID]; ok {
			results = append(results, map[string]any{"id": m.ID, "status": "duplicate", "outcome": first})
			continue
		}
		status := "applied"
		res := map[string]any{"id": m.ID}
		switch m.Type {
		case "attendance.check_in":
			if m.ActivityID == f.rejectActivity {
				status = "rejected"
				res["code"], res["message"] = "unknown_activity", "Activité inconnue du serveur."
				break
			}
			f.checkIn[m.ID] = m.ActivityID + "|" + m.Person.Kind + "|" + m.Person.ID
		case "attendance.undo":
			for _, id := range m.Undoes {
				f.undone[id] = true
			}
		case "trainee.register":
			f.changes = append(f.changes, map[string]any{"entity": "trainee", "op": "upsert", "id": m.Trainee["id"], "data": m.Trainee})
		default:
			status = "rejected"
			res["code"], res["message"] = "unknown_type", "Unknown mutation type."
		}
		f.seen[m.ID] = status
		res["status"] = status
		results = append(results, res)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"server_time": time.Now().UTC().Format(time.RFC3339Nano), "clock_offset_ms": 0, "results": results})
}

// set changes the fake's knobs under its lock.
func (f *fakeSync) set(fn func(f *fakeSync)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// presences returns the present pairs, by the observed-remove rule.
func (f *fakeSync) presences() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := map[string]bool{}
	for id, pair := range f.checkIn {
		if !f.undone[id] {
			set[pair] = true
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
