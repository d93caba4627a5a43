package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"prodays"
	"prodays/store"
)

// DefaultRefreshTTL is the lifetime of a refresh token: a staff member logs
// in once, online, and works offline for days.
const DefaultRefreshTTL = 30 * 24 * time.Hour

// Service logs users in and keeps their sessions: access tokens (Tokens)
// and refresh tokens (a random 256-bit value, stored as its SHA-256, each
// usable once; a family is one login).
type Service struct {
	DB         *store.DB
	Tokens     *Tokens
	RefreshTTL time.Duration
	Logger     *slog.Logger

	// Gate bounds the password checks at once (nil: one gate of the
	// process with HashGate's defaults).
	Gate *HashGate

	// check is CheckPassword; tests replace it to prove that every login
	// path runs a password check.
	check func(encoded, pw string) bool

	// access is accessQuery prepared once on DB.Read (VerifyAccess).
	access accessStmt
}

// Session is prodays.Session.
type Session = prodays.Session

// Client is prodays.Client.
type Client = prodays.Client

func (s *Service) now() time.Time { return s.DB.Now() }

func (s *Service) refreshTTL() time.Duration {
	if s.RefreshTTL == 0 {
		return DefaultRefreshTTL
	}
	return s.RefreshTTL
}

type userRow struct {
	prodays.User
	hash         sql.NullString
	scopeVersion int64
}

func getUser(ctx context.Context, q store.Execer, username string) (*userRow, error) {
	var u userRow
	var est, reg sql.NullString
	var created string
	err := q.QueryRowContext(ctx, `SELECT username, full_name, role, establishment_code, region_code, password_hash, disabled, scope_version, created_at
		FROM users WHERE username = ?`, username).
		Scan(&u.Username, &u.FullName, &u.Role, &est, &reg, &u.hash, &u.Disabled, &u.scopeVersion, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No user %q.", username)
	} else if err != nil {
		return nil, fmt.Errorf("get user %s: %w", username, err)
	}
	u.EstablishmentCode, u.RegionCode = est.String, reg.String
	u.HasPassword = u.hash.Valid && u.hash.String != ""
	if u.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return nil, fmt.Errorf("get user %s: created_at: %w", username, err)
	}
	return &u, nil
}

func (u *userRow) principal(deviceID string) prodays.Principal {
	return prodays.Principal{Username: u.Username, DeviceID: deviceID,
		Scope: prodays.Scope{Role: u.Role, EstablishmentCode: u.EstablishmentCode, RegionCode: u.RegionCode}}
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func badCredentials() error {
	return prodays.Errorf(prodays.EInvalidCredentials, "Wrong username or password.")
}

// Login checks username and password (in the same time whether the user
// exists or not), registers the device for the user (binding it to its
// installation: sync protocol 1.1, "Device binding"), and opens a session.
// Errors: prodays.EInvalidCredentials (unknown user, wrong password, no
// password set, disabled account), prodays.EDeviceTaken (the device is
// bound to another installation: nothing of it changes),
// prodays.EDeviceRevoked, prodays.EInvalid (no device id, a device secret
// of a bad length), prodays.EUnavailable (too many logins at once:
// HashGate, with a retry_after); any other error is internal, among them a refused
// login whose audit entry could not be written.
func (s *Service) Login(ctx context.Context, username, password string, dev Device, cl Client) (*Session, error) {
	if err := validateDevice(&dev); err != nil {
		return nil, err
	}
	deviceID := dev.ID
	u, err := getUser(ctx, s.DB.Read, username)
	if err != nil && prodays.ErrorCode(err) != prodays.ENotFound {
		return nil, err
	}
	hash := DummyHash
	if u != nil && u.HasPassword {
		hash = u.hash.String
	}
	check := s.check
	if check == nil {
		check = CheckPassword
	}
	gate := s.Gate
	if gate == nil {
		gate = defaultGate
	}
	var ok bool
	if err := gate.Do(ctx, func() { ok = check(hash, password) }); err != nil {
		return nil, err
	}
	if u == nil || !u.HasPassword || !ok || u.Disabled {
		reason := "wrong_password"
		switch {
		case u == nil:
			reason = "unknown_user"
		case !u.HasPassword:
			reason = "no_password"
		case u.Disabled && ok:
			reason = "disabled"
		}
		if err := s.auditLoginFailed(ctx, username, deviceID, cl, reason); err != nil {
			return nil, err
		}
		return nil, badCredentials()
	}
	var sess *Session
	err = s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		made, err := s.registerDevice(ctx, tx, u.Username, dev, cl)
		if err != nil {
			return err
		}
		sess, err = s.openSession(ctx, tx, u, deviceID, "")
		if err != nil {
			return err
		}
		sess.DeviceSecret = made
		return store.Audit(ctx, tx, s.now(), store.AuditEntry{Username: u.Username, DeviceID: deviceID, Address: cl.Address, Action: "auth.login"})
	})
	if err != nil {
		if code := prodays.ErrorCode(err); code == prodays.EDeviceRevoked || code == prodays.EDeviceTaken {
			if aerr := s.auditLoginFailed(ctx, username, deviceID, cl, code); aerr != nil {
				return nil, aerr
			}
			if code == prodays.EDeviceTaken && s.Logger != nil {
				s.Logger.Warn("login refused: device bound to another installation", "username", username, "device", deviceID, "address", cl.Address)
			}
		}
		return nil, err
	}
	return sess, nil
}

// auditLoginFailed records a refused login (action auth.login_failed, with
// its reason) in its own transaction. Its error is the caller's: a failed
// login that cannot be recorded fails as internal rather than go unseen.
func (s *Service) auditLoginFailed(ctx context.Context, username, deviceID string, cl Client, reason string) error {
	err := s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		return store.Audit(ctx, tx, s.now(), store.AuditEntry{Username: username, DeviceID: deviceID, Address: cl.Address,
			Action: "auth.login_failed", Detail: map[string]any{"reason": reason}})
	})
	if err != nil {
		return fmt.Errorf("audit failed login of %q (%s): %w", username, reason, err)
	}
	return nil
}

// registerDevice creates or updates the device row of a login. An unknown
// device is bound to the login's installation with the secret it carries,
// or a new one that it returns as made; a known one must be proved with
// its secret (else prodays.EDeviceTaken, and nothing of it changes), a revoked one
// may not log in again (prodays.EDeviceRevoked), and one registered before
// binding existed (no secret stored) is bound at this login.
func (s *Service) registerDevice(ctx context.Context, tx *sql.Tx, username string, dev Device, cl Client) (made string, err error) {
	var revoked, secretHash sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT revoked_at, secret_hash FROM devices WHERE id = ?`, dev.ID).Scan(&revoked, &secretHash)
	now := store.FormatTime(s.now())
	switch {
	case errors.Is(err, sql.ErrNoRows):
		hash, made, err := bindSecret(dev)
		if err != nil {
			return "", err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO devices (id, username, first_seen_at, last_seen_at, user_agent, last_address, secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			dev.ID, username, now, now, truncate(cl.UserAgent, 300), cl.Address, hash)
		return made, err
	case err != nil:
		return "", err
	}
	if err := deviceRefusal(dev, secretHash, revoked); err != nil {
		return "", err
	}
	hash := secretHash.String
	if !secretHash.Valid {
		if hash, made, err = bindSecret(dev); err != nil {
			return "", err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE devices SET username = ?, last_seen_at = ?, user_agent = ?, last_address = ?, secret_hash = ? WHERE id = ?`,
		username, now, truncate(cl.UserAgent, 300), cl.Address, hash, dev.ID)
	return made, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// openSession issues an access token and a new refresh token of family
// (a new family when empty).
// The access token's session (sid) is the new refresh token's id.
func (s *Service) openSession(ctx context.Context, tx *sql.Tx, u *userRow, deviceID, family string) (*Session, error) {
	refresh, err := randomToken()
	if err != nil {
		return nil, err
	}
	id, err := randomToken()
	if err != nil {
		return nil, err
	}
	if family == "" {
		family = id
	}
	p := u.principal(deviceID)
	p.SessionID = id
	access, exp, err := s.Tokens.Issue(p, u.scopeVersion)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rexp := now.Add(s.refreshTTL())
	if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (id, family_id, username, device_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, family, u.Username, deviceID, hashToken(refresh), store.FormatTime(now), store.FormatTime(rexp)); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &Session{AccessToken: access, AccessExpiry: exp, RefreshToken: refresh, RefreshExpiry: rexp, User: &u.User}, nil
}

// Refresh spends refresh token tok and opens the next session of its
// family. A token already spent (reuse: it was stolen, or a reply was
// lost and replayed) revokes the whole family. Errors (all prodays.ERefreshInvalid
// or prodays.EUserDisabled/prodays.EDeviceRevoked): unknown, expired, spent or revoked
// token, disabled user, revoked device.
func (s *Service) Refresh(ctx context.Context, tok string, cl Client) (*Session, error) {
	if tok == "" {
		return nil, prodays.Errorf(prodays.ERefreshInvalid, "No refresh token: log in again.")
	}
	var sess *Session
	var deny error
	err := s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		var id, family, username, deviceID, expires string
		var used, revoked sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, family_id, username, device_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?`,
			hashToken(tok)).Scan(&id, &family, &username, &deviceID, &expires, &used, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			deny = prodays.Errorf(prodays.ERefreshInvalid, "Unknown refresh token: log in again.")
			return nil
		} else if err != nil {
			return err
		}
		now := s.now()
		audit := func(action string, detail map[string]any) error {
			return store.Audit(ctx, tx, now, store.AuditEntry{Username: username, DeviceID: deviceID, Address: cl.Address, Action: action, Detail: detail})
		}
		if used.Valid || revoked.Valid {
			if used.Valid && !revoked.Valid {
				// Reuse of a spent token: revoke every token of the login.
				if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, store.FormatTime(now), family); err != nil {
					return err
				}
				if err := audit("auth.refresh_reuse", map[string]any{"family": family[:8]}); err != nil {
					return err
				}
			}
			deny = prodays.Errorf(prodays.ERefreshInvalid, "This session was closed: log in again.")
			// Disabling closes the sessions; say why.
			if u, err := getUser(ctx, tx, username); err == nil && u.Disabled {
				deny = prodays.Errorf(prodays.EUserDisabled, "This account is disabled.")
			}
			return nil
		}
		exp, err := time.Parse(time.RFC3339Nano, expires)
		if err != nil {
			return fmt.Errorf("refresh token %s: expires_at: %w", id[:8], err)
		}
		if !now.Before(exp) {
			deny = prodays.Errorf(prodays.ERefreshInvalid, "The session expired: log in again.")
			return nil
		}
		u, err := getUser(ctx, tx, username)
		if err != nil {
			return err
		}
		if u.Disabled {
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, store.FormatTime(now), family); err != nil {
				return err
			}
			deny = prodays.Errorf(prodays.EUserDisabled, "This account is disabled.")
			return audit("auth.refresh_denied", map[string]any{"reason": "disabled"})
		}
		var devRevoked sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM devices WHERE id = ?`, deviceID).Scan(&devRevoked); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if devRevoked.Valid {
			deny = prodays.Errorf(prodays.EDeviceRevoked, "This device was revoked by an administrator.")
			return audit("auth.refresh_denied", map[string]any{"reason": "device_revoked"})
		}
		sess, err = s.openSession(ctx, tx, u, deviceID, family)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ?, replaced_by = (SELECT id FROM refresh_tokens WHERE token_hash = ?) WHERE id = ? AND used_at IS NULL`,
			store.FormatTime(now), hashToken(sess.RefreshToken), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("refresh token %s spent concurrently", id[:8])
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET last_seen_at = ? WHERE id = ?`, store.FormatTime(now), deviceID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if deny != nil {
		return nil, deny
	}
	return sess, nil
}

// Logout closes a session: it revokes the family of refresh token tok and
// the family of p's session (the access token presented, when valid), so
// that the access tokens of that login stop at once (VerifyAccess); the
// user's other logins go on. Nothing is revoked for an unknown token.
func (s *Service) Logout(ctx context.Context, tok string, p *prodays.Principal, cl Client) error {
	return s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		now := store.FormatTime(s.now())
		var sid string
		if p != nil {
			sid = p.SessionID
		}
		if tok != "" || sid != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND family_id IN
				(SELECT family_id FROM refresh_tokens WHERE token_hash = ? OR id = ?)`, now, hashToken(tok), sid); err != nil {
				return err
			}
		}
		e := store.AuditEntry{Address: cl.Address, Action: "auth.logout"}
		if p != nil {
			e.Username, e.DeviceID = p.Username, p.DeviceID
		}
		return store.Audit(ctx, tx, s.now(), e)
	})
}

// HashNewPassword checks password's rules (ValidatePassword: EInvalid
// naming "password") and returns its encoded hash (HashPassword).
func (s *Service) HashNewPassword(password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	return HashPassword(password)
}
