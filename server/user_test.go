package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"prodays/internal/testenv"
)

// TestUserAddAgreesWithAdminAPI: `prodays user add` and POST
// /api/v1/admin/users create accounts through the same store rules, so
// they accept and refuse the same usernames.
func TestUserAddAgreesWithAdminAPI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "prodays.db")
	_, adm := testenv.NewAdmin(t, testenv.Options{}, "admin-dev")
	apiStatus := func(username string) int {
		return adm.Do(t, "POST", "/api/v1/admin/users", map[string]string{"username": username, "role": "admin"}, nil)
	}
	for _, tc := range []struct {
		username string
		ok       bool
	}{
		{"x", false},
		{"a b", false},
		{" ", false},
		{"-lead", false},
		{".dot", false},
		{"a/b", false},
		{"karima\x00", false},
		{"é.user", false},
		{strings.Repeat("u", 65), false},
		{"ab", true},
		{"k.staff", true},
		{"user@ofppt.ma", true},
		{"a_b-c", true},
		{strings.Repeat("v", 64), true},
	} {
		t.Run(tc.username, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "user", "add", tc.username, "--db", db, "--role", "admin")
			if got := code == 0; got != tc.ok {
				t.Errorf("prodays user add %q: got exit %d (%s%s), want accepted %v", tc.username, code, stdout, stderr, tc.ok)
			}
			status := apiStatus(tc.username)
			if got := status == http.StatusCreated; got != tc.ok {
				t.Errorf("POST /api/v1/admin/users %q: got %d, want accepted %v", tc.username, status, tc.ok)
			}
			if !tc.ok && status != http.StatusBadRequest {
				t.Errorf("POST /api/v1/admin/users %q: got %d, want 400", tc.username, status)
			}
		})
	}
}
