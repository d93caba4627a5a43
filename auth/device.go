package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"

	"prodays"
)

// Bounds of a device_secret a login carries, in bytes. The lower bound is
// 128 bits in unpadded base64 (22 characters): it does not prove that a
// secret made by a phone is random, it only refuses the obviously short
// ones. The upper bound keeps a login body small.
const (
	MinDeviceSecret = 22
	MaxDeviceSecret = 256
)

// Device is prodays.DeviceLogin.
type Device = prodays.DeviceLogin

// validateDevice checks the shapes of a login's device and sets d.ID to its
// stored form: the push's device_id rule (prodays.CanonicalDeviceID: a
// UUID in canonical lower case, any other id one line without control
// characters or white space around it, at most 100 characters). Errors:
// EInvalid.
func validateDevice(d *Device) error {
	id, err := prodays.CanonicalDeviceID(d.ID)
	if err != nil {
		return err
	}
	d.ID = id
	if d.Secret != "" && (len(d.Secret) < MinDeviceSecret || len(d.Secret) > MaxDeviceSecret) {
		return prodays.Errorf(prodays.EInvalid, "device_secret: from %d to %d characters (at least 128 random bits).", MinDeviceSecret, MaxDeviceSecret)
	}
	return nil
}

// hashDeviceSecret is what devices.secret_hash stores: the hex SHA-256 of
// the secret. A fast hash is enough here, unlike for passwords: the secret
// is at least 128 random bits (the server's are 256), so a stolen hash
// leaves 2^128 guesses, which no key stretching would make meaningfully
// harder; argon2id would only add its memory and time to every login.
func hashDeviceSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// deviceSecretMatches reports, in constant time, whether secret is the one
// whose hash is stored.
func deviceSecretMatches(stored, secret string) bool {
	if secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(stored), []byte(hashDeviceSecret(secret))) == 1
}

// bindSecret returns the secret a device being bound now gets: the one
// the login carries (a restored server learns it again; a phone that made
// its own never depends on an answer it might lose), or else a new random
// 256-bit one, returned as made for the login's answer to carry.
func bindSecret(d Device) (hash, made string, err error) {
	if d.Secret != "" {
		return hashDeviceSecret(d.Secret), "", nil
	}
	made, err = randomToken()
	if err != nil {
		return "", "", err
	}
	return hashDeviceSecret(made), made, nil
}

// deviceRefusal is the refusal of a login on a known device: prodays.EDeviceTaken
// when the device is bound and the login does not prove it, else
// prodays.EDeviceRevoked for a revoked device; nil when the login may go on. A
// stranger is told "taken" before "revoked": what an administrator did to
// a device is none of their business.
func deviceRefusal(d Device, secretHash, revokedAt sql.NullString) error {
	if secretHash.Valid && !deviceSecretMatches(secretHash.String, d.Secret) {
		return prodays.Errorf(prodays.EDeviceTaken, "This device id is bound to another installation of the app: log in from your own.")
	}
	if revokedAt.Valid {
		return prodays.Errorf(prodays.EDeviceRevoked, "This device was revoked by an administrator.")
	}
	return nil
}
