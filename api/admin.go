package api

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/auth"
	"prodays/store"
)

// The admin API: accounts, devices, the audit log and editions. Every
// route is behind requireAuth and requireRole(admin) (see routes), and every
// change is written to the audit log in the transaction that makes it, with
// the admin's username, device and address.

// Text rules of the admin API's own fields (prodays.CheckText); a user's
// full_name is a prodays.TextName, as in users.csv.
var (
	editionNameRule = prodays.TextRule{Max: 100}
	themeRule       = prodays.TextRule{Max: 300}
)

// maxEditionDays is the longest edition, start and end included.
const maxEditionDays = 31

// audit appends an entry for the caller's action on target inside tx.
func (s *Server) audit(c echo.Context, tx *sql.Tx, action, target string, detail map[string]any) error {
	p := principal(c)
	e := store.AuditEntry{Address: c.RealIP(), Action: action, Target: target, Detail: detail}
	if p != nil {
		e.Username, e.DeviceID = p.Username, p.DeviceID
	}
	return store.Audit(c.Request().Context(), tx, s.Now(), e)
}

// text checks a free-text field under rule (prodays.CheckText) and returns
// it cleaned; a required field must not be empty. Errors: invalid, naming
// the field.
func text(field, v string, required bool, rule prodays.TextRule) (string, error) {
	v, err := prodays.CheckText(field, v, rule)
	if err == nil && required && v == "" {
		return "", prodays.Errorf(prodays.EInvalid, "%s: required.", field)
	}
	return v, err
}

func validRole(field, role string) error {
	switch role {
	case prodays.RoleStaff, prodays.RoleSupervisor, prodays.RoleAdmin:
		return nil
	}
	return prodays.Errorf(prodays.EInvalid, "%s: one of staff, supervisor, admin.", field)
}

// resolveScope checks that est and region fit role and returns them
// completed: staff need an establishment (the region is the
// establishment's), supervisors a region and no establishment, admins
// neither.
func (s *Server) resolveScope(c echo.Context, q store.Execer, role, est, region string) (string, string, error) {
	ctx := c.Request().Context()
	if err := validRole("role", role); err != nil {
		return "", "", err
	}
	switch role {
	case prodays.RoleStaff:
		if est == "" {
			return "", "", prodays.Errorf(prodays.EInvalid, "establishment_code: required for staff.")
		}
		r, err := establishmentRegion(ctx, q, "establishment_code", est)
		if err != nil {
			return "", "", err
		}
		if region != "" && region != r {
			return "", "", prodays.Errorf(prodays.EInvalid, "region_code: establishment %s is in region %s, not %s.", est, r, region)
		}
		return est, r, nil
	case prodays.RoleSupervisor:
		if est != "" {
			return "", "", prodays.Errorf(prodays.EInvalid, "establishment_code: only staff have one.")
		}
		if region == "" {
			return "", "", prodays.Errorf(prodays.EInvalid, "region_code: required for a supervisor.")
		}
		return "", region, regionExists(ctx, q, "region_code", region)
	default:
		if est != "" || region != "" {
			return "", "", prodays.Errorf(prodays.EInvalid, "establishment_code: an admin has no establishment or region.")
		}
		return "", "", nil
	}
}

// listUsersHandler: GET /api/v1/admin/users?role=&region=&q= answers
// {"users": [user…]} ordered by username; q is a case-insensitive
// substring of the username or full name.
func (s *Server) listUsersHandler(c echo.Context) error {
	role, region, q := c.QueryParam("role"), c.QueryParam("region"), strings.ToLower(strings.TrimSpace(c.QueryParam("q")))
	if role != "" {
		if err := validRole("role", role); err != nil {
			return err
		}
	}
	all, err := s.DB.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	users := []*prodays.User{}
	for _, u := range all {
		if (role == "" || u.Role == role) && (region == "" || u.RegionCode == region) &&
			(q == "" || strings.Contains(strings.ToLower(u.Username), q) || strings.Contains(strings.ToLower(u.FullName), q)) {
			users = append(users, u)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"users": users})
}

// getUserHandler: GET /api/v1/admin/users/:username answers the user with
// its scope_version.
func (s *Server) getUserHandler(c echo.Context) error {
	u, err := getUser(c.Request().Context(), s.DB.Read, c.Param("username"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// createUserRequest is the body of POST /api/v1/admin/users. Password is
// optional: without it the account cannot log in until one is set.
type createUserRequest struct {
	Username          string `json:"username"`
	FullName          string `json:"full_name"`
	Role              string `json:"role"`
	EstablishmentCode string `json:"establishment_code"`
	RegionCode        string `json:"region_code"`
	Password          string `json:"password"`
}

// createUserHandler: POST /api/v1/admin/users answers 201 with the user
// (store.CreateUser, audited as user.create); 400 invalid naming the
// field, 409 conflict when the username is taken.
func (s *Server) createUserHandler(c echo.Context) error {
	var req createUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var err error
	if req.Username, err = prodays.CheckUsername("username", req.Username); err != nil {
		return err
	}
	name, err := text("full_name", req.FullName, false, prodays.TextName)
	if err != nil {
		return err
	}
	var hash string
	if req.Password != "" {
		if err := auth.ValidatePassword(req.Password); err != nil {
			return err
		}
		if hash, err = auth.HashPassword(req.Password); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	// Checked here to name the field; store.CreateUser checks again in its
	// transaction.
	est, region, err := s.resolveScope(c, s.DB.Read, req.Role, strings.TrimSpace(req.EstablishmentCode), strings.TrimSpace(req.RegionCode))
	if err != nil {
		return err
	}
	u := prodays.User{Username: req.Username, FullName: name, Role: req.Role, EstablishmentCode: est}
	if req.Role == prodays.RoleSupervisor {
		u.RegionCode = region
	}
	created, err := s.DB.CreateUser(ctx, u, hash, principal(c).Username)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, created)
}

// updateUserRequest is the body of PATCH /api/v1/admin/users/:username;
// absent fields keep their value. Changing the role to supervisor or admin
// drops the establishment, to admin the region too, unless given.
type updateUserRequest struct {
	FullName          *string `json:"full_name"`
	Role              *string `json:"role"`
	EstablishmentCode *string `json:"establishment_code"`
	RegionCode        *string `json:"region_code"`
	Disabled          *bool   `json:"disabled"`
}

// updateUserHandler: PATCH /api/v1/admin/users/:username answers the user.
// A change of role or scope bumps scope_version: the user's access tokens
// stop at the next request (401: the app refreshes its session and gets
// the new scope) and the pull cursor asks for a resync (409). Disabling
// closes every session of the user (its tokens answer 401 user_disabled).
// The last enabled admin cannot be disabled or demoted (409 conflict).
func (s *Server) updateUserHandler(c echo.Context) error {
	var req updateUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var out *adminUser
	err := s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		u, err := getUser(ctx, tx, c.Param("username"))
		if err != nil {
			return err
		}
		old := *u
		changes := map[string]any{}
		if req.FullName != nil {
			if u.FullName, err = text("full_name", *req.FullName, false, prodays.TextName); err != nil {
				return err
			}
		}
		if req.Role != nil {
			if err := validRole("role", *req.Role); err != nil {
				return err
			}
			u.Role = *req.Role
			if u.Role != old.Role {
				if u.Role != prodays.RoleStaff && req.EstablishmentCode == nil {
					u.EstablishmentCode = ""
				}
				if u.Role == prodays.RoleAdmin && req.RegionCode == nil {
					u.RegionCode = ""
				}
			}
		}
		if req.EstablishmentCode != nil {
			u.EstablishmentCode = strings.TrimSpace(*req.EstablishmentCode)
		}
		if req.RegionCode != nil {
			u.RegionCode = strings.TrimSpace(*req.RegionCode)
		} else if u.Role == prodays.RoleStaff {
			u.RegionCode = "" // the establishment's region
		}
		if u.EstablishmentCode, u.RegionCode, err = s.resolveScope(c, tx, u.Role, u.EstablishmentCode, u.RegionCode); err != nil {
			return err
		}
		if req.Disabled != nil {
			u.Disabled = *req.Disabled
		}
		for field, pair := range map[string][2]any{
			"full_name": {old.FullName, u.FullName}, "role": {old.Role, u.Role},
			"establishment_code": {old.EstablishmentCode, u.EstablishmentCode},
			"region_code":        {old.RegionCode, u.RegionCode}, "disabled": {old.Disabled, u.Disabled},
		} {
			if pair[0] != pair[1] {
				changes[field] = map[string]any{"from": pair[0], "to": pair[1]}
			}
		}
		if len(changes) == 0 {
			out = u
			return nil
		}
		if old.Role == prodays.RoleAdmin && !old.Disabled && (u.Role != prodays.RoleAdmin || u.Disabled) {
			n, err := activeAdmins(ctx, tx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return prodays.Errorf(prodays.EConflict, "role: %s is the last enabled admin; make another admin first.", u.Username)
			}
		}
		bump := u.Role != old.Role || u.EstablishmentCode != old.EstablishmentCode || u.RegionCode != old.RegionCode
		if err := updateUser(ctx, tx, s.Now(), u, bump); err != nil {
			return err
		}
		detail := map[string]any{"changes": changes}
		if u.Disabled && !old.Disabled {
			// Its sessions close: enabling it again later does not revive them.
			n, err := store.RevokeUserSessions(ctx, tx, s.Now(), u.Username)
			if err != nil {
				return err
			}
			detail["revoked_refresh_tokens"] = n
		}
		if out, err = getUser(ctx, tx, u.Username); err != nil {
			return err
		}
		detail["scope_version"] = out.ScopeVersion
		return s.audit(c, tx, "user.update", u.Username, detail)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// passwordRequest is the body of PUT /api/v1/admin/users/:username/password.
type passwordRequest struct {
	Password string `json:"password"`
}

// setPasswordHandler: PUT /api/v1/admin/users/:username/password sets the
// password (auth.MinPasswordLength to auth.MaxPasswordLength characters)
// and revokes the user's refresh tokens, so every device logs in again
// (store.SetPassword, audited as user.password). Answers 204.
func (s *Server) setPasswordHandler(c echo.Context) error {
	var req passwordRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := auth.ValidatePassword(req.Password); err != nil {
		return err
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		return err
	}
	if err := s.DB.SetPassword(c.Request().Context(), c.Param("username"), hash, principal(c).Username); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listDevicesHandler: GET /api/v1/admin/users/:username/devices answers
// {"devices": [device…]}, most recently seen first; 404 for an unknown user.
func (s *Server) listDevicesHandler(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := getUser(ctx, s.DB.Read, c.Param("username"))
	if err != nil {
		return err
	}
	devices, err := listDevices(ctx, s.DB.Read, u.Username)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"devices": devices})
}

// revokeDeviceHandler: POST /api/v1/admin/devices/:id/revoke revokes the
// device (its access tokens stop at once, it may not log in again) and its
// refresh tokens. Answers the device; revoking twice keeps the first time.
func (s *Server) revokeDeviceHandler(c echo.Context) error {
	ctx := c.Request().Context()
	var d *device
	err := s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		var n int64
		var err error
		if d, n, err = revokeDevice(ctx, tx, s.Now(), c.Param("id"), principal(c).Username); err != nil {
			return err
		}
		return s.audit(c, tx, "device.revoke", d.ID, map[string]any{"username": d.Username, "revoked_refresh_tokens": n})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// parseTimeParam reads an RFC 3339 time or a YYYY-MM-DD date (midnight
// UTC) from query parameter name; zero when absent.
func parseTimeParam(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, prodays.Errorf(prodays.EInvalid, "%s: an RFC 3339 time or a YYYY-MM-DD date.", name)
}

// intParam reads a positive integer query parameter (def when absent).
func intParam(c echo.Context, name string, def, maxValue int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > maxValue {
		return 0, prodays.Errorf(prodays.EInvalid, "%s: a whole number from 1 to %d.", name, maxValue)
	}
	return n, nil
}

// auditHandler: GET /api/v1/admin/audit?username=&action=&from=&to=&before_id=&limit=
// answers {"entries": [entry…], "next_before_id": id} newest first; action
// is exact or a prefix ending in "." ("auth."); from is inclusive, to
// exclusive; limit 1..1000 (default 100). next_before_id is set when a
// next page may exist.
func (s *Server) auditHandler(c echo.Context) error {
	f := store.AuditFilter{Username: c.QueryParam("username"), Action: c.QueryParam("action")}
	var err error
	if f.From, err = parseTimeParam(c, "from"); err != nil {
		return err
	}
	if f.To, err = parseTimeParam(c, "to"); err != nil {
		return err
	}
	if f.BeforeID, err = intParam(c, "before_id", 0, 1<<62); err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 100, 1000)
	if err != nil {
		return err
	}
	f.Limit = int(limit)
	entries, err := s.DB.ListAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	body := map[string]any{"entries": entries}
	if len(entries) == f.Limit {
		body["next_before_id"] = entries[len(entries)-1].ID
	}
	return c.JSON(http.StatusOK, body)
}

// listEditionsHandler: GET /api/v1/admin/editions answers
// {"editions": [edition…]}, latest first.
func (s *Server) listEditionsHandler(c echo.Context) error {
	eds, err := listEditions(c.Request().Context(), s.DB.Read)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"editions": eds})
}

// editionRequest is the body of POST and PATCH /api/v1/admin/editions;
// PATCH keeps absent fields.
type editionRequest struct {
	Name      *string `json:"name"`
	Theme     *string `json:"theme"`
	StartDate *string `json:"start_date"`
	EndDate   *string `json:"end_date"`
}

// apply validates req over e (name required, dates YYYY-MM-DD, end not
// before start, at most maxEditionDays days).
func (req editionRequest) apply(e *prodays.Edition) error {
	var err error
	if req.Name != nil {
		e.Name = *req.Name
	}
	if e.Name, err = text("name", e.Name, true, editionNameRule); err != nil {
		return err
	}
	if req.Theme != nil {
		e.Theme = *req.Theme
	}
	if e.Theme, err = text("theme", e.Theme, false, themeRule); err != nil {
		return err
	}
	if req.StartDate != nil {
		e.StartDate = strings.TrimSpace(*req.StartDate)
	}
	if req.EndDate != nil {
		e.EndDate = strings.TrimSpace(*req.EndDate)
	}
	start, err := time.Parse(time.DateOnly, e.StartDate)
	if err != nil {
		return prodays.Errorf(prodays.EInvalid, "start_date: a date YYYY-MM-DD.")
	}
	end, err := time.Parse(time.DateOnly, e.EndDate)
	if err != nil {
		return prodays.Errorf(prodays.EInvalid, "end_date: a date YYYY-MM-DD.")
	}
	if end.Before(start) {
		return prodays.Errorf(prodays.EInvalid, "end_date: before start_date.")
	}
	if end.Sub(start) >= maxEditionDays*24*time.Hour {
		return prodays.Errorf(prodays.EInvalid, "end_date: an edition lasts at most %d days.", maxEditionDays)
	}
	return nil
}

// createEditionHandler: POST /api/v1/admin/editions answers 201 with the
// edition; 409 conflict when the name is taken.
func (s *Server) createEditionHandler(c echo.Context) error {
	var req editionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var e prodays.Edition
	if err := req.apply(&e); err != nil {
		return err
	}
	ctx := c.Request().Context()
	err := s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		if err := insertEdition(ctx, tx, s.Now(), &e); err != nil {
			return err
		}
		return s.audit(c, tx, "edition.create", strconv.FormatInt(e.ID, 10), map[string]any{"name": e.Name,
			"start_date": e.StartDate, "end_date": e.EndDate})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

// updateEditionHandler: PATCH /api/v1/admin/editions/:id answers the
// edition; 404 for an unknown id.
func (s *Server) updateEditionHandler(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return prodays.Errorf(prodays.ENotFound, "No edition %q.", c.Param("id"))
	}
	var req editionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var e *prodays.Edition
	err = s.DB.WithTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = getEdition(ctx, tx, id); err != nil {
			return err
		}
		old := *e
		if err := req.apply(e); err != nil {
			return err
		}
		if err := updateEdition(ctx, tx, e); err != nil {
			return err
		}
		return s.audit(c, tx, "edition.update", strconv.FormatInt(id, 10), map[string]any{"from": old, "to": *e})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}
