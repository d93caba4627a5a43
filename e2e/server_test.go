package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"prodays"
	"prodays/api"
	"prodays/auth"
	"prodays/importer"
	"prodays/internal/testenv"
	"prodays/store"
)

// server is a real prodays server (API, auth, sync engine and the PWA) on
// a real SQLite file, on an address that survives a restart. The test mux
// adds the unit test page at /test/ and puts faults in front of the API, so
// that a test can make the real server misbehave (429, 503, 409 resync).
type server struct {
	t      *testing.T
	dbPath string
	addr   string
	opt    serverOptions
	URL    string
	DB     *store.DB
	API    *api.Server
	hs     *http.Server
	faults *faults
	// swRevision, when not 0, is appended to /sw.js as a comment: a
	// byte-different worker, as after a deployment.
	swRevision *atomic.Int64
}

// serverOptions tune startServer.
type serverOptions struct {
	// AccessTTL of access tokens (default auth.DefaultAccessTTL).
	AccessTTL time.Duration
	// Clock, when set, is the clock of the database, the token issuer and
	// the API (a test moves it forward; the browser keeps the real one).
	Clock *clock
}

// clock is the real time plus an offset a test can advance.
type clock struct{ offset atomic.Int64 }

// Now is time.Now plus the offset.
func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// unitDir is e2e/testdata/unit, wherever the test runs from.
func unitDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "unit")
}

// startServer opens dbPath and serves on addr ("127.0.0.1:0" for a new
// port).
func startServer(t *testing.T, dbPath, addr string, opt serverOptions) *server {
	t.Helper()
	return serve(t, dbPath, addr, opt, &faults{})
}

// newServer starts a server on a new database of a temporary folder, on
// a new port.
func newServer(t *testing.T, opt serverOptions) *server {
	t.Helper()
	return startServer(t, filepath.Join(t.TempDir(), "prodays.db"), "127.0.0.1:0", opt)
}

func serve(t *testing.T, dbPath, addr string, opt serverOptions, fl *faults) *server {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeyring(testenv.TestKey)
	if err != nil {
		t.Fatal(err)
	}
	authSvc := &auth.Service{DB: db, Tokens: &auth.Tokens{Keys: keys, AccessTTL: opt.AccessTTL}}
	srv := testenv.Wire(t, db, authSvc, slog.New(slog.DiscardHandler))
	srv.InsecureCookies = true
	if opt.Clock != nil {
		db.Now, srv.Now, authSvc.Tokens.Now = opt.Clock.Now, opt.Clock.Now, opt.Clock.Now
	}
	mux := http.NewServeMux()
	mux.Handle("/test/", http.StripPrefix("/test/", http.FileServer(http.Dir(unitDir()))))
	handler := srv.Handler()
	rev := new(atomic.Int64)
	mux.HandleFunc("/sw.js", func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Accept-Encoding")
		r.Header.Del("If-None-Match")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		maps.Copy(w.Header(), rec.Header())
		w.Header().Del("ETag")
		body := rec.Body.String()
		if n := rev.Load(); n != 0 {
			body += fmt.Sprintf("\n// test revision %d\n", n)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		io.WriteString(w, body)
	})
	fl.mu.Lock()
	fl.next = handler
	fl.mu.Unlock()
	mux.Handle("/", fl)
	var ln net.Listener
	for i := 0; ; i++ { // the old socket of a restart may linger a moment
		ln, err = net.Listen("tcp", addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		t.Fatalf("listen %s: %v", addr, err)
	}
	s := &server{t: t, dbPath: dbPath, addr: ln.Addr().String(), opt: opt, URL: "http://" + ln.Addr().String(), DB: db, API: srv, faults: fl, swRevision: rev,
		hs: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go s.hs.Serve(ln)
	t.Cleanup(s.stop)
	return s
}

// stop closes the server and its database (idempotent).
func (s *server) stop() {
	if s.hs == nil {
		return
	}
	s.hs.Close()
	s.DB.Close()
	s.hs = nil
}

// restart serves the same database file on the same address again, with
// the same options and faults; s then reads the new database.
func (s *server) restart() {
	s.stop()
	n := serve(s.t, s.dbPath, s.addr, s.opt, s.faults)
	s.DB, s.API, s.hs, s.swRevision = n.DB, n.API, n.hs, n.swRevision
	n.hs = nil // s's cleanup stops it
}

// faults is a thin http.Handler in front of the real API: it passes every
// request through, except when a test asks it to misbehave, and counts
// what went by.
type faults struct {
	mu   sync.Mutex
	next http.Handler
	// Knobs.
	tooMany     int  // the next pushes answer 429 with Retry-After: 1
	unavailable bool // pushes answer 503
	resyncNext  bool // the next pull with a cursor answers 409 resync
	// held devices' pushes answer 503 (a test picks who syncs first).
	held map[string]bool
	// Counts.
	pushes       int      // pushes passed to the server
	batches      []int    // their sizes (mutations)
	bodies       [][]byte // their bodies
	freshPulls   int      // pulls without a cursor (snapshots)
	refreshes    []int    // statuses of POST /api/v1/auth/refresh
	unauthorized int      // 401 answers to sync requests
}

// set changes the knobs under the lock.
func (f *faults) set(fn func(f *faults)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// read returns fn(f) under the lock.
func read[T any](f *faults, fn func(f *faults) T) T {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn(f)
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "urn:prodays:problem:" + code, "title": http.StatusText(status), "status": status, "detail": detail, "code": code})
}

// statusWriter remembers the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	push := r.Method == "POST" && r.URL.Path == "/api/v1/sync/push"
	pull := r.Method == "GET" && r.URL.Path == "/api/v1/sync/pull"
	f.mu.Lock()
	next := f.next
	switch {
	case push && f.unavailable:
		f.mu.Unlock()
		problem(w, http.StatusServiceUnavailable, prodays.EUnavailable, "Try later.")
		return
	case push && f.tooMany > 0:
		f.tooMany--
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		problem(w, http.StatusTooManyRequests, prodays.ETooManyRequest, "Too many requests.")
		return
	case pull && f.resyncNext && r.URL.Query().Get("cursor") != "":
		f.resyncNext = false
		f.mu.Unlock()
		problem(w, http.StatusConflict, "resync", "Your scope changed: pull a fresh snapshot.")
		return
	}
	if pull && r.URL.Query().Get("cursor") == "" {
		f.freshPulls++
	}
	f.mu.Unlock()
	if push {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var b struct {
			DeviceID  string            `json:"device_id"`
			Mutations []json.RawMessage `json:"mutations"`
		}
		json.Unmarshal(body, &b)
		f.mu.Lock()
		if f.held[b.DeviceID] {
			f.mu.Unlock()
			problem(w, http.StatusServiceUnavailable, prodays.EUnavailable, "Held by the test.")
			return
		}
		f.pushes++
		f.batches = append(f.batches, len(b.Mutations))
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
	}
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/api/v1/auth/refresh" {
		f.refreshes = append(f.refreshes, sw.status)
	}
	if (push || pull) && sw.status == http.StatusUnauthorized {
		f.unauthorized++
	}
}

// fixture is a small scope: two establishments of one region, activities
// today and tomorrow, a speaker, and trainees with the names that search
// must handle, padded with generated ones to n.
type fixture struct {
	Establishments []map[string]any
	Organizations  []map[string]any
	Companies      []map[string]any
	Speakers       []map[string]any
	Activities     []map[string]any
	Trainees       []map[string]any
}

const checkLetters = "ABCDEFGHJKLMNPQRSTUVWXY"

// matricule makes a valid matricule from year, establishment number and
// sequence.
func matricule(year, est, seq int) string {
	digits := fmt.Sprintf("%02d%04d%05d", year, est, seq)
	r := 0
	for _, d := range digits {
		r = (r*10 + int(d-'0')) % 23
	}
	return "F" + digits + string(checkLetters[r])
}

// Named trainees of the fixture.
var (
	traineeAit      = matricule(25, 105, 1) // Aït Baha Marouane
	traineeBenaissa = matricule(25, 105, 2) // Benaïssa Salma
	traineeByID     = matricule(25, 105, 3) // El Idrissi Khadija
	traineeArabic   = matricule(25, 105, 4) // الإدريسي فاطمة
)

func newFixture(n int) *fixture {
	today := time.Now().Format("2006-01-02")
	tomorrow := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	f := &fixture{
		Establishments: []map[string]any{
			{"code": "EFP0105", "name": "ISTA Hay Hassani", "city": "Casablanca", "region_code": "CS"},
			{"code": "EFP0200", "name": "CMC Casablanca-Settat", "city": "Casablanca", "region_code": "CS"},
		},
		Organizations: []map[string]any{{"organization_id": "ORG-0001", "name": "Atlas Logistique SARL", "type": "company"}},
		Companies:     []map[string]any{{"company_id": "ENT-0001", "name": "Anfa Automotive SARL", "sector": "Automobile", "city": "Casablanca", "region_code": "CS"}},
		Speakers: []map[string]any{
			{"speaker_id": "SPK-0001", "last_name": "Lachgar", "first_name": "Omar", "organization_id": "ORG-0001", "title": "Directeur RSE"},
			{"speaker_id": "SPK-0002", "last_name": "Daoudi", "first_name": "Ilham", "organization_id": "ORG-0001", "title": "Ingénieure agronome"},
		},
		Activities: []map[string]any{
			{"activity_id": "MTG-0001", "kind": "meeting", "title": "Rencontre stagiaires-professionnels : Industrie 4.0 et décarbonation", "date": today, "start_time": "09:00", "end_time": "10:30",
				"establishment_code": "EFP0105", "company_id": "", "region_code": "CS", "capacity": 40, "speaker_ids": []string{"SPK-0001"}, "status": "open"},
			{"activity_id": "VIS-0001", "kind": "company_visit", "title": "Visite d'entreprise : Anfa Automotive SARL", "date": today, "start_time": "14:00", "end_time": "16:30",
				"establishment_code": "EFP0105", "company_id": "ENT-0001", "region_code": "CS", "capacity": 25, "speaker_ids": []string{}, "status": "open"},
			{"activity_id": "MTG-0002", "kind": "meeting", "title": "Rencontre : métiers de l'économie verte", "date": tomorrow, "start_time": "10:00", "end_time": "12:00",
				"establishment_code": "EFP0105", "company_id": "", "region_code": "CS", "capacity": 30, "speaker_ids": []string{}, "status": "open"},
		},
	}
	add := func(id, last, first, group, gender string) {
		f.Trainees = append(f.Trainees, map[string]any{"trainee_id": id, "last_name": last, "first_name": first,
			"establishment_code": "EFP0105", "program": "Génie électrique", "group": group, "gender": gender})
	}
	add(traineeAit, "Aït Baha", "Marouane", "GE101", "M")
	add(traineeBenaissa, "Benaïssa", "Salma", "GE101", "F")
	add(traineeByID, "El Idrissi", "Khadija", "GE102", "F")
	add(traineeArabic, "الإدريسي", "فاطمة", "GE102", "F")
	lasts := []string{"Tahiri", "Chraibi", "Ouazzani", "Lahlou", "Bennani", "Alaoui", "Zerouali", "Errami", "Mouline", "M'barki", "El Amrani", "Bouzid"}
	firsts := []string{"Youssef", "Meryem", "Hamza", "Imane", "Anas", "Sanae", "Badr", "Nora", "Ayoub", "Hajar", "Ilyas", "Zineb"}
	for i := len(f.Trainees); i < n; i++ {
		add(matricule(25, 105, 100+i), lasts[i%len(lasts)], firsts[(i/len(lasts))%len(firsts)], fmt.Sprintf("GR%03d", i%40), "")
	}
	return f
}

// seed imports the fixture through the importer (CSV files in the
// office's formats, so the rows and the change log are what production
// writes) and creates the staff user s.staff of EFP0105.
func (f *fixture) seed(t *testing.T, db *store.DB) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, cols []string, rows []map[string]any) {
		var b strings.Builder
		w := csv.NewWriter(&b)
		w.Write(cols)
		for _, r := range rows {
			rec := make([]string, len(cols))
			for i, c := range cols {
				switch v := r[c].(type) {
				case []string:
					rec[i] = strings.Join(v, "|")
				case nil:
				default:
					rec[i] = fmt.Sprint(v)
				}
			}
			w.Write(rec)
		}
		w.Flush()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("establishments.csv", []string{"code", "name", "city", "region_code"}, f.Establishments)
	write("organizations.csv", []string{"organization_id", "name", "type"}, f.Organizations)
	write("companies.csv", []string{"company_id", "name", "sector", "city", "region_code"}, f.Companies)
	write("speakers.csv", []string{"speaker_id", "last_name", "first_name", "organization_id", "title"}, f.Speakers)
	write("activities.csv", []string{"activity_id", "kind", "title", "date", "start_time", "end_time", "establishment_code", "company_id", "region_code", "capacity", "speaker_ids"}, f.Activities)
	write("trainees.csv", []string{"trainee_id", "last_name", "first_name", "establishment_code", "program", "group", "gender"}, f.Trainees)
	if rep, err := importer.ImportDir(context.Background(), db, dir, importer.Options{}); err != nil {
		t.Fatalf("import the fixture: %v %+v", err, rep)
	}
	testenv.CreateUser(t, db, "s.staff", "staff", "EFP0105", "")
}

// presences returns the present (activity, kind, id) triples of the
// server's attendance table.
func (s *server) presences(t *testing.T) []string {
	t.Helper()
	rows, err := s.DB.Read.Query(`SELECT activity_id, person_kind, person_id FROM attendance WHERE present = 1 ORDER BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, k, id string
		if err := rows.Scan(&a, &k, &id); err != nil {
			t.Fatal(err)
		}
		out = append(out, a+"|"+k+"|"+id)
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
