// Package auth issues and verifies prodays' credentials: argon2id password
// hashes, JWT access tokens (RFC 7519, used as RFC 8725 recommends) signed
// with a server-chosen algorithm and key id, and rotating refresh tokens
// stored hashed.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"prodays"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 10

// MaxPasswordLength is the longest password accepted, in characters: long
// enough for any passphrase, short enough that hashing stays cheap.
const MaxPasswordLength = 256

// ValidatePassword returns nil when pw may be set as a password (between
// MinPasswordLength and MaxPasswordLength characters), else a
// *prodays.Error with code EInvalid naming the field "password". Every path
// that sets a password calls it.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return prodays.Errorf(prodays.EInvalid, "password: at least %d characters.", MinPasswordLength)
	case n > MaxPasswordLength:
		return prodays.Errorf(prodays.EInvalid, "password: at most %d characters.", MaxPasswordLength)
	}
	return nil
}

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), so that
// a login costs ~30 ms on the 2-core machines the server runs on.
const (
	argonMemory  = 19456
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns pw hashed with argon2id in the PHC string format
// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (unpadded base64).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// DummyHash is a valid hash of a random password: checking a password
// against it takes the time of a real check, so that a login for an unknown
// user answers in the same time as one for a known user.
var DummyHash = func() string {
	b := make([]byte, 24)
	rand.Read(b)
	h, err := HashPassword(base64.RawStdEncoding.EncodeToString(b))
	if err != nil {
		panic(err)
	}
	return h
}()

// CheckPassword reports whether pw matches encoded (a HashPassword
// result), comparing in constant time. A malformed encoded value never
// matches.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
