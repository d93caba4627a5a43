package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"prodays/api"
	"prodays/internal/dbtest"
	"prodays/internal/fixture"
	"prodays/internal/pdftest"
	"prodays/internal/testenv"
	"prodays/store"
)

// TestExportScopeProperty is the property of issue #13, finding 3, against
// a real server process: for every route under /api/v1/exports and
// /api/v1/reports (read from the route table: a new route without a
// request generator below fails), every filter value the route accepts
// (every date, establishment, region, activity, group, kind, edition,
// trainee and format of the data, other regions' included, and unknown
// ones), and every kind of caller, what a 200 answer holds is within the
// caller's scope:
//
//   - attendance (sheets, day sheets, participations, certificates'
//     activities, speaker badges, the bilan's figures) by the activity's
//     region (supervisors) or establishment (staff), whatever the
//     establishment's or the persons' region;
//   - rosters (trainee badges, a certificate's trainee) by the trainee's
//     establishment's region.
//
// Answers are read as their format: CSV parsed, XLSX opened with
// excelize, PDF read back with pdftotext (skipped when absent unless
// PRODAYS_REQUIRE_PDFTOTEXT=1), JSON decoded. Every activity (ACTnn),
// trainee (TRNnn) and speaker (SPKnn) the file names must be one the
// caller may see; the bilan's beneficiaries must be the caller's. And,
// so that the property is not vacuous, every supervisor and the admin
// get every activity and roster trainee they may see from some export.
func TestExportScopeProperty(t *testing.T) {
	start := time.Now()
	env := testenv.Process(t, testenv.ProcessOptions{Seed: func(tb testing.TB, db *store.DB) {
		fixture.CrossRegion(tb, db)
		for _, c := range scopeCallers {
			testenv.CreateUser(tb, db, c.user, c.role, c.est, c.region)
		}
	}})
	t.Logf("server process up in %s (the binary is built once per test binary)", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	w := loadWorld(t, env.DB)
	routes := exportRoutes(t, env)
	gens := exportRequests(w)
	for _, r := range routes {
		if gens[r] == nil {
			t.Errorf("route GET %s has no request generator in the export scope property (api/exportscope_test.go): add one", r)
		}
	}
	for p := range gens {
		if !slices.Contains(routes, p) {
			t.Errorf("the export scope property generates requests for %s, which the server does not register", p)
		}
	}
	pdf := newPDFReader(t)
	var requests, files atomic.Int64
	for _, c := range scopeCallers {
		token := env.Login(t, c.user, "dev-"+c.user).AccessToken
		seen := newIDSet()
		var mu sync.Mutex // guards seen
		check := func(req exportRequest) {
			requests.Add(1)
			status, ctype, body, err := fetch(env.URL+req.url, token)
			if err != nil {
				t.Errorf("%s as %s: %v", req.url, c.user, err)
				return
			}
			if status != http.StatusOK {
				if status != 400 && status != 403 && status != 404 {
					t.Errorf("%s as %s: status %d: %.300s", req.url, c.user, status, body)
				}
				return
			}
			files.Add(1)
			text, ok := asText(t, pdf, req.url, ctype, body)
			if !ok {
				return
			}
			allowed := w.allowed(c, req.class)
			mu.Lock()
			defer mu.Unlock()
			reported := map[string]bool{}
			for _, id := range idPattern.FindAllString(text, -1) {
				if !allowed.has(id) && !reported[id] {
					reported[id] = true
					t.Errorf("%s as %s (%s): holds %s, outside the caller's scope", req.url, c.user, c.scopeName(), id)
				}
				seen.add(id)
			}
			if req.class == classBilan {
				w.checkBilan(t, c, req, ctype, body, text)
			}
		}
		// A few requests at a time: the server streams, pdftotext reads.
		jobs := make(chan exportRequest)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for req := range jobs {
					check(req)
				}
			}()
		}
		for _, route := range routes {
			for _, req := range gens[route]() {
				jobs <- req
			}
		}
		close(jobs)
		wg.Wait()
		if c.role == "staff" {
			continue // exports are for supervisors and admins: staff only get 403
		}
		want := w.allowed(c, classAttendance)
		for id := range want.ids {
			if strings.HasPrefix(id, "ACT") && !seen.has(id) {
				t.Errorf("%s never got activity %s of their scope from any export", c.user, id)
			}
		}
		for id := range w.allowed(c, classRoster).ids {
			if !seen.has(id) {
				t.Errorf("%s never got trainee %s of their roster from any export", c.user, id)
			}
		}
	}
	t.Logf("%d requests, %d files, %d PDFs read back, in %s", requests.Load(), files.Load(), pdf.read.Load(), time.Since(start).Round(time.Millisecond))
}

// scopeCaller is a kind of caller of the property.
type scopeCaller struct{ user, role, est, region string }

func (c scopeCaller) scopeName() string {
	switch c.role {
	case "supervisor":
		return "supervisor of " + c.region
	case "staff":
		return "staff of " + c.est + " (" + c.region + ")"
	}
	return c.role
}

// scopeCallers: the admin, a supervisor of each region of the data and of
// one without data, staff of two establishments (one whose activity takes
// place in another region).
var scopeCallers = []scopeCaller{
	{"p.admin", "admin", "", ""},
	{"p.sup.cs", "supervisor", "", "CS"},
	{"p.sup.tta", "supervisor", "", "TTA"},
	{"p.sup.rsk", "supervisor", "", "RSK"},
	{"p.sup.ori", "supervisor", "", "ORI"},
	{"p.staff.etta1", "staff", "ETTA1", "TTA"},
	{"p.staff.ecs2", "staff", "ECS2", "CS"},
}

// Classes of answers: which rule says what they may hold.
const (
	classAttendance  = iota // by the activity's scope
	classRoster             // trainees by their establishment's region
	classCertificate        // one roster trainee and their attendance
	classBilan              // figures of the activities in scope
)

// exportRequest is one request of the property.
type exportRequest struct {
	url   string // path and query
	class int
	query url.Values
}

// world is the seeded data, read back by the test (its own oracle: it
// does not use the server's scope functions).
type world struct {
	acts          map[string]worldActivity
	traineeEst    map[string]string
	estRegion     map[string]string
	present       [][3]string // activity, person kind, person id
	announced     [][2]string // activity, speaker
	groups        map[string][]string
	dates         []string
	regionNames   map[string]string
	editionRanges map[string][2]string
}

type worldActivity struct {
	region, est, date string
	edition           string // "" when NULL
}

func loadWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	w := &world{acts: map[string]worldActivity{}, traineeEst: map[string]string{}, estRegion: map[string]string{},
		groups: map[string][]string{}, regionNames: map[string]string{}, editionRanges: map[string][2]string{}}
	// query calls fn with the columns of each row of q, all text.
	query := func(q string, fn func(s []string)) {
		dbtest.EachRow(t, db.Read, q, func(vals []any) {
			s := make([]string, len(vals))
			for i, v := range vals {
				s[i] = v.(string)
			}
			fn(s)
		})
	}
	query(`SELECT id, region_code, establishment_code, date, COALESCE(CAST(edition_id AS TEXT), '') FROM activities`, func(s []string) {
		w.acts[s[0]] = worldActivity{s[1], s[2], s[3], s[4]}
		if !slices.Contains(w.dates, s[3]) {
			w.dates = append(w.dates, s[3])
		}
	})
	sort.Strings(w.dates)
	query(`SELECT code, region_code FROM establishments`, func(s []string) { w.estRegion[s[0]] = s[1] })
	query(`SELECT id, establishment_code, group_name FROM trainees WHERE deleted = 0`, func(s []string) {
		w.traineeEst[s[0]] = s[1]
		if !slices.Contains(w.groups[s[1]], s[2]) {
			w.groups[s[1]] = append(w.groups[s[1]], s[2])
		}
	})
	query(`SELECT activity_id, person_kind, person_id FROM attendance WHERE present = 1`, func(s []string) { w.present = append(w.present, [3]string{s[0], s[1], s[2]}) })
	query(`SELECT activity_id, speaker_id FROM activity_speakers`, func(s []string) { w.announced = append(w.announced, [2]string{s[0], s[1]}) })
	query(`SELECT code, name FROM regions`, func(s []string) { w.regionNames[s[0]] = s[1] })
	query(`SELECT CAST(id AS TEXT), start_date, end_date FROM editions`, func(s []string) { w.editionRanges[s[0]] = [2]string{s[1], s[2]} })
	return w
}

// seesActivity is the rule of attendance: an activity is seen by the
// supervisor of the region it takes place in and the staff of its
// establishment.
func (c scopeCaller) seesActivity(a worldActivity) bool {
	switch c.role {
	case "admin":
		return true
	case "supervisor":
		return a.region == c.region
	case "staff":
		return a.est == c.est
	}
	return false
}

// seesTrainee is the rule of rosters: the trainee's establishment's region.
func (w *world) seesTrainee(c scopeCaller, id string) bool {
	return c.role == "admin" || w.estRegion[w.traineeEst[id]] == c.region
}

// allowed lists the ids an answer of class may name for c.
func (w *world) allowed(c scopeCaller, class int) idSet {
	s := newIDSet()
	if class != classRoster {
		for id, a := range w.acts {
			if c.seesActivity(a) {
				s.add(id)
			}
		}
		for _, p := range w.present {
			if c.seesActivity(w.acts[p[0]]) {
				s.add(p[2])
			}
		}
		for _, p := range w.announced {
			if c.seesActivity(w.acts[p[0]]) {
				s.add(p[1])
			}
		}
	}
	if class == classRoster || class == classCertificate {
		for id := range w.traineeEst {
			if w.seesTrainee(c, id) {
				s.add(id)
			}
		}
	}
	return s
}

// beneficiaries is the bilan's count for c and the query's edition and
// region: present trainees at the activities in c's scope.
func (w *world) beneficiaries(c scopeCaller, q url.Values) int {
	n := 0
	for _, p := range w.present {
		a := w.acts[p[0]]
		if p[1] != "trainee" || !c.seesActivity(a) {
			continue
		}
		if r := q.Get("region"); r != "" && a.region != r {
			continue
		}
		if ed := q.Get("edition"); ed != "" {
			rng := w.editionRanges[ed]
			if a.edition != ed && (a.edition != "" || a.date < rng[0] || a.date > rng[1]) {
				continue
			}
		}
		n++
	}
	return n
}

var (
	idPattern        = regexp.MustCompile(`\b(ACT|TRN|SPK)\d\d\b`)
	beneficiariesPDF = regexp.MustCompile(`a compté\s+(\d+)\s+bénéficiaires`)
)

// checkBilan checks the bilan's figures: the beneficiaries are those of
// the caller's scope, and the per-region breakdown names no other region.
func (w *world) checkBilan(t *testing.T, c scopeCaller, req exportRequest, ctype string, body []byte, text string) {
	t.Helper()
	want := w.beneficiaries(c, req.query)
	got := -1
	var regions []string
	switch {
	case strings.HasPrefix(ctype, "application/json"):
		var b struct {
			Beneficiaries int            `json:"beneficiaries"`
			PerRegion     map[string]any `json:"per_region"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Errorf("%s: %v", req.url, err)
			return
		}
		got = b.Beneficiaries
		for r := range b.PerRegion {
			regions = append(regions, r)
		}
	case strings.HasPrefix(ctype, mimeXLSXType):
		x, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Errorf("%s: %v", req.url, err)
			return
		}
		defer x.Close()
		rows, _ := x.GetRows("Bilan")
		for _, r := range rows {
			if len(r) == 3 && r[0] == "beneficiaries" {
				got, _ = strconv.Atoi(r[2])
			}
		}
		rows, _ = x.GetRows("Par région")
		for _, r := range rows[1:] {
			regions = append(regions, r[0])
		}
	case strings.HasPrefix(ctype, "application/pdf"):
		if m := beneficiariesPDF.FindStringSubmatch(text); m != nil {
			got, _ = strconv.Atoi(m[1])
		}
		for code, name := range w.regionNames {
			if strings.Contains(text, name) {
				regions = append(regions, code)
			}
		}
	}
	if got != want {
		t.Errorf("%s as %s: %d beneficiaries, want %d (the activities of the caller's scope)", req.url, c.user, got, want)
	}
	for _, r := range regions {
		if c.role != "admin" && r != c.region {
			t.Errorf("%s as %s: the bilan shows region %s", req.url, c.user, r)
		}
	}
}

const mimeXLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// exportRoutes lists the routes under /api/v1/exports and
// /api/v1/reports of the server's route table.
func exportRoutes(t *testing.T, env *testenv.Env) []string {
	t.Helper()
	var out []string
	for _, r := range (&api.Server{DB: env.DB}).Handler().Routes() {
		if r.Method == echo.RouteNotFound {
			continue // Echo's catch-all of a group with middleware
		}
		if strings.HasPrefix(r.Path, "/api/v1/exports/") || strings.HasPrefix(r.Path, "/api/v1/reports/") {
			if r.Method != http.MethodGet {
				t.Errorf("%s %s: the property only knows GET exports", r.Method, r.Path)
				continue
			}
			out = append(out, r.Path)
		}
	}
	sort.Strings(out)
	return out
}

// domain is a query parameter and the values the property tries.
type domain struct {
	name   string
	values []string
}

// combos returns no parameter, each value alone, and each pair of values
// of two parameters.
func combos(ds ...domain) []url.Values {
	out := []url.Values{{}}
	for i, d := range ds {
		for _, v := range d.values {
			out = append(out, url.Values{d.name: {v}})
			for _, e := range ds[i+1:] {
				for _, u := range e.values {
					out = append(out, url.Values{d.name: {v}, e.name: {u}})
				}
			}
		}
	}
	return out
}

// exportRequests returns, by route path, the requests the property sends.
func exportRequests(w *world) map[string]func() []exportRequest {
	var acts, ests, trainees, groups []string
	for id := range w.acts {
		acts = append(acts, id)
	}
	for code := range w.estRegion {
		ests = append(ests, code)
	}
	for id := range w.traineeEst {
		trainees = append(trainees, id)
	}
	for _, gs := range w.groups {
		groups = append(groups, gs...)
	}
	for _, s := range [][]string{acts, ests, trainees, groups} {
		sort.Strings(s)
	}
	acts, ests, trainees, groups = append(acts, "NOPE"), append(ests, "NOPE"), append(trainees, "NOPE"), append(groups, "NOPE")
	regions := []string{"CS", "TTA", "RSK", "ORI", "XX"}
	dates := append(slices.Clone(w.dates), "2030-01-01")
	editions := []string{"1", "2", "99"}
	place := []domain{{"edition", editions}, {"region", regions}, {"date", dates}, {"establishment", ests}}

	build := func(path string, class int, qs []url.Values) []exportRequest {
		out := make([]exportRequest, 0, len(qs))
		for _, q := range qs {
			u := path
			if len(q) > 0 {
				u += "?" + q.Encode()
			}
			out = append(out, exportRequest{url: u, class: class, query: q})
		}
		return out
	}
	files := func(ids []string, exts ...string) []string {
		var out []string
		for _, id := range ids {
			for _, e := range exts {
				out = append(out, id+e)
			}
		}
		return out
	}
	return map[string]func() []exportRequest{
		"/api/v1/exports/participations.csv": func() []exportRequest {
			qs := combos(place...)
			qs = append(qs, url.Values{"sep": {"semicolon"}}, url.Values{"sep": {"semicolon"}, "region": {"CS"}})
			return build("/api/v1/exports/participations.csv", classAttendance, qs)
		},
		// The filter is the CSV's (export.Filter): every value alone, and the
		// pairs that cross a region with an establishment.
		"/api/v1/exports/participations.xlsx": func() []exportRequest {
			qs := combos(place[0], place[2])
			qs = append(qs, combos(place[1], place[3])[1:]...)
			return build("/api/v1/exports/participations.xlsx", classAttendance, qs)
		},
		"/api/v1/exports/attendance/:file": func() []exportRequest {
			var out []exportRequest
			for _, f := range append(files(acts, ".pdf", ".xlsx"), "ACT01.csv") {
				out = append(out, exportRequest{url: "/api/v1/exports/attendance/" + f, class: classAttendance})
			}
			return out
		},
		"/api/v1/exports/attendance-day": func() []exportRequest {
			var qs []url.Values
			for _, d := range append(dates, "") {
				for _, f := range []string{"pdf", "xlsx"} {
					for _, r := range regions {
						qs = append(qs, url.Values{"date": {d}, "region": {r}, "format": {f}})
					}
					for _, e := range ests {
						qs = append(qs, url.Values{"date": {d}, "establishment": {e}, "format": {f}})
					}
				}
			}
			for _, d := range w.dates { // both filters: the days with activities
				for _, r := range regions {
					for _, e := range ests {
						qs = append(qs, url.Values{"date": {d}, "region": {r}, "establishment": {e}, "format": {"xlsx"}})
					}
				}
			}
			qs = append(qs, url.Values{"date": {w.dates[0]}, "region": {"CS"}, "format": {"csv"}})
			return build("/api/v1/exports/attendance-day", classAttendance, qs)
		},
		"/api/v1/exports/badges.pdf": func() []exportRequest {
			var roster, speakers []url.Values
			for _, e := range ests {
				roster = append(roster, url.Values{"establishment": {e}})
				for _, g := range groups {
					roster = append(roster, url.Values{"establishment": {e}, "group": {g}})
				}
			}
			roster = append(roster, url.Values{"group": {"GA"}}, url.Values{"activity": {"ACT01"}}, url.Values{"kind": {"trainee"}, "establishment": {"ECS1"}})
			for _, a := range acts {
				speakers = append(speakers, url.Values{"kind": {"speaker"}, "activity": {a}})
			}
			speakers = append(speakers, url.Values{"kind": {"speaker"}}, url.Values{"kind": {"speaker"}, "activity": {"ACT01"}, "establishment": {"ERSK1"}})
			return append(build("/api/v1/exports/badges.pdf", classRoster, roster), build("/api/v1/exports/badges.pdf", classAttendance, speakers)...)
		},
		"/api/v1/exports/certificates/:file": func() []exportRequest {
			var out []exportRequest
			for _, f := range append(files(trainees, ".pdf"), "TRN11.xlsx") {
				out = append(out, exportRequest{url: "/api/v1/exports/certificates/" + f, class: classCertificate})
			}
			return out
		},
		// Batches: an establishment, each of its groups, an activity;
		// each certificate's trainee and activities within the scope.
		"/api/v1/exports/certificates.pdf": func() []exportRequest {
			var qs []url.Values
			for _, e := range ests {
				qs = append(qs, url.Values{"establishment": {e}})
				for _, g := range groups {
					qs = append(qs, url.Values{"establishment": {e}, "group": {g}})
				}
			}
			for _, a := range acts {
				qs = append(qs, url.Values{"activity": {a}})
			}
			qs = append(qs, url.Values{"group": {"GA"}}, url.Values{})
			return build("/api/v1/exports/certificates.pdf", classCertificate, qs)
		},
		"/api/v1/exports/choices": func() []exportRequest {
			return build("/api/v1/exports/choices", classRoster, []url.Values{{}})
		},
		"/api/v1/exports/bilan.pdf": func() []exportRequest {
			return build("/api/v1/exports/bilan.pdf", classBilan, combos(place[:2]...))
		},
		"/api/v1/exports/bilan.xlsx": func() []exportRequest {
			return build("/api/v1/exports/bilan.xlsx", classBilan, combos(place[:2]...))
		},
		"/api/v1/reports/bilan": func() []exportRequest {
			return build("/api/v1/reports/bilan", classBilan, combos(place[:2]...))
		},
	}
}

// fetch GETs u with a bearer token.
func fetch(u, token string) (int, string, []byte, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, err
}

// asText reads an answer as its format and returns its text; false when it
// cannot be read here (a PDF without pdftotext).
func asText(t *testing.T, pdf *pdfReader, u, ctype string, body []byte) (string, bool) {
	t.Helper()
	switch {
	case strings.HasPrefix(ctype, "text/csv"):
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF"))))
		if strings.Contains(u, "sep=semicolon") {
			r.Comma = ';'
		}
		recs, err := r.ReadAll()
		if err != nil {
			t.Errorf("%s: not CSV: %v", u, err)
		}
		var b strings.Builder
		for _, rec := range recs {
			b.WriteString(strings.Join(rec, " ") + "\n")
		}
		return b.String(), true
	case strings.HasPrefix(ctype, mimeXLSXType):
		x, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Errorf("%s: not XLSX: %v", u, err)
			return "", false
		}
		defer x.Close()
		var b strings.Builder
		for _, sheet := range x.GetSheetList() {
			b.WriteString(sheet + "\n")
			rows, err := x.GetRows(sheet)
			if err != nil {
				t.Errorf("%s: sheet %s: %v", u, sheet, err)
			}
			for _, r := range rows {
				b.WriteString(strings.Join(r, " ") + "\n")
			}
		}
		return b.String(), true
	case strings.HasPrefix(ctype, "application/pdf"):
		return pdf.text(t, u, body)
	case strings.HasPrefix(ctype, "application/json"):
		return string(body), true
	}
	t.Errorf("%s: unexpected Content-Type %q", u, ctype)
	return "", false
}

// pdfReader reads PDFs back with poppler's pdftotext; safe for
// concurrent use.
type pdfReader struct {
	bin, dir string
	read     atomic.Int64
}

func newPDFReader(t *testing.T) *pdfReader {
	bin := pdftest.Tool(t)
	if bin == "" {
		t.Log("pdftotext not found (Debian: apt-get install poppler-utils): the PDFs are not read back")
	}
	return &pdfReader{bin: bin, dir: t.TempDir()}
}

func (p *pdfReader) text(t *testing.T, u string, body []byte) (string, bool) {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Errorf("%s: not a PDF", u)
		return "", false
	}
	if p.bin == "" {
		return "", false
	}
	text, err := pdftest.Text(p.bin, p.dir, body)
	if err != nil {
		t.Errorf("%s: %v", u, err)
		return "", false
	}
	p.read.Add(1)
	return text, true
}

// idSet is a set of ids.
type idSet struct{ ids map[string]bool }

func newIDSet() idSet              { return idSet{ids: map[string]bool{}} }
func (s idSet) add(id string)      { s.ids[id] = true }
func (s idSet) has(id string) bool { return s.ids[id] }
