package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"prodays"
)

// fuzzNow is the fixed clock of the fuzz target, so that the seed tokens
// stay valid whenever the target runs.
var fuzzNow = time.Date(2026, 3, 21, 10, 0, 0, 0, time.UTC)

func fuzzTokens(tb testing.TB) (*Tokens, []byte) {
	key := []byte("prodays-fuzz-signing-key-0123456789abcdef")
	old := []byte("prodays-fuzz-previous-key-0123456789abcdef")
	kr, err := NewKeyring(old, key)
	if err != nil {
		tb.Fatal(err)
	}
	return &Tokens{Keys: kr, Now: func() time.Time { return fuzzNow }}, key
}

// FuzzParseAccessToken feeds arbitrary strings to Tokens.Parse: it must
// never panic, must answer either claims or an EUnauthorized error, and
// may accept only a token whose HS256 MAC, under a key of the keyring
// named by its kid, matches (that is: one it signed).
func FuzzParseAccessToken(f *testing.F) {
	tk, _ := fuzzTokens(f)
	p := prodays.Principal{Username: "a.admin", Scope: prodays.Scope{Role: prodays.RoleAdmin}, DeviceID: "dev-1"}
	good, _, err := tk.Issue(p, 1)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	f.Add(good)
	f.Add(parts[0] + "." + parts[1] + ".")                                                    // no signature
	f.Add(enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".")    // alg none
	f.Add(enc.EncodeToString([]byte(`{"alg":"HS512","kid":"x"}`)) + "." + parts[1] + ".AAAA") // other alg
	f.Add(enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + "." + parts[2])    // no kid
	f.Add(good + ".extra")
	f.Add("")
	f.Add("...")
	f.Add("Bearer " + good)
	f.Fuzz(func(t *testing.T, raw string) {
		tk, _ := fuzzTokens(t)
		c, perr, reason := tk.Parse(raw)
		if perr != nil {
			if c != nil || prodays.ErrorCode(perr) != prodays.EUnauthorized || reason == nil {
				t.Fatalf("failure shape: claims %v, err %v, reason %v", c, perr, reason)
			}
			return
		}
		if c == nil || c.Subject == "" || c.DeviceID == "" || c.Role == "" || c.ID == "" {
			t.Fatalf("accepted without the required claims: %+v", c)
		}
		if !signedByUs(tk.Keys, raw) {
			t.Fatalf("accepted a token not signed by the keyring: %q", raw)
		}
	})
}

// signedByUs checks raw independently of the JWT library: three parts,
// a header naming HS256 and a known kid, and a matching MAC.
func signedByUs(kr *Keyring, raw string) bool {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return false
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || !strings.Contains(string(hdr), `"HS256"`) {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	for _, k := range kr.keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(parts[0] + "." + parts[1]))
		if hmac.Equal(m.Sum(nil), sig) {
			return true
		}
	}
	return false
}

// TestParseRejectsForeignTokens: a token signed with a key outside the
// keyring, or with the right key but another algorithm, is refused.
func TestParseRejectsForeignTokens(t *testing.T) {
	tk, _ := fuzzTokens(t)
	other, err := NewKeyring([]byte("some-other-signing-key-0123456789abcdef!"))
	if err != nil {
		t.Fatal(err)
	}
	foreign := &Tokens{Keys: other, Now: tk.Now}
	p := prodays.Principal{Username: "x", Scope: prodays.Scope{Role: prodays.RoleStaff}, DeviceID: "d"}
	raw, _, err := foreign.Issue(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, perr, _ := tk.Parse(raw); perr == nil {
		t.Fatal("accepted a token of another keyring")
	}
	good, _, _ := tk.Issue(p, 1)
	if c, perr, _ := tk.Parse(good); perr != nil || c.Subject != "x" {
		t.Fatalf("own token refused: %v", perr)
	}
}
