package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"prodays"
	"prodays/store"
)

// accessStmt is accessQuery prepared once: parsing and planning the
// statement cost more CPU than running it (docs/performance.md).
// database/sql prepares it again on each connection of the pool that
// runs it, once. A failed prepare is tried again at the next request.
type accessStmt struct {
	stmt atomic.Pointer[sql.Stmt]
	mu   sync.Mutex
}

func (a *accessStmt) get(db *sql.DB) (*sql.Stmt, error) {
	if st := a.stmt.Load(); st != nil {
		return st, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.stmt.Load(); st != nil {
		return st, nil
	}
	// Not the request's context: the statement outlives the request.
	st, err := db.PrepareContext(context.Background(), accessQuery)
	if err != nil {
		return nil, fmt.Errorf("prepare the access check: %w", err)
	}
	a.stmt.Store(st)
	return st, nil
}

// accessQuery reads, in one statement of three primary-key lookups, what
// an access token's claims are checked against: the device (known, of
// that user, not revoked), the user (enabled, role, scope and scope
// version) and the token's session (its refresh token row, not revoked).
// Every revocation (logout, reuse of a spent refresh token, device
// revocation, disabling, a new password) revokes all the rows of what it
// closes, the spent ones included, so the row the access token was issued
// with answers for its login.
const accessQuery = `SELECT d.revoked_at IS NOT NULL, u.disabled, u.role, coalesce(u.establishment_code, ''), coalesce(u.region_code, ''),
	u.scope_version, r.id IS NOT NULL AND r.revoked_at IS NULL
	FROM devices d JOIN users u ON u.username = d.username
	LEFT JOIN refresh_tokens r ON r.id = ? AND r.username = d.username AND r.device_id = d.id
	WHERE d.id = ? AND d.username = ?`

// VerifyAccess checks an access token (Tokens.Parse), then, with one read
// of the database (accessQuery, about as cheap as the device lookup it
// replaces: see docs/performance.md), that it still speaks for its account,
// so that every change takes effect on the next request instead of when
// the token expires (issue #13). Errors, all 401:
//   - EUnauthorized: invalid token; unknown device (log in again); a
//     closed session (logout, reuse of a spent refresh token, new
//     password), or a token that names none (issued before sessions were
//     named); a role,
//     scope or scope version other than the account's (refresh: the new
//     token carries the new scope, and the pull cursor then asks for a
//     resync).
//   - prodays.EDeviceRevoked: the device was revoked.
//   - prodays.EUserDisabled: the account is disabled.
//
// The read goes to the database, not to a cache of this process, because
// other processes change accounts too (`prodays user disable`, `prodays
// import` of a roster). It implements api.Authenticator.
func (s *Service) VerifyAccess(ctx context.Context, raw string) (*prodays.Principal, error) {
	c, err, why := s.Tokens.Parse(raw)
	if err != nil {
		if s.Logger != nil {
			s.Logger.Debug("access token refused", "reason", why)
		}
		return nil, err
	}
	stmt, err := s.access.get(s.DB.Read)
	if err != nil {
		return nil, err
	}
	var devRevoked, disabled, live bool
	var role, est, region string
	var sv int64
	err = stmt.QueryRowContext(ctx, c.SessionID, c.DeviceID, c.Subject).
		Scan(&devRevoked, &disabled, &role, &est, &region, &sv, &live)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, prodays.Errorf(prodays.EUnauthorized, "Unknown device: log in again.")
	case err != nil:
		return nil, err
	case devRevoked:
		return nil, prodays.Errorf(prodays.EDeviceRevoked, "This device was revoked by an administrator.")
	case disabled:
		return nil, prodays.Errorf(prodays.EUserDisabled, "This account is disabled.")
	case c.SessionID == "" || !live:
		return nil, prodays.Errorf(prodays.EUnauthorized, "This session was closed: log in again.")
	case sv != c.ScopeVersion || role != c.Role || est != c.EstablishmentCode || region != c.RegionCode:
		return nil, prodays.Errorf(prodays.EUnauthorized, "Your role or scope changed: refresh the session.")
	}
	return c.Principal(), nil
}

// ScopeVersion returns the user's current scope version (for resync).
func ScopeVersion(ctx context.Context, q store.Execer, username string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT scope_version FROM users WHERE username = ?`, username).Scan(&v)
	return v, err
}
