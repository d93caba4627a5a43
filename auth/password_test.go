package auth_test

import (
	"strings"
	"testing"
	"time"

	"prodays/auth"
)

func TestHashAndCheck(t *testing.T) {
	const pw = "Tanger-2026 é🇲🇦"
	h, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: want the PHC argon2id format with m=19456,t=2,p=1", h)
	}
	if !auth.CheckPassword(h, pw) {
		t.Error("the right password does not match")
	}
	for _, wrong := range []string{"", "tanger-2026 é🇲🇦", pw + " ", pw[:len(pw)-1]} {
		if auth.CheckPassword(h, wrong) {
			t.Errorf("wrong password %q matches", wrong)
		}
	}
	h2, _ := auth.HashPassword(pw)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if !auth.CheckPassword(h2, pw) {
		t.Error("second hash does not match")
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	h, _ := auth.HashPassword("correct horse")
	parts := strings.Split(h, "$")
	for name, enc := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":        strings.Replace(h, "argon2id", "argon2i", 1),
		"wrong version":  strings.Replace(h, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(h, "m=19456", "m=99999999", 1),
		"zero time":      strings.Replace(h, "t=2", "t=0", 1),
		"bad salt":       strings.Join(append(parts[:4:4], "!!!", parts[5]), "$"),
		"truncated hash": strings.Join(append(parts[:5:5], "abc"), "$"),
		"extra part":     h + "$x",
	} {
		if auth.CheckPassword(enc, "correct horse") {
			t.Errorf("%s: %q matches", name, enc)
		}
	}
}

// TestDummyHash: DummyHash is a real hash (checking it costs as much as a
// real check) that matches no likely password.
func TestDummyHash(t *testing.T) {
	h, _ := auth.HashPassword("some password")
	start := time.Now()
	auth.CheckPassword(h, "x")
	realCheck := time.Since(start)
	start = time.Now()
	if auth.CheckPassword(auth.DummyHash, "") || auth.CheckPassword(auth.DummyHash, "password123") {
		t.Error("DummyHash matches a likely password")
	}
	dummy := time.Since(start) / 2
	if dummy < realCheck/4 {
		t.Errorf("checking DummyHash took %v, a real check %v: want comparable times", dummy, realCheck)
	}
	if auth.MinPasswordLength != 10 {
		t.Errorf("MinPasswordLength = %d", auth.MinPasswordLength)
	}
}
