package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/report"
)

// reportFilter reads ?edition=ID&region=CODE into a report.Filter scoped to
// the caller (its prodays.Scope): a supervisor's bilan is always of their
// region, and asking for another region is forbidden.
func (s *Server) reportFilter(c echo.Context) (report.Filter, error) {
	f := report.Filter{Scope: principal(c).Scope}
	if v := c.QueryParam("edition"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, prodays.Errorf(prodays.EInvalid, "edition must be an edition id (a positive integer).")
		}
		f.EditionID = &id
	}
	f.RegionCode = c.QueryParam("region")
	p := principal(c)
	if p.Role != prodays.RoleAdmin {
		if f.RegionCode != "" && f.RegionCode != p.RegionCode {
			return f, prodays.Errorf(prodays.EForbidden, "You may only see region %s.", p.RegionCode)
		}
		f.RegionCode = p.RegionCode
		return f, nil
	}
	return f, report.CheckRegion(c.Request().Context(), s.DB, f.RegionCode)
}

// bilan: GET /api/v1/reports/bilan?edition=ID[&region=CODE] answers the
// figures of report.Figures (admins: any region; supervisors: theirs).
func (s *Server) bilan(c echo.Context) error {
	f, err := s.reportFilter(c)
	if err != nil {
		return err
	}
	b, err := report.Bilan(c.Request().Context(), s.DB, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}
