package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"prodays"
)

// Defaults of a Tokens issuer.
const (
	DefaultIssuer    = "prodays"
	DefaultAudience  = "prodays-api"
	DefaultAccessTTL = 15 * time.Minute
	DefaultLeeway    = 30 * time.Second
)

// Claims are the claims of an access token: the registered ones (iss, aud,
// exp, nbf, iat, sub = username, jti), the caller's scope and device, the
// user's scope version when it was issued (sv) and its session (sid: the
// id of the refresh token issued with it, never the refresh token itself).
// Service.VerifyAccess compares sv and sid with the database on every
// request.
type Claims struct {
	jwt.RegisteredClaims
	Role              string `json:"role"`
	EstablishmentCode string `json:"est,omitempty"`
	RegionCode        string `json:"reg,omitempty"`
	DeviceID          string `json:"did"`
	ScopeVersion      int64  `json:"sv"`
	SessionID         string `json:"sid,omitempty"`
}

// Tokens issues and parses access tokens. The algorithm is HS256, chosen
// here and never taken from a token (RFC 8725 §3.1); iss, aud, exp, nbf and
// iat are required and checked with a small leeway.
type Tokens struct {
	Keys      *Keyring
	Issuer    string
	Audience  string
	AccessTTL time.Duration
	Leeway    time.Duration
	Now       func() time.Time
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tokens) defaults() {
	if t.Issuer == "" {
		t.Issuer = DefaultIssuer
	}
	if t.Audience == "" {
		t.Audience = DefaultAudience
	}
	if t.AccessTTL == 0 {
		t.AccessTTL = DefaultAccessTTL
	}
	if t.Leeway == 0 {
		t.Leeway = DefaultLeeway
	}
}

// Issue signs an access token for p (scope version sv, session
// p.SessionID) and returns it with its expiry.
func (t *Tokens) Issue(p prodays.Principal, sv int64) (string, time.Time, error) {
	t.defaults()
	now := t.now()
	exp := now.Add(t.AccessTTL)
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", time.Time{}, err
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.Issuer,
			Subject:   p.Username,
			Audience:  jwt.ClaimStrings{t.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        hex.EncodeToString(jti),
		},
		Role:              p.Role,
		EstablishmentCode: p.EstablishmentCode,
		RegionCode:        p.RegionCode,
		DeviceID:          p.DeviceID,
		ScopeVersion:      sv,
		SessionID:         p.SessionID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = t.Keys.SigningKeyID()
	key, _ := t.Keys.key(t.Keys.SigningKeyID())
	s, err := tok.SignedString(key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// errBadToken is what every parse failure becomes: the caller learns only
// that the token is not valid (the reason goes to the log).
func errBadToken(reason error) error {
	return &prodays.Error{Code: prodays.EUnauthorized, Message: "Invalid or expired access token.", Detail: nil}
}

// Parse verifies raw and returns its claims. Any failure (alg other than
// HS256, including "none"; unknown or missing kid; bad signature; wrong iss
// or aud; expired; not yet valid; missing iat, sub, jti or did) is an
// *prodays.Error with code EUnauthorized; the underlying reason is returned
// as the second value for logging.
func (t *Tokens) Parse(raw string) (*Claims, error, error) {
	t.defaults()
	var c Claims
	_, err := jwt.ParseWithClaims(raw, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := t.Keys.key(kid)
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return k, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.Issuer),
		jwt.WithAudience(t.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(t.Leeway),
		jwt.WithTimeFunc(t.now),
	)
	if err == nil {
		switch {
		case c.NotBefore == nil || c.IssuedAt == nil:
			err = errors.New("nbf or iat missing")
		case c.Subject == "" || c.ID == "" || c.DeviceID == "" || c.Role == "":
			err = errors.New("sub, jti, did or role missing")
		}
	}
	if err != nil {
		return nil, errBadToken(err), err
	}
	return &c, nil, nil
}

// Principal returns the caller described by c.
func (c *Claims) Principal() *prodays.Principal {
	return &prodays.Principal{
		Username:  c.Subject,
		Scope:     prodays.Scope{Role: c.Role, EstablishmentCode: c.EstablishmentCode, RegionCode: c.RegionCode},
		DeviceID:  c.DeviceID,
		TokenID:   c.ID,
		SessionID: c.SessionID,
	}
}
