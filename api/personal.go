package api

// Personal data of trainees (Moroccan law 09-08): the export of all the
// data held on one trainee and their erasure, both in the store
// (store/personal.go, store/erase.go); see docs/operations.md, "Data
// protection", for what is stored and why.

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"prodays"
)

// exportTraineeHandler: GET /api/v1/admin/trainees/:id/export answers
// every piece of data held on the trainee (store.TraineeExport) as a JSON
// attachment, the right of access of law 09-08; 404 not_found for an
// unknown id. Audited as trainee.export.
func (s *Server) exportTraineeHandler(c echo.Context) error {
	x, err := s.DB.ExportTrainee(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="trainee-export.json"`)
	return c.JSON(http.StatusOK, x)
}

// eraseRequest is the body of POST /api/v1/admin/trainees/:id/erase.
type eraseRequest struct {
	Reason string `json:"reason"`
}

// eraseTrainee: POST /api/v1/admin/trainees/:id/erase {reason}
// erases the person (law 09-08, right of erasure: store.EraseTrainee).
// Answers 200 store.Erasure; 400 invalid without a reason; 404 not_found;
// 409 conflict for an id that is already anonymous. Audited as
// trainee.erase with the anonymous id only (never the matricule or the
// names), the reason and the row counts.
func (s *Server) eraseTrainee(c echo.Context, req eraseRequest) (*prodays.Erasure, error) {
	return s.DB.EraseTrainee(c.Request().Context(), c.Param("id"), req.Reason)
}
