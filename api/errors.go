package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"prodays"
)

// ProblemContentType is the media type of every error body (RFC 9457 §3).
const ProblemContentType = "application/problem+json"

// echoProblems gives the code and message of an *echo.HTTPError (routing,
// binding, middleware) by its status. Another 4xx is EInvalid with the
// status text; anything else is internal.
var echoProblems = map[int]struct{ code, msg string }{
	http.StatusNotFound:              {prodays.ENotFound, "No such resource."},
	http.StatusMethodNotAllowed:      {prodays.EMethodNotAllowed, "Method not allowed on this resource."},
	http.StatusRequestEntityTooLarge: {prodays.ETooLarge, "Request body too large."},
	http.StatusUnsupportedMediaType:  {prodays.EUnsupported, "Unsupported content type."},
	http.StatusUnauthorized:          {prodays.EUnauthorized, "Authentication required."},
	http.StatusForbidden:             {prodays.EForbidden, "Forbidden."},
	http.StatusTooManyRequests:       {prodays.ETooManyRequest, "Too many requests."},
	http.StatusServiceUnavailable:    {prodays.EUnavailable, "Service unavailable."},
}

// handleError is the one place that writes errors. An *prodays.Error is
// shown with its code, the registry's HTTP status for it (prodays.Codes)
// and its message; an *echo.HTTPError (routing, binding) is mapped to a
// code; anything else, and an *prodays.Error whose code is not a
// registered problem code (a bug), is logged with its cause and shown as a
// plain internal error (500). A Detail "retry_after" (seconds) of a 429 or
// 503 also becomes the Retry-After header.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := prodays.ErrorCode(err), prodays.ErrorMessage(err)
	var extra map[string]any
	var pe *prodays.Error
	if errors.As(err, &pe) {
		extra = pe.Detail
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) && pe == nil { // a handler read past the body cap (capBodies)
		code, msg, extra = prodays.ETooLarge, fmt.Sprintf("The body is over %d bytes.", mbe.Limit), map[string]any{"max_bytes": mbe.Limit}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && pe == nil {
		if p, ok := echoProblems[he.Code]; ok {
			code, msg = p.code, p.msg
		} else if he.Code >= 400 && he.Code < 500 {
			code, msg = prodays.EInvalid, http.StatusText(he.Code)
		}
	}
	info, ok := prodays.LookupCode(code)
	switch {
	case !ok || info.Status == 0:
		// A bug: an *prodays.Error carries a registered problem code.
		s.log(c).Error("unregistered error code", "code", code, "err", err, "method", c.Request().Method, "route", c.Path())
		code, msg, extra = prodays.EInternal, "Internal error.", nil
		info, _ = prodays.LookupCode(code)
	case code == prodays.EInternal:
		s.log(c).Error("request failed", "err", err, "method", c.Request().Method, "route", c.Path())
		msg = "Internal error."
	}
	status := info.Status
	body := map[string]any{
		"type":   "urn:prodays:problem:" + code,
		"title":  http.StatusText(status),
		"status": status,
		"detail": msg,
		"code":   code,
	}
	for k, v := range extra {
		if _, taken := body[k]; !taken {
			body[k] = v
		}
	}
	if secs, ok := extra["retry_after"].(int); ok && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		// RFC 9110 §10.2.3: delay in seconds.
		c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
	}
	c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
	c.Response().WriteHeader(status)
	if c.Request().Method == http.MethodHead {
		return
	}
	_ = c.Echo().JSONSerializer.Serialize(c, body, "")
}
