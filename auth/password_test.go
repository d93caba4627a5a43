package auth_test

import (
	"strings"
	"testing"

	"prodays/auth"
)

func TestHashAndCheck(t *testing.T) {
	hash := func(password string) string {
		h, err := auth.HashPassword(password)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := hash("correct horse battery")
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
	if h2 := hash("correct horse battery"); h2 == h {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, malformed := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", auth.DummyHash[:len(auth.DummyHash)-3] + "!!!"} {
		if auth.CheckPassword(malformed, "x") {
			t.Fatalf("malformed hash %q matched", malformed)
		}
	}
}
