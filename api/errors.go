package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/auth"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

// statusOf maps each stable error code to its HTTP status. Codes not listed
// here (the sync engine's per-mutation codes, for example) are 400 when
// they reach the HTTP layer as an *prodays.Error.
var statusOf = map[string]int{
	prodays.EInvalid:         http.StatusBadRequest,
	prodays.EUnauthorized:    http.StatusUnauthorized,
	prodays.EForbidden:       http.StatusForbidden,
	prodays.ENotFound:        http.StatusNotFound,
	prodays.EConflict:        http.StatusConflict,
	prodays.ETooLarge:        http.StatusRequestEntityTooLarge,
	prodays.EUnsupported:     http.StatusUnsupportedMediaType,
	prodays.ETooManyRequest:  http.StatusTooManyRequests,
	prodays.EUnavailable:     http.StatusServiceUnavailable,
	prodays.EInternal:        http.StatusInternalServerError,
	"resync":                 http.StatusConflict,
	auth.EInvalidCredentials: http.StatusUnauthorized,
	auth.ERefreshInvalid:     http.StatusUnauthorized,
	auth.EDeviceRevoked:      http.StatusUnauthorized,
	auth.EUserDisabled:       http.StatusUnauthorized,
	auth.EDeviceTaken:        http.StatusForbidden, // device binding (protocol 1.1)
	"method_not_allowed":     http.StatusMethodNotAllowed,
	// Sync and review (sync protocol v1; issue #4).
	protocol.ECodeDeviceMismatch: http.StatusForbidden,
	engine.EReviewPending:        http.StatusConflict,
	engine.EAlreadyDecided:       http.StatusConflict,
	"import_invalid":             http.StatusUnprocessableEntity, // importer.CodeInvalid
}

// Problem is an RFC 9457 problem details object with prodays' stable code
// and any extension members.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"`
}

// ProblemContentType is the media type of every error body (RFC 9457 §3).
const ProblemContentType = "application/problem+json"

// handleError is the one place that writes errors. A Detail
// "retry_after" (seconds) of a 429 or 503 also becomes the Retry-After
// header. An *prodays.Error is
// shown with its code and message; an *echo.HTTPError (routing, binding) is
// mapped to a code; anything else is logged with its cause and shown as a
// plain internal error.
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
		switch he.Code {
		case http.StatusNotFound:
			code, msg = prodays.ENotFound, "No such resource."
		case http.StatusMethodNotAllowed:
			code, msg = "method_not_allowed", "Method not allowed on this resource."
		case http.StatusRequestEntityTooLarge:
			code, msg = prodays.ETooLarge, "Request body too large."
		case http.StatusUnsupportedMediaType:
			code, msg = prodays.EUnsupported, "Unsupported content type."
		case http.StatusUnauthorized:
			code, msg = prodays.EUnauthorized, "Authentication required."
		case http.StatusForbidden:
			code, msg = prodays.EForbidden, "Forbidden."
		case http.StatusTooManyRequests:
			code, msg = prodays.ETooManyRequest, "Too many requests."
		case http.StatusServiceUnavailable:
			code, msg = prodays.EUnavailable, "Service unavailable."
		default:
			if he.Code >= 400 && he.Code < 500 {
				code, msg = prodays.EInvalid, http.StatusText(he.Code)
			}
		}
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusBadRequest
	}
	if code == prodays.EInternal {
		s.log(c).Error("request failed", "err", err, "method", c.Request().Method, "route", c.Path())
		msg = "Internal error."
	}
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
