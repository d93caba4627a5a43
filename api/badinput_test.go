package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"prodays/api"
	"prodays/internal/dbtest"
	"prodays/internal/testenv"
)

func changedTables(before, after map[string]string) []string {
	var ch []string
	for k, v := range after {
		if before[k] != v {
			ch = append(ch, k)
		}
	}
	sort.Strings(ch)
	return ch
}

// multipartBody builds a multipart/form-data body with the file field
// (api.MultipartBody, shared with the package's internal tests).
var multipartBody = api.MultipartBody

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

type badCase struct {
	name    string
	method  string
	path    string
	ctype   string
	body    []byte
	header  map[string]string
	token   bool // send the admin's bearer token
	valid   bool // a valid request after all: 2xx JSON, changes allowed
	want    int
	code    string
	changes []string // tables this request may change (a valid effect)
}

// badJSONBodies are the malformed bodies every JSON route gets.
func badJSONBodies() []struct {
	name string
	body []byte
	want int
	code string
} {
	long := strings.Repeat("é", 5000) // 10,000 bytes, 5,000 characters
	return []struct {
		name string
		body []byte
		want int
		code string
	}{
		{"malformed", []byte(`{"username":`), 400, "invalid"},
		{"not an object", []byte(`"hello"`), 400, "invalid"},
		{"wrong types", []byte(`{"username":1,"password":true,"device_id":[],"refresh_token":{}}`), 400, "invalid"},
		{"huge number", []byte(`{"username":1e999999,"refresh_token":123456789012345678901234567890}`), 400, "invalid"},
		{"invalid UTF-8", []byte("{\"username\":\"\xff\xfe\",\"refresh_token\":\"\xc3\x28\"}"), 400, "invalid"},
		{"raw NUL byte", []byte("{\"username\":\"a\x00b\"}"), 400, "invalid"},
		{"unknown field", []byte(`{"username":"a","password":"b","device_id":"d","admin":true,"refresh_token":"x"}`), 400, "invalid"},
		{"two values", []byte(`{"refresh_token":"x"}{"refresh_token":"y"}`), 400, "invalid"},
		// encoding/json would take "USERNAME" for username and keep the
		// last of two keys: both are refused (strictjson).
		{"key in other case", []byte(`{"USERNAME":"a.admin","Password":"x","DEVICE_ID":"d","Refresh_Token":"x","REASON":"r"}`), 400, "invalid"},
		{"duplicate key", []byte(`{"refresh_token":"x","refresh_token":"y","username":"a","username":"b","reason":"r","reason":"s"}`), 400, "invalid"},
		{"duplicate nested key", []byte(`{"person":{"id":"a","id":"b"}}`), 400, "invalid"},
		{"deeply nested", []byte(strings.Repeat("[", 100_000)), 400, "invalid"},
		{"deeply nested object", []byte(strings.Repeat(`{"a":`, 50_000)), 400, "invalid"},
		{"long keys", []byte(`{"` + strings.Repeat("k", 10_000) + `":"` + long + `"}`), 400, "invalid"},
		{"empty", []byte(` `), 400, "invalid"},
		{"null", []byte(` null `), 400, "invalid"},
		{"over the cap", bytes.Repeat([]byte(" "), 2<<20), 413, "too_large"},
	}
}

// authMaxBody is the cap of the bodies of login, refresh and logout
// (api/readahead.go).
const authMaxBody = 32 << 10

func TestBadInputEveryEndpoint(t *testing.T) {
	env, admin := testenv.NewAdmin(t, testenv.Options{}, "dev-bad")

	var cases []badCase
	// JSON routes. refresh and logout skip binding an empty body.
	for _, path := range []string{"/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"} {
		for _, b := range badJSONBodies() {
			if len(b.body) > authMaxBody {
				b.want, b.code = 413, "too_large" // the routes open to anyone take small bodies
			}
			cases = append(cases, badCase{name: path + " " + b.name, method: "POST", path: path, ctype: "application/json", body: b.body, want: b.want, code: b.code})
		}
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml", "", "application/json; charset=\"", "multipart/form-data; boundary=x"} {
			cases = append(cases, badCase{name: path + " content type " + ct, method: "POST", path: path, ctype: ct, body: []byte(`{"refresh_token":"x"}`), want: 415, code: "unsupported_media_type"})
		}
		cases = append(cases, badCase{name: path + " gzip body", method: "POST", path: path, ctype: "application/json",
			header: map[string]string{"Content-Encoding": "gzip"}, body: gzipped(bytes.Repeat([]byte(" "), 10<<20)), want: 400, code: "invalid"})
		cases = append(cases, badCase{name: path + " GET", method: "GET", path: path, want: 405, code: "method_not_allowed"})
	}
	long := strings.Repeat("x", 10_000)
	// Admin API: the JSON write routes get every malformed body; GET
	// routes get hostile path and query values.
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/admin/users"},
		{"PATCH", "/api/v1/admin/users/a.admin"},
		{"PUT", "/api/v1/admin/users/a.admin/password"},
		{"POST", "/api/v1/admin/editions"},
		{"PATCH", "/api/v1/admin/editions/1"},
		{"POST", "/api/v1/admin/trainees/TR-CS-1/erase"},
	} {
		for _, b := range badJSONBodies() {
			if b.name == "empty" && r.method == "PATCH" {
				continue // an empty PATCH may be a no-op
			}
			cases = append(cases, badCase{name: r.method + " " + r.path + " " + b.name, method: r.method, path: r.path, ctype: "application/json", body: b.body, token: true, want: b.want, code: b.code})
		}
		cases = append(cases,
			badCase{name: r.method + " " + r.path + " text/plain", method: r.method, path: r.path, ctype: "text/plain", body: []byte(`{}`), token: true, want: 415, code: "unsupported_media_type"},
			badCase{name: r.method + " " + r.path + " no token", method: r.method, path: r.path, ctype: "application/json", body: []byte(`{}`), want: 401, code: "unauthorized"},
		)
	}
	for _, v := range []struct {
		method, path, body string
		want               int
		code               string
	}{
		{"POST", "/api/v1/admin/users", `{"username":"x'; DROP TABLE users;--","role":"staff","establishment_code":"<script>"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/users", `{"username":"` + long + `","role":"admin"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/users", `{"username":"ok.user","role":"root"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/users", `{"role":"admin"}`, 400, "invalid"},
		{"PATCH", "/api/v1/admin/users/nobody%27%20OR%201%3D1", `{"full_name":"x"}`, 404, "not_found"},
		{"PATCH", "/api/v1/admin/users/a.admin", `{"disabled":"yes"}`, 400, "invalid"},
		{"PUT", "/api/v1/admin/users/a.admin/password", `{"password":"short"}`, 400, "invalid"},
		{"PUT", "/api/v1/admin/users/a.admin/password", `{"password":"` + long + `"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/devices/%27%20OR%201%3D1/revoke", ``, 404, "not_found"},
		{"POST", "/api/v1/admin/editions", `{"name":"E","start_date":"2026-13-45","end_date":"2026-03-21"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/editions", `{"name":"E","start_date":"2026-03-25","end_date":"2026-03-21"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/editions", `{"name":"E","start_date":"2026-03-21","end_date":"9999-12-31"}`, 400, "invalid"},
		{"PATCH", "/api/v1/admin/editions/99999999999999999999", `{"name":"x"}`, 404, "not_found"},
		{"PATCH", "/api/v1/admin/editions/abc", `{"name":"x"}`, 404, "not_found"},
		{"GET", "/api/v1/admin/users/%00", ``, 404, "not_found"},
		{"GET", "/api/v1/admin/audit?limit=-1&before_id=abc", ``, 400, "invalid"},
		{"GET", "/api/v1/admin/audit?from=%27%20OR%201%3D1", ``, 400, "invalid"},
		{"GET", "/api/v1/admin/trainees/%27%20OR%201%3D1/export", ``, 404, "not_found"},
		{"GET", "/api/v1/admin/trainees/TR-CS/export", ``, 404, "not_found"},
		{"GET", "/api/v1/admin/trainees/%25/export", ``, 404, "not_found"},
		{"POST", "/api/v1/admin/trainees/%27%20OR%201%3D1/erase", `{"reason":"x"}`, 404, "not_found"},
		{"POST", "/api/v1/admin/trainees/TR-CS/erase", `{"reason":"prefix of a real id"}`, 404, "not_found"},
		{"POST", "/api/v1/admin/trainees/TR-CS-1/erase", `{"reason":""}`, 400, "invalid"},
		{"POST", "/api/v1/admin/trainees/TR-CS-1/erase", `{"reason":"   "}`, 400, "invalid"},
		{"POST", "/api/v1/admin/trainees/TR-CS-1/erase", `{"reason":"` + long + `"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/trainees/TR-CS-1/erase", `{"reason":"a\u0000b"}`, 400, "invalid"},
		{"POST", "/api/v1/admin/trainees/TR-CS-1/erase", `{"reason":1}`, 400, "invalid"},
		{"POST", "/api/v1/admin/trainees/ANON-0123/erase", `{"reason":"x"}`, 409, "conflict"},
	} {
		c := badCase{name: v.method + " " + v.path + " " + v.body[:min(len(v.body), 60)], method: v.method, path: v.path, token: true, want: v.want, code: v.code}
		if v.body != "" {
			c.ctype, c.body = "application/json", []byte(v.body)
		}
		cases = append(cases, c)
	}
	// Login: valid shapes with hostile values (nothing is logged in; a
	// failed login is audited: a valid effect).
	for _, v := range []struct{ name, user, pass, dev string }{
		{"SQL", "a.admin' OR '1'='1' --", "x' OR 1=1; DROP TABLE users; --", "d"},
		{"HTML", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "d"},
		{"NUL escapes", "a.admin\u0000", "\u0000", "d"},
	} {
		b, _ := json.Marshal(map[string]string{"username": v.user, "password": v.pass, "device_id": v.dev})
		cases = append(cases, badCase{name: "login " + v.name, method: "POST", path: "/api/v1/auth/login", ctype: "application/json", body: b, want: 401, code: "invalid_credentials", changes: []string{"audit_log"}})
	}
	cases = append(cases, badCase{name: "login 10k strings", method: "POST", path: "/api/v1/auth/login", ctype: "application/json",
		body: []byte(`{"username":"` + long + `","password":"` + long + `","device_id":"d"}`), want: 400, code: "invalid"})
	cases = append(cases,
		badCase{name: "login missing fields", method: "POST", path: "/api/v1/auth/login", ctype: "application/json", body: []byte(`{}`), want: 400, code: "invalid"},
		badCase{name: "login 10k device id", method: "POST", path: "/api/v1/auth/login", ctype: "application/json", body: []byte(`{"username":"a.admin","password":"` + testenv.Password + `","device_id":"` + long + `"}`), want: 400, code: "invalid"},
		badCase{name: "refresh missing token", method: "POST", path: "/api/v1/auth/refresh", ctype: "application/json", body: []byte(`{}`), want: 401, code: "refresh_invalid"},
		badCase{name: "refresh SQL token", method: "POST", path: "/api/v1/auth/refresh", ctype: "application/json", body: []byte(`{"refresh_token":"' OR 1=1 --"}`), want: 401, code: "refresh_invalid"},
		badCase{name: "refresh 10k token", method: "POST", path: "/api/v1/auth/refresh", ctype: "application/json", body: []byte(`{"refresh_token":"` + long + `"}`), want: 401, code: "refresh_invalid"},
	)
	// Bearer tokens.
	for _, v := range []struct{ name, header string }{
		{"none", ""},
		{"garbage", "Bearer garbage"},
		{"alg none", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhLmFkbWluIn0."},
		{"10k", "Bearer " + long},
		{"invalid UTF-8", "Bearer \xff\xfe.\xc3\x28.x"},
		{"basic", "Basic YTpi"},
	} {
		h := map[string]string{}
		if v.header != "" {
			h["Authorization"] = v.header
		}
		cases = append(cases,
			badCase{name: "me token " + v.name, method: "GET", path: "/api/v1/auth/me", header: h, want: 401, code: "unauthorized"},
			badCase{name: "import token " + v.name, method: "POST", path: "/api/v1/admin/import/establishments", header: h, ctype: "application/json", body: []byte(`{}`), want: 401, code: "unauthorized"},
		)
	}
	// Import.
	imp := "/api/v1/admin/import/"
	mp := func(name string, file []byte, fields map[string]string, want int, code string, changes ...string) badCase {
		body, ct := multipartBody(name, file, fields)
		return badCase{name: "import " + name + " " + code, method: "POST", path: imp + "establishments", ctype: ct, body: body, token: true, want: want, code: code, changes: changes}
	}
	cases = append(cases,
		badCase{name: "import JSON body", method: "POST", path: imp + "establishments", ctype: "application/json", body: []byte(`{"file":"x"}`), token: true, want: 400, code: "invalid"},
		badCase{name: "import no body", method: "POST", path: imp + "establishments", token: true, want: 400, code: "invalid"},
		badCase{name: "import broken multipart", method: "POST", path: imp + "establishments", ctype: "multipart/form-data; boundary=zzz", body: []byte("--zzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nno end"), token: true, want: 400, code: "invalid"},
		badCase{name: "import unknown kind", method: "POST", path: imp + "..%2f..%2fetc", ctype: "text/csv", body: []byte("x"), token: true, want: 400, code: "invalid"},
		badCase{name: "import SQL kind", method: "POST", path: imp + "users';DROP%20TABLE%20users;--", ctype: "text/csv", body: []byte("x"), token: true, want: 400, code: "invalid"},
		mp("", nil, map[string]string{"other": "x"}, 400, "invalid"),
		mp("e.csv", []byte("code,name,city,region_code\nE1,\x00\x01\x02,\xff\xfe,CS\n"), nil, 422, "import_invalid"),
		// A name over prodays.TextTitle's 300 characters is refused.
		mp("e.csv", []byte("code,name,city,region_code\nE1,"+long+",x,CS\n"), nil, 422, "import_invalid"),
		mp("e.csv", []byte("code,name,city,region_code\nE1,Name,City,NOPE\n"), nil, 422, "import_invalid"),
		mp("e.csv", []byte("wrong,header\n1,2\n"), nil, 422, "import_invalid"),
		mp("e.xlsx", []byte("PK\x03\x04 not really a zip"), nil, 422, "import_invalid"),
		mp("e.exe", []byte("MZ"), nil, 422, "import_invalid"),
		mp("e.csv", append([]byte("wrong,header\n"), bytes.Repeat([]byte("x,y\n"), 400_000)...), nil, 422, "import_invalid"), // 1.6 MB: over the default cap, under the import cap
	)
	// Reports and exports (GET, query parameters and path names). An
	// export is audited (a valid effect), hostile values are refused.
	for _, v := range []struct {
		path string
		want int
		code string
	}{
		{"/api/v1/reports/bilan?edition=abc", 400, "invalid"},
		{"/api/v1/reports/bilan?edition=99999999999999999999", 400, "invalid"},
		{"/api/v1/exports/participations.csv?sep=tab", 400, "invalid"},
		{"/api/v1/exports/participations.csv?edition=-1", 400, "invalid"},
		{"/api/v1/exports/participations.csv?date=%27%20OR%201%3D1--", 400, "invalid"},
		{"/api/v1/exports/participations.xlsx?date=" + strings.Repeat("9", 10_000), 400, "invalid"},
		{"/api/v1/exports/attendance/..%2f..%2fetc%2fpasswd", 404, "not_found"},
		{"/api/v1/exports/attendance/x.exe", 404, "not_found"},
		{"/api/v1/exports/attendance/%27%20OR%201%3D1.pdf", 404, "not_found"},
		{"/api/v1/exports/attendance-day", 400, "invalid"},
		{"/api/v1/exports/attendance-day?date=2026-03-21&region=CS&format=exe", 400, "invalid"},
		{"/api/v1/exports/attendance-day?date=%3Cscript%3E&region=CS", 400, "invalid"},
		{"/api/v1/exports/badges.pdf", 400, "invalid"},
		{"/api/v1/exports/badges.pdf?establishment=%3Cscript%3E", 404, "not_found"},
		{"/api/v1/exports/badges.pdf?kind=speaker&activity=%00", 404, "not_found"},
		{"/api/v1/exports/certificates/x.txt", 404, "not_found"},
		{"/api/v1/exports/certificates/%27%3B--.pdf", 404, "not_found"},
		{"/api/v1/exports/bilan.pdf?edition=x", 400, "invalid"},
	} {
		cases = append(cases,
			badCase{name: "GET " + v.path[:min(len(v.path), 80)], method: "GET", path: v.path, token: true, want: v.want, code: v.code, changes: []string{"audit_log"}},
			badCase{name: "GET no token " + v.path[:min(len(v.path), 80)], method: "GET", path: v.path, want: 401, code: "unauthorized"},
		)
	}
	// Review decisions (issue #6): malformed bodies, unknown actions and
	// hostile ids, as an admin (nothing exists to decide).
	for _, path := range []string{"/api/v1/review/quarantine/m1/resolve", "/api/v1/review/devices/d1/acknowledge-skew"} {
		for _, b := range badJSONBodies() {
			cases = append(cases, badCase{name: path + " " + b.name, method: "POST", path: path, ctype: "application/json", body: b.body, token: true, want: b.want, code: b.code})
		}
		cases = append(cases,
			badCase{name: path + " text/plain", method: "POST", path: path, ctype: "text/plain", body: []byte(`{}`), token: true, want: 415, code: "unsupported_media_type"},
			badCase{name: path + " no token", method: "POST", path: path, ctype: "application/json", body: []byte(`{"action":"acknowledge"}`), want: 401, code: "unauthorized"})
	}
	for _, v := range []struct {
		path, body string
		want       int
		code       string
	}{
		{"/api/v1/review/quarantine/m1/resolve", `{}`, 400, "invalid"},
		{"/api/v1/review/quarantine/m1/resolve", `{"action":"delete"}`, 400, "invalid"},
		{"/api/v1/review/quarantine/m1/resolve", `{"action":"ACKNOWLEDGE"}`, 400, "invalid"},
		{"/api/v1/review/quarantine/m1/resolve", `{"action":"count_present"}`, 400, "invalid"},
		{"/api/v1/review/quarantine/m1/resolve", `{"action":"count_present","reason":"   "}`, 400, "invalid"},
		{"/api/v1/review/quarantine/m1/resolve", `{"action":["acknowledge"]}`, 400, "invalid"},
		{"/api/v1/review/quarantine/m1/resolve", ``, 415, "unsupported_media_type"}, // the body is required
		{"/api/v1/review/quarantine/%27%20OR%201%3D1--/resolve", `{"action":"acknowledge"}`, 404, "not_found"},
		{"/api/v1/review/quarantine/" + long + "/resolve", `{"action":"acknowledge"}`, 404, "not_found"},
		{"/api/v1/review/quarantine/%00/resolve", `{"action":"acknowledge"}`, 404, "not_found"},
		{"/api/v1/review/devices/%27%20OR%201%3D1--/acknowledge-skew", `{"reason":"x"}`, 404, "not_found"},
		{"/api/v1/review/devices/d1/acknowledge-skew", ``, 404, "not_found"},
		{"/api/v1/review/devices/d1/acknowledge-skew", `{"reason":1}`, 400, "invalid"},
	} {
		c := badCase{name: "POST " + v.path[:min(len(v.path), 80)] + " " + v.body, method: "POST", path: v.path, token: true, want: v.want, code: v.code}
		if v.body != "" {
			c.ctype, c.body = "application/json", []byte(v.body)
		}
		cases = append(cases, c)
	}
	cases = append(cases,
		badCase{name: "quarantine all=yes", method: "GET", path: "/api/v1/review/quarantine?all=yes", token: true, want: 400, code: "invalid"},
		badCase{name: "activities bad date", method: "GET", path: "/api/v1/review/activities?date=%27%20OR%201%3D1", token: true, want: 400, code: "invalid"})
	// Other routes.
	cases = append(cases,
		badCase{name: "unknown route", method: "GET", path: "/api/v1/nowhere", want: 404, code: "not_found"},
		badCase{name: "unknown route with body", method: "POST", path: "/api/v1/sync/push-nowhere", ctype: "application/json", body: []byte(`{}`), want: 404, code: "not_found"},
		badCase{name: "POST healthz", method: "POST", path: "/healthz", ctype: "application/json", body: []byte(`{}`), want: 405, code: "method_not_allowed"},
		badCase{name: "DELETE readyz", method: "DELETE", path: "/readyz", want: 405, code: "method_not_allowed"},
		badCase{name: "PUT metrics", method: "PUT", path: "/metrics", want: 405, code: "method_not_allowed"},
		badCase{name: "metrics without a token", method: "GET", path: "/metrics", header: map[string]string{"X-Forwarded-For": "198.51.100.1"}, want: 401, code: "unauthorized"},
		badCase{name: "OPTIONS preflight", method: "OPTIONS", path: "/api/v1/auth/login", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, want: 405, code: "method_not_allowed"},
		badCase{name: "path traversal", method: "GET", path: "/api/v1/../../etc/passwd", want: 404, code: "not_found"},
		badCase{name: "export unknown region", method: "GET", path: "/api/v1/exports/bilan.xlsx?region=ZZ", token: true, want: 404, code: "not_found"},
		badCase{name: "export region in Content-Disposition", method: "GET", path: "/api/v1/exports/participations.csv?region=a%22%00%ff", token: true, want: 404, code: "not_found"},
	)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.Fingerprint(t, env.DB)
			token := ""
			if tc.token {
				token = admin.AccessToken
			}
			var headers []string
			for k, v := range tc.header {
				headers = append(headers, k, v)
			}
			a := env.Raw(t, tc.method, tc.path, token, tc.ctype, tc.body, headers...)
			var p map[string]any
			if tc.valid {
				if a.Status != tc.want || json.Unmarshal(a.Body, &p) != nil {
					t.Fatalf("valid request: %d %s", a.Status, truncate(a.Body))
				}
			} else if err := json.Unmarshal(a.Body, &p); err != nil || a.Header.Get("Content-Type") != api.ProblemContentType {
				t.Fatalf("%d %q (%s): not problem+json", a.Status, a.Header.Get("Content-Type"), truncate(a.Body))
			}
			if !tc.valid && (a.Status != tc.want || p["code"] != tc.code || p["status"] != float64(a.Status)) {
				t.Errorf("got %d %v (%s), want %d %s", a.Status, p["code"], p["detail"], tc.want, tc.code)
			}
			if a.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no security headers")
			}
			if ch := changedTables(before, dbtest.Fingerprint(t, env.DB)); len(ch) > 0 && !subset(ch, tc.changes) {
				t.Errorf("database changed: %v (allowed: %v)", ch, tc.changes)
			}
			if st := env.Do(t, "GET", "/healthz", "", nil, nil); st != 200 {
				t.Fatalf("server down after the request: %d", st)
			}
		})
	}
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// TestHostileTextStoredLiterally: SQL and HTML in text fields are data,
// stored exactly as sent.
func TestHostileTextStoredLiterally(t *testing.T) {
	env, admin := testenv.NewAdmin(t, testenv.Options{}, "dev-lit")
	name := `Robert'); DROP TABLE establishments;-- <script>alert("x")</script>`
	city := `' OR 1=1 -- &amp; <b>`
	csv := "code,name,city,region_code\nEVIL1,\"" + strings.ReplaceAll(name, `"`, `""`) + "\",\"" + city + "\",CS\n"
	body, ct := multipartBody("establishments.csv", []byte(csv), nil)
	if a := env.Raw(t, "POST", "/api/v1/admin/import/establishments", admin.AccessToken, ct, body); a.Status != 200 {
		t.Fatalf("import: %d %s", a.Status, a.Body)
	}
	var gotName, gotCity string
	if err := env.DB.Read.QueryRow(`SELECT name, city FROM establishments WHERE code = 'EVIL1'`).Scan(&gotName, &gotCity); err != nil {
		t.Fatal(err)
	}
	if gotName != name || gotCity != city {
		t.Fatalf("stored %q %q, want %q %q", gotName, gotCity, name, city)
	}

	// A failed login with a hostile user name: audited literally.
	user := `x' OR '1'='1`
	env.Do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": "p", "device_id": "d"}, nil)
	var n int
	n = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed' AND username = ?`, user)
	if n != 1 {
		t.Fatalf("audit rows for the hostile user name: %d", n)
	}
}

// TestBadInputPush sends hostile bodies to POST /api/v1/sync/push (sync
// protocol, Push: at most 1,000 mutations and 2 MiB after decompression;
// gzip allowed).
func TestBadInputPush(t *testing.T) {
	env, s := testenv.NewAdmin(t, testenv.Options{}, "dev-push")

	mutation := func(i int) map[string]any {
		return map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "seq": i + 1, "type": "attendance.check_in",
			"recorded_at": "2026-03-21T10:00:00.000+01:00", "activity_id": "A1", "person": map[string]string{"kind": "trainee", "id": "T1"}, "method": "qr"}
	}
	batch := func(n int) []byte {
		ms := make([]map[string]any, n)
		for i := range ms {
			ms[i] = mutation(i)
		}
		b, _ := json.Marshal(map[string]any{"device_id": "dev-push", "client_time": "2026-03-21T10:00:00.000+01:00", "app_version": "1.0.0", "outbox_size": n, "mutations": ms})
		return b
	}
	// 64 MiB of whitespace inside a valid prefix: about 64 KiB compressed.
	bomb := gzipped(append([]byte(`{"device_id":"dev-push","mutations":[`), bytes.Repeat([]byte(" "), 64<<20)...))
	for _, tc := range []struct {
		name, ctype, encoding string
		body                  []byte
		want                  int
		code                  string
	}{
		{"gzip bomb", "application/json", "gzip", bomb, 413, "too_large"},
		{"1,001 mutations", "application/json", "", batch(1001), 413, "too_large"},
		{"not gzip", "application/json", "gzip", []byte(`{"mutations":[]}`), 400, "invalid"},
		{"unknown encoding", "application/json", "br", []byte(`{}`), 415, "unsupported_media_type"},
		{"malformed", "application/json", "", []byte(`{"mutations":[`), 400, "invalid"},
		{"wrong types", "application/json", "", []byte(`{"device_id":1,"mutations":{}}`), 400, "invalid"},
		{"deeply nested", "application/json", "", []byte(strings.Repeat("[", 100_000)), 400, "invalid"},
		{"invalid UTF-8", "application/json", "", []byte("{\"device_id\":\"\xff\"}"), 400, "invalid"},
		{"unknown field", "application/json", "", []byte(`{"device_id":"dev-push","mutations":[],"admin":true}`), 400, "invalid"},
		{"key in other case", "application/json", "", []byte(`{"DEVICE_ID":"dev-push","client_time":"2026-03-21T10:00:00Z","mutations":[]}`), 400, "invalid"},
		{"duplicate key", "application/json", "", []byte(`{"device_id":"other","device_id":"dev-push","client_time":"2026-03-21T10:00:00Z","mutations":[]}`), 400, "invalid"},
		{"text/plain", "text/plain", "", batch(1), 415, "unsupported_media_type"},
		{"over 2 MiB", "application/json", "", append(batch(1)[:len(batch(1))-1], []byte(`,"pad":"`+strings.Repeat("x", 3<<20)+`"}`)...), 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.Fingerprint(t, env.DB)
			var headers []string
			if tc.encoding != "" {
				headers = []string{"Content-Encoding", tc.encoding}
			}
			a := answer(env.Raw(t, "POST", "/api/v1/sync/push", s.AccessToken, tc.ctype, tc.body, headers...))
			if a.Status != tc.want || a.Code() != tc.code || a.Header.Get("Content-Type") != api.ProblemContentType {
				t.Errorf("got %d %s %s, want %d %s", a.Status, a.Header.Get("Content-Type"), truncate(a.Body), tc.want, tc.code)
			}
			if ch := changedTables(before, dbtest.Fingerprint(t, env.DB)); len(ch) > 0 && !subset(ch, []string{"audit_log", "devices"}) {
				t.Errorf("database changed: %v", ch)
			}
			if st := env.Do(t, "GET", "/healthz", "", nil, nil); st != 200 {
				t.Fatalf("server down: %d", st)
			}
		})
	}
}
