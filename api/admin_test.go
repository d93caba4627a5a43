package api_test

import (
	"net/http"
	"strings"
	"testing"

	"prodays/auth"
	"prodays/internal/testenv"
)

// adminEnv is a server with two establishments, an admin logged in on
// device "admin-dev".
func adminEnv(t *testing.T) (*testenv.Env, *testenv.Session) {
	env := testenv.New(t, testenv.Options{})
	establishments(t, env)
	testenv.CreateUser(t, env.DB, "a.admin", "admin", "", "")
	return env, env.Login(t, "a.admin", "admin-dev")
}

func wantInvalid(t *testing.T, what string, a answer, field string) {
	t.Helper()
	wantProblem(t, what, a, http.StatusBadRequest, "invalid")
	if d, _ := a.JSON()["detail"].(string); !strings.HasPrefix(d, field+":") {
		t.Fatalf("%s: detail %q does not name the field %s", what, d, field)
	}
}

func TestAdminCreateAndListUsers(t *testing.T) {
	env, adm := adminEnv(t)
	post := func(body map[string]any) answer {
		return send(t, env, "POST", "/api/v1/admin/users", adm.AccessToken, body)
	}

	a := post(map[string]any{"username": "k.staff", "full_name": "Karima Staff", "role": "staff", "establishment_code": "EFP-CS-1", "password": "a-long-password"})
	if a.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.Status, a.Body)
	}
	if u := a.JSON(); u["region_code"] != "CS" || u["has_password"] != true {
		t.Fatalf("created user: %v", u)
	}
	if a := post(map[string]any{"username": "r.sup", "role": "supervisor", "region_code": "TTA"}); a.Status != http.StatusCreated {
		t.Fatalf("create supervisor: %d %s", a.Status, a.Body)
	}
	wantProblem(t, "duplicate", post(map[string]any{"username": "k.staff", "role": "admin"}), http.StatusConflict, "conflict")

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"bad username", map[string]any{"username": "a b", "role": "admin"}, "username"},
		{"bad role", map[string]any{"username": "x1", "role": "root"}, "role"},
		{"staff without establishment", map[string]any{"username": "x2", "role": "staff"}, "establishment_code"},
		{"unknown establishment", map[string]any{"username": "x3", "role": "staff", "establishment_code": "NOPE"}, "establishment_code"},
		{"staff region mismatch", map[string]any{"username": "x4", "role": "staff", "establishment_code": "EFP-CS-1", "region_code": "TTA"}, "region_code"},
		{"supervisor without region", map[string]any{"username": "x5", "role": "supervisor"}, "region_code"},
		{"unknown region", map[string]any{"username": "x6", "role": "supervisor", "region_code": "XX"}, "region_code"},
		{"admin with establishment", map[string]any{"username": "x7", "role": "admin", "establishment_code": "EFP-CS-1"}, "establishment_code"},
		{"short password", map[string]any{"username": "x8", "role": "admin", "password": "short"}, "password"},
		{"long password", map[string]any{"username": "x9", "role": "admin", "password": strings.Repeat("p", auth.MaxPasswordLength+1)}, "password"},
		{"long name", map[string]any{"username": "x10", "role": "admin", "full_name": strings.Repeat("n", 301)}, "full_name"},
		{"control character", map[string]any{"username": "x11", "role": "admin", "full_name": "A\x1b[2J"}, "full_name"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, tc.name, post(tc.body), tc.field) })
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"a.admin", "k.staff", "r.sup"}},
		{"?role=staff", []string{"k.staff"}},
		{"?region=TTA", []string{"r.sup"}},
		{"?q=karima", []string{"k.staff"}},
		{"?q=%25", nil}, // % is a literal, not a wildcard
	} {
		var got []string
		a := send(t, env, "GET", "/api/v1/admin/users"+tc.query, adm.AccessToken, nil)
		for _, u := range a.JSON()["users"].([]any) {
			got = append(got, u.(map[string]any)["username"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("list %q: got %v, want %v", tc.query, got, tc.want)
		}
	}
	wantInvalid(t, "bad role filter", send(t, env, "GET", "/api/v1/admin/users?role=root", adm.AccessToken, nil), "role")
	wantProblem(t, "unknown user", send(t, env, "GET", "/api/v1/admin/users/ghost", adm.AccessToken, nil), http.StatusNotFound, "not_found")

	// Every change is audited with the admin, device and address.
	a = send(t, env, "GET", "/api/v1/admin/audit?action=user.create", adm.AccessToken, nil)
	entries := a.JSON()["entries"].([]any)
	if len(entries) != 2 {
		t.Fatalf("audit user.create: %s", a.Body)
	}
	e := entries[0].(map[string]any)
	if e["username"] != "a.admin" || e["device_id"] != "admin-dev" || e["address"] != "127.0.0.1" || e["target"] != "r.sup" {
		t.Fatalf("audit entry: %v", e)
	}
}

func TestAdminUpdateUserBumpsScopeVersion(t *testing.T) {
	env, adm := adminEnv(t)
	testenv.CreateUser(t, env.DB, "k.staff", "staff", "EFP-CS-1", "")
	patch := func(user string, body map[string]any) answer {
		return send(t, env, "PATCH", "/api/v1/admin/users/"+user, adm.AccessToken, body)
	}
	sv := func(a answer) float64 {
		t.Helper()
		if a.Status != http.StatusOK {
			t.Fatalf("patch: %d %s", a.Status, a.Body)
		}
		return a.JSON()["scope_version"].(float64)
	}
	if got := sv(patch("k.staff", map[string]any{"full_name": "Karima B."})); got != 1 {
		t.Fatalf("name change: scope_version %v, want 1 (unchanged)", got)
	}
	a := patch("k.staff", map[string]any{"establishment_code": "EFP-TTA-1"})
	if got := sv(a); got != 2 || a.JSON()["region_code"] != "TTA" {
		t.Fatalf("establishment change: %s, want scope_version 2 and region TTA", a.Body)
	}
	a = patch("k.staff", map[string]any{"role": "supervisor"})
	if got := sv(a); got != 3 || a.JSON()["region_code"] != "TTA" || a.JSON()["establishment_code"] != nil {
		t.Fatalf("role change: %s", a.Body)
	}
	if got := sv(patch("k.staff", map[string]any{"region_code": "CS"})); got != 4 {
		t.Fatalf("region change: scope_version %v, want 4", got)
	}
	if got := sv(patch("k.staff", map[string]any{"region_code": "CS"})); got != 4 {
		t.Fatalf("no-op: scope_version %v, want 4", got)
	}
	wantInvalid(t, "role invalid", patch("k.staff", map[string]any{"role": "boss"}), "role")
	wantInvalid(t, "supervisor with establishment", patch("k.staff", map[string]any{"establishment_code": "EFP-CS-1"}), "establishment_code")
	wantProblem(t, "unknown user", patch("ghost", map[string]any{"full_name": "x"}), http.StatusNotFound, "not_found")
	wantProblem(t, "last admin", patch("a.admin", map[string]any{"disabled": true}), http.StatusConflict, "conflict")
	wantProblem(t, "last admin demoted", patch("a.admin", map[string]any{"role": "supervisor", "region_code": "CS"}), http.StatusConflict, "conflict")
	wantProblem(t, "unknown field", patch("k.staff", map[string]any{"scope_version": 9}), http.StatusBadRequest, "invalid")

	a = send(t, env, "GET", "/api/v1/admin/audit?action=user.update&username=a.admin", adm.AccessToken, nil)
	if n := len(a.JSON()["entries"].([]any)); n != 4 {
		t.Fatalf("audited updates: %d, want 4 (no-ops are not audited): %s", n, a.Body)
	}
}

func TestDisabledUserCannotRefresh(t *testing.T) {
	env, adm := adminEnv(t)
	testenv.CreateUser(t, env.DB, "k.staff", "staff", "EFP-CS-1", "")
	s := env.Login(t, "k.staff", "phone-1")
	if a := send(t, env, "PATCH", "/api/v1/admin/users/k.staff", adm.AccessToken, map[string]any{"disabled": true}); a.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", a.Status, a.Body)
	}
	wantProblem(t, "refresh of a disabled user", send(t, env, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}),
		http.StatusUnauthorized, "user_disabled")
	wantProblem(t, "login of a disabled user", send(t, env, "POST", "/api/v1/auth/login", "",
		map[string]string{"username": "k.staff", "password": testenv.Password, "device_id": "phone-1"}), http.StatusUnauthorized, "invalid_credentials")
	// Enabled again: the old session stays closed, a new login works.
	send(t, env, "PATCH", "/api/v1/admin/users/k.staff", adm.AccessToken, map[string]any{"disabled": false})
	wantProblem(t, "refresh after re-enable", send(t, env, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}),
		http.StatusUnauthorized, "refresh_invalid")
	env.Login(t, "k.staff", "phone-1")
}

func TestRevokedDeviceStopsAtOnce(t *testing.T) {
	env, adm := adminEnv(t)
	testenv.CreateUser(t, env.DB, "k.staff", "staff", "EFP-CS-1", "")
	s := env.Login(t, "k.staff", "phone-1")
	other := env.Login(t, "k.staff", "phone-2")
	a := send(t, env, "GET", "/api/v1/admin/users/k.staff/devices", adm.AccessToken, nil)
	if a.Status != http.StatusOK || len(a.JSON()["devices"].([]any)) != 2 {
		t.Fatalf("devices: %d %s", a.Status, a.Body)
	}
	wantProblem(t, "devices of unknown user", send(t, env, "GET", "/api/v1/admin/users/ghost/devices", adm.AccessToken, nil), http.StatusNotFound, "not_found")

	a = send(t, env, "POST", "/api/v1/admin/devices/phone-1/revoke", adm.AccessToken, nil)
	if a.Status != http.StatusOK || a.JSON()["revoked_by"] != "a.admin" {
		t.Fatalf("revoke: %d %s", a.Status, a.Body)
	}
	// The access token, still within its 15 minutes, stops at once.
	wantProblem(t, "access after revoke", send(t, env, "GET", "/api/v1/auth/me", s.AccessToken, nil), http.StatusUnauthorized, "device_revoked")
	wantProblem(t, "refresh after revoke", send(t, env, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}),
		http.StatusUnauthorized, "refresh_invalid")
	wantProblem(t, "login from the revoked device", send(t, env, "POST", "/api/v1/auth/login", "",
		map[string]string{"username": "k.staff", "password": testenv.Password, "device_id": "phone-1", "device_secret": env.DeviceSecret("phone-1")}), http.StatusUnauthorized, "device_revoked")
	// The user's other device is untouched.
	if a := send(t, env, "GET", "/api/v1/auth/me", other.AccessToken, nil); a.Status != http.StatusOK {
		t.Fatalf("other device: %d", a.Status)
	}
	if a := send(t, env, "POST", "/api/v1/admin/devices/phone-1/revoke", adm.AccessToken, nil); a.Status != http.StatusOK {
		t.Fatalf("second revoke: %d %s", a.Status, a.Body)
	}
	wantProblem(t, "unknown device", send(t, env, "POST", "/api/v1/admin/devices/nope/revoke", adm.AccessToken, nil), http.StatusNotFound, "not_found")
}

func TestAdminSetPassword(t *testing.T) {
	env, adm := adminEnv(t)
	testenv.CreateUser(t, env.DB, "k.staff", "staff", "EFP-CS-1", "")
	s := env.Login(t, "k.staff", "phone-1")
	put := func(user, pw string) answer {
		return send(t, env, "PUT", "/api/v1/admin/users/"+user+"/password", adm.AccessToken, map[string]string{"password": pw})
	}
	wantInvalid(t, "short", put("k.staff", "123456789"), "password")
	wantInvalid(t, "long", put("k.staff", strings.Repeat("é", auth.MaxPasswordLength+1)), "password")
	wantProblem(t, "unknown user", put("ghost", "a-new-password"), http.StatusNotFound, "not_found")
	if a := put("k.staff", "a-new-password"); a.Status != http.StatusNoContent {
		t.Fatalf("set password: %d %s", a.Status, a.Body)
	}
	wantProblem(t, "refresh after password change", send(t, env, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}),
		http.StatusUnauthorized, "refresh_invalid")
	wantProblem(t, "old password", send(t, env, "POST", "/api/v1/auth/login", "",
		map[string]string{"username": "k.staff", "password": testenv.Password, "device_id": "phone-1"}), http.StatusUnauthorized, "invalid_credentials")
	if a := send(t, env, "POST", "/api/v1/auth/login", "",
		map[string]string{"username": "k.staff", "password": "a-new-password", "device_id": "phone-1", "device_secret": env.DeviceSecret("phone-1")}); a.Status != http.StatusOK {
		t.Fatalf("new password: %d %s", a.Status, a.Body)
	}
	a := send(t, env, "GET", "/api/v1/admin/audit?action=user.", adm.AccessToken, nil)
	if e := a.JSON()["entries"].([]any)[0].(map[string]any); e["action"] != "user.password" || e["target"] != "k.staff" || e["device_id"] != "admin-dev" || e["address"] != "127.0.0.1" {
		t.Fatalf("audit: %v", e)
	}
}

func TestAdminAuditQuery(t *testing.T) {
	env, adm := adminEnv(t)
	for range 3 {
		env.Login(t, "a.admin", "admin-dev")
	}
	a := send(t, env, "GET", "/api/v1/admin/audit?action=auth.login&limit=2", adm.AccessToken, nil)
	body := a.JSON()
	if len(body["entries"].([]any)) != 2 || body["next_before_id"] == nil {
		t.Fatalf("page 1: %s", a.Body)
	}
	next := int64(body["next_before_id"].(float64))
	a = send(t, env, "GET", "/api/v1/admin/audit?action=auth.login&limit=2&before_id="+itoa(next), adm.AccessToken, nil)
	if n := len(a.JSON()["entries"].([]any)); n != 2 {
		t.Fatalf("page 2: %d entries, want 2 (4 logins): %s", n, a.Body)
	}
	if a := send(t, env, "GET", "/api/v1/admin/audit?from=2999-01-01", adm.AccessToken, nil); len(a.JSON()["entries"].([]any)) != 0 {
		t.Fatalf("from the future: %s", a.Body)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "before_id=-1", "from=yesterday", "to=2026-13-01"} {
		field, _, _ := strings.Cut(q, "=")
		wantInvalid(t, q, send(t, env, "GET", "/api/v1/admin/audit?"+q, adm.AccessToken, nil), field)
	}
}

func TestAdminEditions(t *testing.T) {
	env, adm := adminEnv(t)
	post := func(body map[string]any) answer {
		return send(t, env, "POST", "/api/v1/admin/editions", adm.AccessToken, body)
	}
	a := post(map[string]any{"name": "Pro'Days 2026", "theme": "Métiers verts", "start_date": "2026-03-02", "end_date": "2026-03-06"})
	if a.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.Status, a.Body)
	}
	id := itoa(int64(a.JSON()["id"].(float64)))
	wantProblem(t, "duplicate name", post(map[string]any{"name": "Pro'Days 2026", "start_date": "2027-03-01", "end_date": "2027-03-05"}), http.StatusConflict, "conflict")
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no name", map[string]any{"start_date": "2027-03-01", "end_date": "2027-03-05"}, "name"},
		{"bad start", map[string]any{"name": "x", "start_date": "01/03/2027", "end_date": "2027-03-05"}, "start_date"},
		{"impossible date", map[string]any{"name": "x", "start_date": "2027-02-30", "end_date": "2027-03-05"}, "start_date"},
		{"end before start", map[string]any{"name": "x", "start_date": "2027-03-05", "end_date": "2027-03-01"}, "end_date"},
		{"too long", map[string]any{"name": "x", "start_date": "2027-03-01", "end_date": "2027-05-01"}, "end_date"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, tc.name, post(tc.body), tc.field) })
	}
	a = send(t, env, "PATCH", "/api/v1/admin/editions/"+id, adm.AccessToken, map[string]any{"theme": "Industrie 4.0", "end_date": "2026-03-07"})
	if a.Status != http.StatusOK || a.JSON()["theme"] != "Industrie 4.0" || a.JSON()["start_date"] != "2026-03-02" || a.JSON()["end_date"] != "2026-03-07" {
		t.Fatalf("patch: %d %s", a.Status, a.Body)
	}
	wantInvalid(t, "patch end before start", send(t, env, "PATCH", "/api/v1/admin/editions/"+id, adm.AccessToken, map[string]any{"end_date": "2026-03-01"}), "end_date")
	wantProblem(t, "unknown edition", send(t, env, "PATCH", "/api/v1/admin/editions/999", adm.AccessToken, map[string]any{"theme": "x"}), http.StatusNotFound, "not_found")
	a = send(t, env, "GET", "/api/v1/admin/editions", adm.AccessToken, nil)
	if eds := a.JSON()["editions"].([]any); len(eds) != 1 || eds[0].(map[string]any)["theme"] != "Industrie 4.0" {
		t.Fatalf("list: %s", a.Body)
	}
	a = send(t, env, "GET", "/api/v1/admin/audit?action=edition.", adm.AccessToken, nil)
	if n := len(a.JSON()["entries"].([]any)); n != 2 {
		t.Fatalf("audited edition changes: %d, want 2", n)
	}
}
