package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MinKeyLength is the shortest HMAC signing key accepted, in bytes
// (RFC 7518 §3.2: at least the hash size for HS256).
const MinKeyLength = 32

// Keyring holds the HMAC keys that verify access tokens, by key id (the
// JWT `kid` header). The newest key signs; older keys still verify, so that
// a key can be rotated while the tokens it signed live out their lifetime.
type Keyring struct {
	keys    map[string][]byte
	signing string
}

// KeyID derives a key's id: the first 16 hex digits of its SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// NewKeyring returns a keyring whose LAST key signs. Every key must be at
// least MinKeyLength bytes.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring: no key")
	}
	kr := &Keyring{keys: make(map[string][]byte)}
	for _, k := range keys {
		if len(k) < MinKeyLength {
			return nil, fmt.Errorf("keyring: a signing key must be at least %d bytes, got %d", MinKeyLength, len(k))
		}
		id := KeyID(k)
		kr.keys[id] = k
		kr.signing = id
	}
	return kr, nil
}

// SigningKeyID returns the id of the key that signs new tokens.
func (kr *Keyring) SigningKeyID() string { return kr.signing }

func (kr *Keyring) key(id string) ([]byte, bool) {
	k, ok := kr.keys[id]
	return k, ok
}

// LoadKeyring builds the keyring from, in order of precedence: env (the
// value of PRODAYS_JWT_KEY: one or more keys separated by commas, each
// base64 or raw text of at least 32 bytes, the last one signing), or the
// key file at path (one base64 key a line, the last one signing), which is
// created with a fresh random key (mode 0600) when it does not exist.
func LoadKeyring(env, path string) (*Keyring, error) {
	if env != "" {
		var keys [][]byte
		for _, s := range strings.Split(env, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) >= MinKeyLength {
				keys = append(keys, b)
			} else {
				keys = append(keys, []byte(s))
			}
		}
		return NewKeyring(keys...)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		line := base64.StdEncoding.EncodeToString(key) + "\n"
		if err := writePrivate(path, []byte(line)); err != nil {
			return nil, fmt.Errorf("write key file: %w", err)
		}
		return NewKeyring(key)
	} else if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	var keys [][]byte
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not base64: %w", path, n, err)
		}
		keys = append(keys, b)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	kr, err := NewKeyring(keys...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kr, nil
}

// writePrivate creates path (it must not exist: O_EXCL, which also refuses
// a symbolic link planted there) owner-only, mode 0600 whatever the umask,
// and writes data to it, synced.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
