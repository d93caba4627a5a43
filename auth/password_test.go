package auth_test

import (
	"strings"
	"testing"

	"prodays/auth"
)

func TestHashAndCheck(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format: %s", h)
	}
	if !auth.CheckPassword(h, "correct horse battery") {
		t.Fatal("right password refused")
	}
	for _, bad := range []string{"", "correct horse batter", "correct horse battery "} {
		if auth.CheckPassword(h, bad) {
			t.Fatalf("wrong password %q accepted", bad)
		}
	}
	h2, _ := auth.HashPassword("correct horse battery")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, malformed := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", auth.DummyHash[:len(auth.DummyHash)-3] + "!!!"} {
		if auth.CheckPassword(malformed, "x") {
			t.Fatalf("malformed hash %q matched", malformed)
		}
	}
}
