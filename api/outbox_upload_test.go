package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/store"
	"prodays/sync/protocol"
)

// TestOutboxUpload: a supervisor uploads a phone's saved outbox file
// (multipart, then the same file as JSON): it applies on behalf of the
// phone's owner, a second upload is all duplicates, and it is audited.
func TestOutboxUpload(t *testing.T) {
	env := syncEnv(t)
	env.Login(t, "staff1", "dev-lost") // the phone logged in once, then stayed offline
	sup := env.Login(t, "sup1", "dev-sup")
	ph := synctest.NewPhone("dev-lost", eventNow)
	file := synctest.Body("dev-lost", eventNow, 1, ph.CheckIn("A1", "trainee", synctest.TraineesE1[0]))

	send := func(body []byte, ct string) (int, map[string]any) {
		a := env.Raw(t, "POST", "/api/v1/review/outbox-upload", sup.AccessToken, ct, body)
		return a.Status, answer(a).JSON()
	}
	st, out := send(multipartBody("prodays-outbox.json", file, nil))
	if st != 200 || out["username"] != "staff1" {
		t.Fatalf("multipart upload: %d %v", st, out)
	}
	if r := out["results"].([]any)[0].(map[string]any); r["status"] != "applied" {
		t.Fatalf("first upload: %v", r)
	}
	st, out = send(file, "application/json")
	if r := out["results"].([]any)[0].(map[string]any); st != 200 || r["status"] != "duplicate" {
		t.Fatalf("second upload: %d %v", st, out)
	}
	var n int
	n = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM attendance WHERE activity_id = 'A1' AND person_id = ? AND present = 1`, synctest.TraineesE1[0])
	if n != 1 {
		t.Errorf("attendance rows: %d, want 1", n)
	}
	n = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM audit_log WHERE action = 'review.outbox_upload' AND username = 'sup1'`)
	if n != 2 {
		t.Errorf("audit rows: %d, want 2", n)
	}
	if st, _ := send([]byte(`{"device_id":"never-seen","client_time":"2026-03-23T10:00:00Z","mutations":[]}`), "application/json"); st != 404 {
		t.Errorf("unknown device: %d, want 404", st)
	}
}

// TestOutboxUploadKeepsTimes (issue #18, finding 1): a phone pushed once
// (its clock 2 minutes behind), then saved its outbox file during the
// activity and the file was uploaded 3 days later. The upload corrects the
// file's times by the device's last known offset, not by the upload time:
// the check-in keeps its time (in the activity's window, not flagged), the
// device gets no new skew; a device that never pushed gets no correction.
func TestOutboxUploadKeepsTimes(t *testing.T) {
	env := syncEnv(t)
	var now atomic.Pointer[time.Time]
	setNow := func(at time.Time) { now.Store(&at) }
	setNow(eventNow)
	env.DB.Now = func() time.Time { return *now.Load() }
	staff := env.Login(t, "staff1", "dev-late")
	env.Login(t, "staff1", "dev-never") // logged in, never pushed
	sup := env.Login(t, "sup1", "dev-sup")

	behind := 2 * time.Minute
	ph := synctest.NewPhone("dev-late", eventNow.Add(-behind-time.Minute))
	first := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	if a := env.Raw(t, "POST", "/api/v1/sync/push", staff.AccessToken, "application/json", synctest.Body("dev-late", eventNow.Add(-behind), 1, first)); a.Status != 200 {
		t.Fatalf("first push: %d %s", a.Status, a.Body)
	}
	ph.Clock = eventNow.Add(30*time.Minute - behind)
	saved := ph.CheckIn("A1", "trainee", synctest.TraineesE1[1])
	file := synctest.Body("dev-late", ph.Clock.Add(time.Minute), 1, saved) // saved on the phone at its own clock

	other := synctest.NewPhone("dev-never", eventNow.Add(time.Hour))
	otherIn := other.CheckIn("A1", "trainee", synctest.TraineesE1[2])
	otherFile := synctest.Body("dev-never", other.Clock, 1, otherIn)

	setNow(eventNow.Add(3 * 24 * time.Hour)) // the upload, days later
	upload := func(body []byte) map[string]any {
		a := env.Raw(t, "POST", "/api/v1/review/outbox-upload", sup.AccessToken, "application/json", body)
		if a.Status != 200 {
			t.Fatalf("upload: %d %s", a.Status, a.Body)
		}
		return answer(a).JSON()
	}
	out := upload(file)
	if out["clock"] != "last_known_offset" || out["clock_offset_ms"] != float64(behind.Milliseconds()) {
		t.Errorf("clock used: %v %v, want last_known_offset %d", out["clock"], out["clock_offset_ms"], behind.Milliseconds())
	}
	if r := out["results"].([]any)[0].(map[string]any); r["status"] != "applied" {
		t.Errorf("uploaded check-in: %v, want applied (in the activity's window)", r)
	}
	var occurred string
	var skewed, offset int64
	occurred = dbtest.Value[string](t, env.DB, `SELECT occurred_at FROM checkins WHERE id = ?`, saved.ID)
	if want := store.FormatTime(saved.RecordedAt.Add(behind)); occurred != want {
		t.Errorf("occurred_at %s, want %s (recorded_at + the last known offset)", occurred, want)
	}
	env.DB.Read.QueryRow(`SELECT clock_skewed, clock_offset_ms FROM devices WHERE id = 'dev-late'`).Scan(&skewed, &offset)
	if skewed != 0 || offset != behind.Milliseconds() {
		t.Errorf("device after the upload: skewed %d offset %d ms, want 0 and %d", skewed, offset, behind.Milliseconds())
	}

	out = upload(otherFile)
	if out["clock"] != "none" || out["clock_offset_ms"] != float64(0) {
		t.Errorf("never pushed: clock %v %v, want none 0", out["clock"], out["clock_offset_ms"])
	}
	occurred = dbtest.Value[string](t, env.DB, `SELECT occurred_at FROM checkins WHERE id = ?`, otherIn.ID)
	if want := store.FormatTime(otherIn.RecordedAt); occurred != want {
		t.Errorf("never pushed: occurred_at %s, want %s", occurred, want)
	}
	var flags int
	flags = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM flags WHERE activity_id = 'A1'`)
	if flags != 0 {
		t.Errorf("%d flags on A1, want 0 (nothing out of window)", flags)
	}
}

// TestOutboxUploadSentLog (protocol 1.1): an outbox file with the phone's
// sent log ("sent") re-applies what the server lacks, as after a restore:
// the sent mutation the server holds is a duplicate, the ones it never
// stored (lost) apply, a sent mutation also in the outbox is sent once,
// and a file over one push (1,200 sent mutations) applies in batches.
// The request and the answer follow openapi.json; an unknown member is
// still refused.
func TestOutboxUploadSentLog(t *testing.T) {
	env := syncEnv(t)
	staff := env.Login(t, "staff1", "dev-restored")
	sup := env.Login(t, "sup1", "dev-sup")
	ph := synctest.NewPhone("dev-restored", eventNow)
	held := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	if a := env.Raw(t, "POST", "/api/v1/sync/push", staff.AccessToken, "application/json", synctest.Body("dev-restored", eventNow, 1, held)); a.Status != 200 {
		t.Fatalf("push: %d %s", a.Status, a.Body)
	}
	// The server never stored these (a restore lost them): only the
	// phone's sent log has them.
	var lost []protocol.Mutation
	for i := range 1200 {
		lost = append(lost, ph.CheckIn("A1", "trainee", synctest.TraineesE1[1+i%2]))
	}
	pending := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	var file map[string]any
	if err := json.Unmarshal(synctest.Body("dev-restored", eventNow, 1, pending), &file); err != nil {
		t.Fatal(err)
	}
	file["sent"] = append([]any{held, pending}, anySlice(lost)...)
	body, _ := json.Marshal(file)

	o := loadOAS(t, env.URL)
	req := newReq(t, "POST", env.URL+"/api/v1/review/outbox-upload", sup.AccessToken, body, false)
	route, params, err := o.router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}); err != nil {
		t.Errorf("the outbox file does not match openapi.json: %v", err)
	}
	req = newReq(t, "POST", env.URL+"/api/v1/review/outbox-upload", sup.AccessToken, body, false)
	st, answer, _ := o.do(t, req)
	if st != 200 {
		t.Fatalf("upload: %d %s", st, answer)
	}
	var out struct {
		Results []struct{ ID, Status string } `json:"results"`
		Device  struct {
			MaxSeq int64     `json:"max_seq"`
			Gaps   [][]int64 `json:"gaps"`
		} `json:"device"`
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range out.Results {
		counts[r.Status]++
	}
	if len(out.Results) != 1202 || counts["duplicate"] != 1 || counts["applied"] != 1201 {
		t.Errorf("results: %d %v, want 1202: 1 duplicate, 1201 applied", len(out.Results), counts)
	}
	if out.Device.MaxSeq != pending.Seq || len(out.Device.Gaps) != 0 {
		t.Errorf("device after the upload: %+v, want max_seq %d and no gap", out.Device, pending.Seq)
	}
	var n int
	n = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM mutations WHERE device_id = 'dev-restored' AND type = 'attendance.check_in'`)
	if n != 1202 {
		t.Errorf("check-ins stored: %d, want 1202 (each once)", n)
	}

	// The envelope stays strict.
	file["extra"] = 1
	body, _ = json.Marshal(file)
	if a := env.Raw(t, "POST", "/api/v1/review/outbox-upload", sup.AccessToken, "application/json", body); a.Status != 400 || !strings.Contains(string(a.Body), `"invalid"`) {
		t.Errorf("unknown member: %d %s, want 400 invalid", a.Status, a.Body)
	}
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
