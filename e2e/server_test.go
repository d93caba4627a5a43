package e2e_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"prodays/api"
	"prodays/auth"
	"prodays/importer"
	"prodays/internal/testenv"
	"prodays/store"
)

// server is a real prodays server (API, auth and the PWA) on a real SQLite
// file, on an address that survives a restart. The test mux adds the unit
// test page at /test/ and, when the sync engine is not in this build, a
// stand-in of the sync API (fakeSync) that follows the protocol.
type server struct {
	t      *testing.T
	dbPath string
	addr   string
	URL    string
	DB     *store.DB
	hs     *http.Server
	fake   *fakeSync
	// swRevision, when not 0, is appended to /sw.js as a comment: a
	// byte-different worker, as after a deployment.
	swRevision *atomic.Int64
}

// unitDir is e2e/testdata/unit, wherever the test runs from.
func unitDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "unit")
}

// startServer opens dbPath and serves on addr ("127.0.0.1:0" for a new
// port). fake, when not nil, answers /api/v1/sync/.
func startServer(t *testing.T, dbPath, addr string, fake *fakeSync) *server {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.NewKeyring(testenv.TestKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := &api.Server{DB: db, InsecureCookies: true,
		Auth: &auth.Service{DB: db, Tokens: &auth.Tokens{Keys: keys}}}
	mux := http.NewServeMux()
	mux.Handle("/test/", http.StripPrefix("/test/", http.FileServer(http.Dir(unitDir()))))
	if fake != nil {
		fake.auth = srv.Auth
		mux.Handle("/api/v1/sync/", fake)
	}
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
	mux.Handle("/", handler)
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
	s := &server{t: t, dbPath: dbPath, addr: ln.Addr().String(), URL: "http://" + ln.Addr().String(), DB: db, fake: fake, swRevision: rev,
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

// restart serves the same database file on the same address again; s
// then reads the new database.
func (s *server) restart() {
	s.stop()
	n := startServer(s.t, s.dbPath, s.addr, s.fake)
	s.DB, s.hs, s.swRevision = n.DB, n.hs, n.swRevision
	n.hs = nil // s's cleanup stops it
}

// syncLanded reports whether this build registers the real sync API.
func syncLanded(t *testing.T) bool {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "probe.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e := (&api.Server{DB: db}).Handler()
	has := map[string]bool{}
	for _, r := range e.Routes() {
		has[r.Method+" "+r.Path] = true
	}
	return has["POST /api/v1/sync/push"] && has["GET /api/v1/sync/pull"]
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

// changes lists the fixture as pull changes, in dependency order.
func (f *fixture) changes() []map[string]any {
	var out []map[string]any
	add := func(entity, idKey string, rows []map[string]any) {
		for _, r := range rows {
			out = append(out, map[string]any{"entity": entity, "op": "upsert", "id": r[idKey], "data": r})
		}
	}
	add("establishment", "code", f.Establishments)
	add("organization", "organization_id", f.Organizations)
	add("company", "company_id", f.Companies)
	add("speaker", "speaker_id", f.Speakers)
	add("activity", "activity_id", f.Activities)
	add("trainee", "trainee_id", f.Trainees)
	return out
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
