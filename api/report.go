package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"prodays/report"
)

// reportFilter reads ?edition=ID&region=CODE into a report.Filter scoped to
// the caller (its prodays.Scope): a supervisor's bilan is always of their
// region, and asking for another region is forbidden.
func (s *Server) reportFilter(c echo.Context) (report.Filter, error) {
	f := report.Filter{Scope: principal(c).Scope}
	var err error
	if f.EditionID, err = editionParam(c); err != nil {
		return f, err
	}
	f.RegionCode, err = s.exportRegion(c, c.QueryParam("region"))
	return f, err
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
