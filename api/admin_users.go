package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"prodays"
)

// listUsersHandler: GET /api/v1/admin/users?role=&region=&q= answers
// {"users": [user…]} ordered by username; q is a case-insensitive
// substring of the username or full name.
func (s *Server) listUsersHandler(c echo.Context) error {
	role, region, q := c.QueryParam("role"), c.QueryParam("region"), strings.ToLower(strings.TrimSpace(c.QueryParam("q")))
	if role != "" {
		if err := prodays.CheckRole("role", role); err != nil {
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
// its scope_version (store.Account).
func (s *Server) getUserHandler(c echo.Context) error {
	u, err := s.DB.GetAccount(c.Request().Context(), c.Param("username"))
	return answer(c, http.StatusOK, u, err)
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

// createUser: POST /api/v1/admin/users answers 201 with the user
// (store.CreateUser, audited as user.create); 400 invalid naming the
// field, 409 conflict when the username is taken.
func (s *Server) createUser(c echo.Context, req createUserRequest) (*prodays.User, error) {
	// The username first, so that a bad one is reported before the
	// password's rules (the store checks it again).
	if _, err := prodays.CheckUsername("username", req.Username); err != nil {
		return nil, err
	}
	var hash string
	if req.Password != "" {
		var err error
		if hash, err = s.Auth.HashNewPassword(req.Password); err != nil {
			return nil, err
		}
	}
	u := prodays.User{Username: req.Username, FullName: req.FullName, Role: req.Role,
		EstablishmentCode: req.EstablishmentCode, RegionCode: req.RegionCode}
	return s.DB.CreateUser(c.Request().Context(), u, hash, principal(c).Username)
}

// updateUserRequest is the body of PATCH /api/v1/admin/users/:username;
// absent fields keep their value (prodays.UserChange).
type updateUserRequest struct {
	FullName          *string `json:"full_name"`
	Role              *string `json:"role"`
	EstablishmentCode *string `json:"establishment_code"`
	RegionCode        *string `json:"region_code"`
	Disabled          *bool   `json:"disabled"`
}

// updateUser: PATCH /api/v1/admin/users/:username answers the user
// (store.UpdateUser). A change of role or scope bumps scope_version: the
// user's access tokens stop at the next request (401: the app refreshes
// its session and gets the new scope) and the pull cursor asks for a
// resync (409). Disabling closes every session of the user (its tokens
// answer 401 user_disabled). The last enabled admin cannot be disabled or
// demoted (409 conflict).
func (s *Server) updateUser(c echo.Context, req updateUserRequest) (*prodays.Account, error) {
	return s.DB.UpdateUser(c.Request().Context(), c.Param("username"), prodays.UserChange(req))
}

// passwordRequest is the body of PUT /api/v1/admin/users/:username/password.
type passwordRequest struct {
	Password string `json:"password"`
}

// setPassword: PUT /api/v1/admin/users/:username/password sets the
// password (auth.MinPasswordLength to auth.MaxPasswordLength characters)
// and revokes the user's refresh tokens, so every device logs in again
// (store.SetPassword, audited as user.password). Answers 204.
func (s *Server) setPassword(c echo.Context, req passwordRequest) error {
	hash, err := s.Auth.HashNewPassword(req.Password)
	if err != nil {
		return err
	}
	return s.DB.SetPassword(c.Request().Context(), c.Param("username"), hash, principal(c).Username)
}
