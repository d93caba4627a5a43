package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"prodays"
)

// The admin API: accounts (admin_users.go), devices (admin_devices.go),
// editions (admin_editions.go), the audit log (here) and personal data
// (personal.go). Every route is behind requireAuth and requireRole(admin)
// (see routes); the store writes every change to the audit log in the
// transaction that makes it, naming the admin, device and address of the
// request's prodays.Actor.

// answer renders v with status as JSON, or returns err.
func answer(c echo.Context, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, v)
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
	f := prodays.AuditFilter{Username: c.QueryParam("username"), Action: c.QueryParam("action")}
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
		entries = []prodays.AuditEntry{}
	}
	body := map[string]any{"entries": entries}
	if len(entries) == f.Limit {
		body["next_before_id"] = entries[len(entries)-1].ID
	}
	return c.JSON(http.StatusOK, body)
}
