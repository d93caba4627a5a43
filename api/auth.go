package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"prodays"
)

// RefreshCookie is the name of the refresh-token cookie. It is HttpOnly
// (page scripts never see it), SameSite=Strict and scoped to the auth
// routes, so it is sent only to refresh and logout.
const RefreshCookie = "prodays_refresh"

const refreshCookiePath = "/api/v1/auth"

// maxLoginUsername is the longest username a login may name, in bytes.
const maxLoginUsername = 128

// loginRequest is the body of POST /api/v1/auth/login. TokenDelivery
// "body" returns the refresh token in the JSON answer too, for clients
// that are not browsers (the simulator, a native app); browsers keep it in
// the cookie only. DeviceSecret proves that DeviceID belongs to the
// caller's installation (sync protocol 1.1, "Device binding"; empty at an
// installation's first login).
type loginRequest struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	DeviceID      string `json:"device_id"`
	DeviceSecret  string `json:"device_secret,omitempty"`
	TokenDelivery string `json:"token_delivery,omitempty"`
}

// sessionResponse is the answer of login and refresh. DeviceSecret is set
// only by a login that bound its device with a secret the server made: the
// phone keeps it beside its device_id and sends it at every later login.
type sessionResponse struct {
	AccessToken      string        `json:"access_token"`
	TokenType        string        `json:"token_type"`
	ExpiresIn        int           `json:"expires_in"`
	RefreshToken     string        `json:"refresh_token,omitempty"`
	RefreshExpiresIn int           `json:"refresh_expires_in"`
	User             *prodays.User `json:"user"`
	DeviceSecret     string        `json:"device_secret,omitempty"`
}

func client(c echo.Context) prodays.Client {
	return prodays.Client{Address: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

func (s *Server) writeSession(c echo.Context, sess *prodays.Session, inBody bool) error {
	now := s.Now()
	c.SetCookie(&http.Cookie{
		Name:     RefreshCookie,
		Value:    sess.RefreshToken,
		Path:     refreshCookiePath,
		Expires:  sess.RefreshExpiry,
		MaxAge:   int(sess.RefreshExpiry.Sub(now).Seconds()),
		HttpOnly: true,
		Secure:   !s.InsecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
	c.Response().Header().Set("Cache-Control", "no-store")
	r := sessionResponse{
		AccessToken:      sess.AccessToken,
		TokenType:        "Bearer",
		ExpiresIn:        int(sess.AccessExpiry.Sub(now).Round(time.Second).Seconds()),
		RefreshExpiresIn: int(sess.RefreshExpiry.Sub(now).Round(time.Second).Seconds()),
		User:             sess.User,
		DeviceSecret:     sess.DeviceSecret,
	}
	if inBody {
		r.RefreshToken = sess.RefreshToken
	}
	return c.JSON(http.StatusOK, r)
}

// login: POST /api/v1/auth/login {username, password, device_id,
// device_secret}. Failed logins are counted per username and per address;
// past the limits the answer is 429 too_many_requests with Retry-After
// (docs/security.md). A device id bound to another installation is 403
// device_taken (not counted: the password was right).
func (s *Server) login(c echo.Context) error {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	req.Username = strings.TrimSpace(req.Username)
	if req.Username == "" || req.Password == "" {
		return prodays.Errorf(prodays.EInvalid, "username and password are required.")
	}
	if len(req.Username) > maxLoginUsername {
		// Also bounds the memory of the login limiter's keys.
		return prodays.Errorf(prodays.EInvalid, "username: at most %d bytes.", maxLoginUsername)
	}
	cl := client(c)
	if err := s.LoginLimiter.Allow(req.Username, cl.Address); err != nil {
		s.Logger.Warn("login throttled", "username", req.Username, "address", cl.Address)
		return err
	}
	sess, err := s.Auth.Login(c.Request().Context(), req.Username, req.Password, prodays.DeviceLogin{ID: req.DeviceID, Secret: req.DeviceSecret}, cl)
	if err != nil {
		if prodays.ErrorCode(err) == prodays.EInvalidCredentials {
			s.LoginLimiter.Failure(req.Username, cl.Address)
		}
		return err
	}
	s.LoginLimiter.Success(req.Username)
	return s.writeSession(c, sess, req.TokenDelivery == "body")
}

// refreshRequest is the body of POST /api/v1/auth/refresh; the token comes
// from the cookie, or from RefreshToken for non-browser clients.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token,omitempty"`
	DeviceID     string `json:"device_id,omitempty"`
}

func refreshToken(c echo.Context, req refreshRequest) (tok string, fromBody bool) {
	if req.RefreshToken != "" {
		return req.RefreshToken, true
	}
	if ck, err := c.Cookie(RefreshCookie); err == nil {
		return ck.Value, false
	}
	return "", false
}

// refresh: POST /api/v1/auth/refresh.
func (s *Server) refresh(c echo.Context) error {
	var req refreshRequest
	if err := optionalBody(c, &req); err != nil {
		return err
	}
	tok, fromBody := refreshToken(c, req)
	sess, err := s.Auth.Refresh(c.Request().Context(), tok, client(c))
	if err != nil {
		s.clearRefreshCookie(c)
		return err
	}
	return s.writeSession(c, sess, fromBody)
}

func (s *Server) clearRefreshCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: RefreshCookie, Value: "", Path: refreshCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: !s.InsecureCookies, SameSite: http.SameSiteStrictMode})
}

// logout: POST /api/v1/auth/logout revokes the session's refresh tokens
// (the one in the body or cookie) and is audited as auth.logout. Always
// 204 and the refresh cookie cleared; a request with neither a refresh
// token nor a valid access token changes nothing and writes no audit entry
// (anonymous noise must not fill the audit log).
func (s *Server) logout(c echo.Context) error {
	var req refreshRequest
	if err := optionalBody(c, &req); err != nil {
		return err
	}
	tok, _ := refreshToken(c, req)
	var p *prodays.Principal
	if h := c.Request().Header.Get("Authorization"); h != "" {
		p, _ = s.Auth.VerifyAccess(c.Request().Context(), strings.TrimPrefix(h, "Bearer "))
	}
	if tok == "" && p == nil {
		s.clearRefreshCookie(c)
		return c.NoContent(http.StatusNoContent)
	}
	if err := s.Auth.Logout(c.Request().Context(), tok, p, client(c)); err != nil {
		return err
	}
	s.clearRefreshCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// me: GET /api/v1/auth/me returns the caller.
func (s *Server) me(c echo.Context) error {
	return c.JSON(http.StatusOK, principal(c))
}

// requireAuth is the middleware of every authenticated route: it verifies
// the bearer access token (401 problem+json otherwise), sets the caller,
// and puts it in the request's context as the prodays.Actor of audit entries.
func (s *Server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="prodays"`)
			return prodays.Errorf(prodays.EUnauthorized, "Authentication required: send Authorization: Bearer <access_token>.")
		}
		p, err := s.Auth.VerifyAccess(c.Request().Context(), strings.TrimSpace(tok))
		if err != nil {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="prodays", error="invalid_token"`)
			return err
		}
		c.Set(principalKey, p)
		// Audit entries written for this request name the device and address.
		r := c.Request()
		c.SetRequest(r.WithContext(prodays.WithActor(r.Context(), prodays.Actor{Username: p.Username, DeviceID: p.DeviceID, Address: c.RealIP()})))
		return next(c)
	}
}

// requireRole lets through only callers with one of roles (after
// requireAuth); others get 403.
func requireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principal(c)
			if p == nil {
				return prodays.Errorf(prodays.EUnauthorized, "Authentication required.")
			}
			for _, r := range roles {
				if p.Role == r {
					return next(c)
				}
			}
			return prodays.Errorf(prodays.EForbidden, "Your role (%s) may not do this.", p.Role)
		}
	}
}
