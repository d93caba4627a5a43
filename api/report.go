package api

import (
	"net/http"

	"prodays"

	"github.com/labstack/echo/v4"
)

// reportFilter reads ?edition=ID&region=CODE into a prodays.BilanFilter scoped to
// the caller (its prodays.Scope): a supervisor's bilan is always of their
// region, and asking for another region is forbidden.
func (s *Server) reportFilter(c echo.Context) (prodays.BilanFilter, error) {
	f := prodays.BilanFilter{Scope: principal(c).Scope}
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
	b, err := s.Documents.Bilan(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}
