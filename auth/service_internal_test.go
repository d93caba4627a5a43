package auth

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"prodays"
	"prodays/store"
)

// newTestService returns a Service on a new database in t.TempDir(),
// closed at the end of the test.
func newTestService(t *testing.T) *Service {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "prodays.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, _ := NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	return &Service{DB: db, Tokens: &Tokens{Keys: keys}}
}

// TestLoginChecksPasswordOnEveryPath proves the equal-time property by
// structure, not by timing: whether the user exists, has no password, is
// disabled or gives a wrong password, Login runs exactly one argon2id check
// (against DummyHash when there is no real hash).
func TestLoginChecksPasswordOnEveryPath(t *testing.T) {
	ctx := context.Background()
	svc := newTestService(t)
	db := svc.DB
	hash, err := HashPassword("real-password-1")
	if err != nil {
		t.Fatal(err)
	}
	now := store.FormatTime(time.Now())
	for _, q := range []string{
		`INSERT INTO users (username, role, password_hash, created_at, updated_at) VALUES ('known', 'admin', '` + hash + `', '` + now + `', '` + now + `')`,
		`INSERT INTO users (username, role, password_hash, created_at, updated_at) VALUES ('nopw', 'admin', NULL, '` + now + `', '` + now + `')`,
		`INSERT INTO users (username, role, password_hash, disabled, created_at, updated_at) VALUES ('off', 'admin', '` + hash + `', 1, '` + now + `', '` + now + `')`,
	} {
		if _, err := db.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var calls []string
	svc.check = func(encoded, pw string) bool {
		calls = append(calls, encoded)
		return CheckPassword(encoded, pw)
	}
	for _, tc := range []struct {
		name, user, pw, wantHash string
	}{
		{"unknown user", "ghost", "real-password-1", DummyHash},
		{"no password set", "nopw", "real-password-1", DummyHash},
		{"wrong password", "known", "wrong-password", hash},
		{"disabled", "off", "real-password-1", hash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			_, err := svc.Login(ctx, tc.user, tc.pw, Device{ID: "dev-1"}, Client{})
			if prodays.ErrorCode(err) != prodays.EInvalidCredentials {
				t.Fatalf("got %v, want %s", err, prodays.EInvalidCredentials)
			}
			if len(calls) != 1 || calls[0] != tc.wantHash {
				t.Fatalf("password checks: got %d (%v), want exactly one against the expected hash", len(calls), calls)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"", false},
		{"123456789", false},
		{"1234567890", true},
		{"éééééééééé", true}, // characters, not bytes
		{string(make([]rune, MaxPasswordLength)), true},
		{string(make([]rune, MaxPasswordLength+1)), false},
	} {
		err := ValidatePassword(tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePassword(len %d): got %v, want ok=%v", len([]rune(tc.pw)), err, tc.ok)
		}
		if err != nil && prodays.ErrorCode(err) != prodays.EInvalid {
			t.Errorf("code: got %s, want invalid", prodays.ErrorCode(err))
		}
	}
}

// TestLoginFailedAuditNotDropped: a refused login whose audit entry cannot
// be written fails with that error (internal), so that no failed login
// goes unrecorded; with the audit log writable it is refused as before,
// and recorded.
func TestLoginFailedAuditNotDropped(t *testing.T) {
	ctx := context.Background()
	svc := newTestService(t)
	db := svc.DB
	_, err := svc.Login(ctx, "ghost", "some-password-1", Device{ID: "dev-1"}, Client{Address: "10.0.0.1"})
	if got := prodays.ErrorCode(err); got != prodays.EInvalidCredentials {
		t.Fatalf("audit writable: got %v, want %s", err, prodays.EInvalidCredentials)
	}
	var n int
	if err := db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed' AND username = 'ghost'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit entries of the failed login: got %d (%v), want 1", n, err)
	}
	if _, err := db.Write.Exec(`CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Login(ctx, "ghost", "some-password-1", Device{ID: "dev-1"}, Client{Address: "10.0.0.1"})
	if got := prodays.ErrorCode(err); got != prodays.EInternal || !strings.Contains(err.Error(), "audit log unavailable") {
		t.Fatalf("audit failing: got %v (code %s), want the audit write's error (internal)", err, got)
	}
}
