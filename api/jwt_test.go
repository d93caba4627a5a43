package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"prodays"
	"prodays/api"
	"prodays/auth"
	"prodays/internal/testenv"
)

// TestAccessTokenHardening sends forged and stale access tokens to an
// authenticated route; each must be 401 problem+json (RFC 8725 §2, §3).
func TestAccessTokenHardening(t *testing.T) {
	c := newClock()
	env := testenv.New(t, testenv.Options{Now: c.Now})
	establishments(t, env)
	testenv.CreateUser(t, env.DB, "s.staff", "staff", "EFP-CS-1", "")
	login := env.Login(t, "s.staff", "dev-1") // registers the device and opens a session
	var real auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(login.AccessToken, &real); err != nil {
		t.Fatal(err)
	}
	now := c.Now()
	kid := auth.KeyID(testenv.TestKey)
	otherKey := []byte("another-signing-key-of-32-bytes-or-more!")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	claims := func(edit func(*auth.Claims)) *auth.Claims {
		cl := &auth.Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: auth.DefaultIssuer, Subject: "s.staff", Audience: jwt.ClaimStrings{auth.DefaultAudience},
				ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)), NotBefore: jwt.NewNumericDate(now),
				IssuedAt: jwt.NewNumericDate(now), ID: "0123456789abcdef",
			},
			Role: prodays.RoleStaff, EstablishmentCode: "EFP-CS-1", RegionCode: "CS", DeviceID: "dev-1", ScopeVersion: 1,
			SessionID: real.SessionID,
		}
		if edit != nil {
			edit(cl)
		}
		return cl
	}
	sign := func(m jwt.SigningMethod, key any, kid string, cl *auth.Claims) string {
		tok := jwt.NewWithClaims(m, cl)
		if kid != "" {
			tok.Header["kid"] = kid
		} else {
			delete(tok.Header, "kid")
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := func(edit func(*auth.Claims)) string {
		return sign(jwt.SigningMethodHS256, testenv.TestKey, kid, claims(edit))
	}
	leeway := auth.DefaultLeeway

	valid := hs(nil)
	if a := send(t, env, "GET", "/api/v1/auth/me", valid, nil); a.Status != http.StatusOK {
		t.Fatalf("control: a well-formed token is refused: %d %s", a.Status, a.Body)
	}
	// The payload of the valid token with role raised to admin, signature kept.
	parts := strings.Split(valid, ".")
	var payload map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(raw, &payload)
	payload["role"] = prodays.RoleAdmin
	edited, _ := json.Marshal(payload)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(edited) + "." + parts[2]

	for _, tc := range []struct{ name, token string }{
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims(nil))},
		{"alg none, empty signature", strings.Join(strings.Split(sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims(nil)), ".")[:2], ".") + "."},
		{"HS256 with another key", sign(jwt.SigningMethodHS256, otherKey, kid, claims(nil))},
		{"HS512 with the right key", sign(jwt.SigningMethodHS512, testenv.TestKey, kid, claims(nil))},
		{"payload edited", tampered},
		{"expired past leeway", hs(func(c *auth.Claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(-time.Hour))
			c.NotBefore = c.IssuedAt
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-leeway - time.Second))
		})},
		{"nbf in the future", hs(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(leeway + time.Minute)) })},
		{"iat in the future", hs(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(leeway + time.Minute)) })},
		{"no exp", hs(func(c *auth.Claims) { c.ExpiresAt = nil })},
		{"no nbf", hs(func(c *auth.Claims) { c.NotBefore = nil })},
		{"wrong iss", hs(func(c *auth.Claims) { c.Issuer = "someone-else" })},
		{"wrong aud", hs(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"another-api"} })},
		{"no did", hs(func(c *auth.Claims) { c.DeviceID = "" })},
		{"unknown device", hs(func(c *auth.Claims) { c.DeviceID = "dev-never-seen" })},
		{"unknown kid", sign(jwt.SigningMethodHS256, otherKey, auth.KeyID(otherKey), claims(nil))},
		{"missing kid", sign(jwt.SigningMethodHS256, testenv.TestKey, "", claims(nil))},
		{"RS256", sign(jwt.SigningMethodRS256, rsaKey, kid, claims(nil))},
		{"ES256", sign(jwt.SigningMethodES256, ecKey, kid, claims(nil))},
		{"not a JWT", "not.a.jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, env, "GET", "/api/v1/auth/me", tc.token, nil)
			wantProblem(t, tc.name, a, http.StatusUnauthorized, "unauthorized")
			if !strings.Contains(a.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("WWW-Authenticate: %q", a.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestAccessTokenExpiry: a token issued by login works within the leeway
// after its exp and is refused past it (pinned clock).
func TestAccessTokenExpiry(t *testing.T) {
	c := newClock()
	env, s := testenv.NewAdmin(t, testenv.Options{Now: c.Now}, "dev-1")
	c.Advance(auth.DefaultAccessTTL + auth.DefaultLeeway - time.Second)
	if a := send(t, env, "GET", "/api/v1/auth/me", s.AccessToken, nil); a.Status != http.StatusOK {
		t.Fatalf("within leeway: %d %s", a.Status, a.Body)
	}
	c.Advance(2 * time.Second)
	wantProblem(t, "past leeway", send(t, env, "GET", "/api/v1/auth/me", s.AccessToken, nil), http.StatusUnauthorized, "unauthorized")
}

// TestKeyRotation: with PRODAYS_JWT_KEY holding the old and a new key
// (the last signs), tokens signed with the old key still verify and new
// ones carry the new key's kid.
func TestKeyRotation(t *testing.T) {
	oldKey := testenv.TestKey
	newKey := []byte("the-new-signing-key-rotated-in-2026-03!")
	env := testenv.New(t, testenv.Options{Configure: func(s *api.Server) {
		kr, err := auth.LoadKeyring(base64.StdEncoding.EncodeToString(oldKey)+", "+base64.StdEncoding.EncodeToString(newKey), "")
		if err != nil {
			t.Fatal(err)
		}
		s.Auth.(*auth.Service).Tokens.Keys = kr
	}})
	testenv.CreateUser(t, env.DB, "a.admin", "admin", "", "")
	s := env.Login(t, "a.admin", "dev-1")
	var cl auth.Claims
	tok, _, _ := jwt.NewParser().ParseUnverified(s.AccessToken, &cl)
	if tok.Header["kid"] != auth.KeyID(newKey) {
		t.Fatalf("new tokens signed by kid %v, want the new key's %s", tok.Header["kid"], auth.KeyID(newKey))
	}
	oldRing, _ := auth.NewKeyring(oldKey)
	old := &auth.Tokens{Keys: oldRing}
	signedOld, _, err := old.Issue(prodays.Principal{Username: "a.admin", DeviceID: "dev-1", Scope: prodays.Scope{Role: prodays.RoleAdmin}, SessionID: cl.SessionID}, cl.ScopeVersion)
	if err != nil {
		t.Fatal(err)
	}
	if a := send(t, env, "GET", "/api/v1/auth/me", signedOld, nil); a.Status != http.StatusOK {
		t.Fatalf("old-key token after rotation: %d %s", a.Status, a.Body)
	}
	// Once the old key is dropped from the ring, its tokens stop.
	newRing, _ := auth.NewKeyring(newKey)
	if _, err, _ := (&auth.Tokens{Keys: newRing}).Parse(signedOld); prodays.ErrorCode(err) != prodays.EUnauthorized {
		t.Fatalf("old-key token with the old key retired: %v, want unauthorized", err)
	}
}
