package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"prodays"
)

// listEditionsHandler: GET /api/v1/admin/editions answers
// {"editions": [edition…]}, latest first.
func (s *Server) listEditionsHandler(c echo.Context) error {
	eds, err := s.DB.ListEditions(c.Request().Context())
	return answer(c, http.StatusOK, map[string]any{"editions": eds}, err)
}

// editionRequest is the body of POST and PATCH /api/v1/admin/editions;
// PATCH keeps absent fields (prodays.EditionChange).
type editionRequest struct {
	Name      *string `json:"name"`
	Theme     *string `json:"theme"`
	StartDate *string `json:"start_date"`
	EndDate   *string `json:"end_date"`
}

// createEdition: POST /api/v1/admin/editions answers 201 with the
// edition (store.CreateEdition); 400 invalid naming the field, 409
// conflict when the name is taken.
func (s *Server) createEdition(c echo.Context, req editionRequest) (*prodays.Edition, error) {
	return s.DB.CreateEdition(c.Request().Context(), prodays.EditionChange(req))
}

// updateEditionHandler: PATCH /api/v1/admin/editions/:id answers the
// edition (store.UpdateEdition); 404 for an unknown id, checked before
// the body.
func (s *Server) updateEditionHandler(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return prodays.Errorf(prodays.ENotFound, "No edition %q.", c.Param("id"))
	}
	return jsonHandler(http.StatusOK, func(c echo.Context, req editionRequest) (*prodays.Edition, error) {
		return s.DB.UpdateEdition(c.Request().Context(), id, prodays.EditionChange(req))
	})(c)
}
