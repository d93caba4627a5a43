package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"prodays"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// The hostile-client tests of this file run against the prodays binary as a
// process of its own (testenv.Process), on synctest's roster plus an
// activity dated today, so that check-ins made now are applied.

const (
	ptDevice   = "0190d5a4-8f0c-7a11-9c3b-2f4e5d6a7b8c"
	ptActivity = "TODAY"
)

// ptSeed seeds synctest's roster, an open activity of E1 dated today
// (Casablanca), staff1 (E1), sup1 (RSK) and boss (admin) with passwords.
func ptSeed(tb testing.TB, db *store.DB) {
	synctest.Seed(tb, db)
	loc := prodays.Casablanca
	if _, err := db.Write.Exec(`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code, capacity)
		VALUES (?, 'meeting', 'Today', ?, '00:00', '23:59', 'E1', 'RSK', 50)`, ptActivity, protocol.LocalDay(time.Now(), loc)); err != nil {
		tb.Fatal(err)
	}
	testenv.CreateUser(tb, db, "staff1", "staff", "E1", "")
	testenv.CreateUser(tb, db, "sup1", "supervisor", "", "RSK")
	testenv.CreateUser(tb, db, "boss", "admin", "", "")
}

// ptProcess starts the server as a process on seed (ptSeed, idsSeed) and
// logs staff1 in on ptDevice.
func ptProcess(t *testing.T, seed func(tb testing.TB, db *store.DB)) (*testenv.Env, *testenv.Session) {
	t.Helper()
	env := testenv.Process(t, testenv.ProcessOptions{Seed: seed})
	return env, env.Login(t, "staff1", ptDevice)
}

// ptPhone builds mutations as raw JSON objects (so that any value can be
// sent), with UUIDs derived from the seq.
type ptPhone struct{ n int }

func (p *ptPhone) id() string {
	p.n++
	return fmt.Sprintf("0190d5a4-0000-7000-8000-%012d", p.n)
}

func (p *ptPhone) mutation(seq int64, typ string, fields map[string]any) map[string]any {
	m := map[string]any{"id": p.id(), "seq": seq, "type": typ, "recorded_at": time.Now().Add(-time.Minute).Format(time.RFC3339Nano)}
	for k, v := range fields {
		m[k] = v
	}
	return m
}

func (p *ptPhone) register(seq int64, walkIn, last, first, program string) map[string]any {
	return p.mutation(seq, protocol.TypeTraineeRegister, map[string]any{"trainee": map[string]any{
		"id": walkIn, "last_name": last, "first_name": first, "establishment_code": "E1", "program": program, "group": "G1", "gender": "F"}})
}

func (p *ptPhone) checkIn(seq int64, trainee string) map[string]any {
	return p.mutation(seq, protocol.TypeCheckIn, map[string]any{"activity_id": ptActivity,
		"person": map[string]string{"kind": "trainee", "id": trainee}, "method": "manual"})
}

// ptPush sends a push body as session s and returns the status and the
// answer (results, or the problem's code).
func ptPush(t *testing.T, s *testenv.Session, outbox int64, ms ...map[string]any) (int, protocol.PushResponse, string) {
	t.Helper()
	if ms == nil {
		ms = []map[string]any{} // an empty batch, not a missing one
	}
	body, err := json.Marshal(map[string]any{"device_id": s.DeviceID, "client_time": time.Now().Format(time.RFC3339Nano),
		"app_version": "1.0.0", "outbox_size": outbox, "mutations": ms})
	if err != nil {
		t.Fatal(err)
	}
	a := s.Env.Raw(t, "POST", "/api/v1/sync/push", s.AccessToken, "application/json", body)
	var out protocol.PushResponse
	var problem struct {
		Code string `json:"code"`
	}
	if a.Status == http.StatusOK {
		if err := json.Unmarshal(a.Body, &out); err != nil {
			t.Fatalf("push answer %q: %v", a.Body, err)
		}
	} else {
		json.Unmarshal(a.Body, &problem)
	}
	return a.Status, out, problem.Code
}

// ptGet fetches path as s and returns the status and the body.
func ptGet(t *testing.T, s *testenv.Session, path string) (int, []byte) {
	t.Helper()
	a := s.Env.Raw(t, "GET", path, s.AccessToken, "", nil)
	return a.Status, a.Body
}

// controlIn returns the first control character of s (C0 but tab and line
// feed, DEL, C1) and whether there is one; invalid UTF-8 counts as one.
func controlIn(s string) (rune, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, true
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			return r, true
		}
	}
	return 0, false
}

// TestPushTextFields (issue #13, finding 7): a trainee.register or
// trainee.update whose names hold NUL, ESC, BEL, CR, DEL or a C1
// control, or are over their length, is rejected alone as invalid_mutation
// with a message naming the field; a 300-character Arabic name (the
// office's files hold such names) is applied; and no CSV export holds a
// control character afterwards.
func TestPushTextFields(t *testing.T) {
	env, staff := ptProcess(t, ptSeed)
	boss := env.Login(t, "boss", "0190d5a4-8f0c-7a11-9c3b-000000000b05")
	ph := &ptPhone{}
	t1 := synctest.TraineesE1[0]
	long := strings.Repeat("ب", 300)
	walkIn := func(i int) string { return fmt.Sprintf("0190d5a4-1111-7000-8000-%012d", i) }
	type want struct{ status, code, field string }
	var ms []map[string]any
	var wants []want
	add := func(m map[string]any, w want) {
		ms = append(ms, m)
		wants = append(wants, w)
	}
	seq := int64(0)
	next := func() int64 { seq++; return seq }
	rejected := func(field string) want { return want{protocol.StatusRejected, protocol.CodeInvalidMutation, field} }
	for i, tc := range []struct{ last, first, program, field string }{
		{"Nul\x00Name", "Salma", "Dev", "trainee.last_name"},
		{"Benali", "Esc\x1b[31mRed", "Dev", "trainee.first_name"},
		{"Bell\x07", "Omar", "Dev", "trainee.last_name"},
		{"Nel", "Sara", "Dév\u0085eloppement", "trainee.program"},
		{"Return\rCR", "Ali", "Dev", "trainee.last_name"},
		{"Del\x7f", "Ali", "Dev", "trainee.last_name"},
		{strings.Repeat("x", 301), "Ali", "Dev", "trainee.last_name"},
	} {
		add(ph.register(next(), walkIn(i), tc.last, tc.first, tc.program), rejected(tc.field))
		add(ph.checkIn(next(), walkIn(i)), want{protocol.StatusFlagged, protocol.FlagAwaitingRegistration, ""})
	}
	add(ph.mutation(next(), protocol.TypeTraineeUpdate, map[string]any{"trainee_id": t1, "base_version": 1,
		"fields": map[string]string{"last_name": "Bad\x1bName"}}), rejected("fields.last_name"))
	add(ph.mutation(next(), protocol.TypeTraineeUpdate, map[string]any{"trainee_id": t1, "base_version": 1,
		"fields": map[string]string{"group": "G\x00"}}), rejected("fields.group"))
	add(ph.register(next(), walkIn(100), long, "Noura", "Développement digital"), want{protocol.StatusApplied, "", ""})
	add(ph.checkIn(next(), walkIn(100)), want{protocol.StatusApplied, "", ""})
	add(ph.checkIn(next(), t1), want{protocol.StatusApplied, "", ""})

	status, resp, code := ptPush(t, staff, int64(len(ms)), ms...)
	if status != http.StatusOK {
		t.Fatalf("push: status %d %s, want 200", status, code)
	}
	for i, r := range resp.Results {
		w := wants[i]
		if r.Status != w.status || r.Code != w.code || (w.field != "" && !strings.Contains(r.Message, w.field)) {
			t.Errorf("mutation %d: got %s %s %q, want %s %s naming %q", i+1, r.Status, r.Code, r.Message, w.status, w.code, w.field)
		}
	}

	st, csv := ptGet(t, boss, "/api/v1/exports/participations.csv")
	if st != http.StatusOK {
		t.Fatalf("participations.csv: status %d %s", st, csv)
	}
	for i, line := range strings.Split(string(csv), "\n") {
		if r, bad := controlIn(line); bad {
			t.Errorf("participations.csv line %d holds control character %U: %q", i+1, r, line)
		}
	}
	if !strings.Contains(string(csv), long) {
		t.Errorf("participations.csv lacks the 300-character name:\n%s", csv)
	}
	if !strings.Contains(string(csv), "Nom0") {
		t.Errorf("participations.csv lacks trainee %s under its name Nom0:\n%s", t1, csv)
	}
	var n int
	if err := env.DB.Read.QueryRow(`SELECT count(*) FROM trainees WHERE last_name || first_name || program || group_name GLOB '*[^ -~]*'
		AND (instr(last_name || first_name || program || group_name, char(0)) OR instr(last_name || first_name || program || group_name, char(27))
		OR instr(last_name || first_name || program || group_name, char(7)) OR instr(last_name || first_name || program || group_name, char(13)))`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d trainees hold NUL, ESC, BEL or CR", n)
	}
}

// TestAdminAndImportText (issue #13, finding 7): the admin API and the
// importer apply the same text rules as push: a full name of 300
// characters (users.csv holds one) is accepted, control characters are
// refused naming the field, and an import names file, line and column.
func TestAdminAndImportText(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: ptSeed})
	boss := env.Login(t, "boss", "0190d5a4-8f0c-7a11-9c3b-000000000b05")
	long := strings.Repeat("é", 300)
	for _, tc := range []struct {
		name, fullName string
		want           int
	}{
		{"300 characters", long, http.StatusOK},
		{"301 characters", long + "e", http.StatusBadRequest},
		{"ESC", "Ali \x1b[2J", http.StatusBadRequest},
		{"carriage return", "Ali\rBaba", http.StatusBadRequest},
		{"DEL", "Ali\x7f", http.StatusBadRequest},
	} {
		var out map[string]any
		if got := boss.Do(t, "PATCH", "/api/v1/admin/users/staff1", map[string]string{"full_name": tc.fullName}, &out); got != tc.want {
			t.Errorf("PATCH full_name %s: status %d %v, want %d", tc.name, got, out, tc.want)
		} else if got != http.StatusOK && (out["code"] != "invalid" || !strings.Contains(fmt.Sprint(out["detail"]), "full_name")) {
			t.Errorf("PATCH full_name %s: %v, want code invalid naming full_name", tc.name, out)
		}
	}

	csv := "trainee_id,last_name,first_name,establishment_code,program,group,gender\n" +
		"F25000100011B,Esc\x1b[31m,Salma,E1,Dev,G1,F\n" +
		"F25000100012C,Bell,Omar\x07,E1,Dev,G1,M\n"
	body, ct := multipartBody("trainees.csv", []byte(csv), nil)
	a := env.Raw(t, "POST", "/api/v1/admin/import/trainees", boss.AccessToken, ct, body)
	data := a.Body
	var problem struct {
		Code   string `json:"code"`
		Errors []struct {
			File   string `json:"file"`
			Line   int    `json:"line"`
			Column string `json:"column"`
		} `json:"errors"`
	}
	json.Unmarshal(data, &problem)
	if a.Status != http.StatusUnprocessableEntity || problem.Code != "import_invalid" {
		t.Fatalf("import: status %d %s, want 422 import_invalid", a.Status, data)
	}
	got := map[string]bool{}
	for _, e := range problem.Errors {
		got[fmt.Sprintf("%s:%d:%s", e.File, e.Line, e.Column)] = true
	}
	for _, w := range []string{"trainees.csv:2:last_name", "trainees.csv:3:first_name"} {
		if !got[w] {
			t.Errorf("import errors %s lack %s", data, w)
		}
	}
}
