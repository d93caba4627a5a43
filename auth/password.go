// Package auth authenticates prodays users. This file holds password
// hashing: argon2id in the PHC string format.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password accepted, in characters
// (runes).
const MinPasswordLength = 10

// Argon2id parameters of new hashes: OWASP's minimum (19 MiB, 2 passes,
// 1 lane) keeps a login around a few tens of milliseconds on the 2-core
// server. CheckPassword reads the parameters from each hash, so they can
// be raised later without invalidating stored hashes.
const (
	argonMemoryKiB = 19456
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds on the parameters CheckPassword accepts from a stored hash, so
// that a corrupt or hostile hash cannot exhaust the server.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 10
	maxThreads   = 16
)

var b64 = base64.RawStdEncoding

// DummyHash is a valid hash of a random, forgotten password. Check a
// password against it when the user does not exist, so that a login takes
// the same time whether the username is known or not.
var DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$vKrsEOApxikVXQHVrpt8nw$qwvlQFWQC+rtMGpRCRw1h8Ww3uHd7OatN4mLEd+bHtk"

// HashPassword returns the argon2id hash of pw in the PHC string format
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" (unpadded standard
// base64), with a fresh 16-byte random salt. It does not check the length
// policy (see MinPasswordLength); its only error is a failing random
// source.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches encoded, a hash made by
// HashPassword (or any argon2id PHC string with sane parameters). The
// comparison is constant-time; a malformed hash never matches.
func CheckPassword(encoded, pw string) bool {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

type argonParams struct {
	memory, time uint32
	threads      uint8
}

var errBadHash = errors.New("not an argon2id hash")

func decodeHash(encoded string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	var m, t, th uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 {
		return p, nil, nil, errBadHash
	}
	if m < 8 || m > maxMemoryKiB || t < 1 || t > maxTime || th < 1 || th > maxThreads {
		return p, nil, nil, errBadHash
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	return argonParams{memory: uint32(m), time: uint32(t), threads: uint8(th)}, salt, key, nil
}
