package api

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// securityHeaders is the middleware of every answer. Answers under /api/
// are never cached (Cache-Control: no-store: they carry tokens and
// personal data, and the service worker never caches /api/ either), and
// every answer forbids MIME sniffing and framing.
//
// CORS stays closed: no route or middleware sets
// Access-Control-Allow-Origin, so browsers refuse cross-origin reads of
// the API; the PWA is served from the same origin and needs none.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			h.Set(echo.HeaderCacheControl, "no-store")
		}
		h.Set(echo.HeaderXContentTypeOptions, "nosniff")
		h.Set(echo.HeaderXFrameOptions, "DENY")
		return next(c)
	}
}
