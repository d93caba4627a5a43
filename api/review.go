package api

import (
	_ "embed"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/sync/protocol"
)

// decisionRequest is the optional body of a review decision.
type decisionRequest struct {
	Reason string `json:"reason"`
}

func optionalBody(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return bindJSON(c, v)
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, prodays.Errorf(prodays.ENotFound, "No such item.")
	}
	return id, nil
}

// listFlags: GET /api/v1/review/flags?status=open|accepted|rejected.
func (s *Server) listFlags(c echo.Context) error {
	out, err := s.Sync.ListFlags(c.Request().Context(), principal(c), c.QueryParam("status"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"flags": out})
}

// listConflicts: GET /api/v1/review/conflicts?status=open|confirmed|reversed.
func (s *Server) listConflicts(c echo.Context) error {
	out, err := s.Sync.ListConflicts(c.Request().Context(), principal(c), c.QueryParam("status"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"conflicts": out})
}

// listQuarantine: GET /api/v1/review/quarantine.
func (s *Server) listQuarantine(c echo.Context) error {
	out, err := s.Sync.ListQuarantine(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"mutations": out})
}

// listProposals: GET /api/v1/review/merge-proposals?status=open|merged|dismissed.
func (s *Server) listProposals(c echo.Context) error {
	out, err := s.Sync.ListProposals(c.Request().Context(), principal(c), c.QueryParam("status"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"merge_proposals": out})
}

// listDevices: GET /api/v1/review/devices.
func (s *Server) listDevices(c echo.Context) error {
	out, err := s.Sync.ListDevices(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"devices": out})
}

// decide returns the handler of POST /api/v1/review/{what}/{id}/{verb}.
func (s *Server) decide(fn func(c echo.Context, id int64, reason string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		var req decisionRequest
		if err := optionalBody(c, &req); err != nil {
			return err
		}
		if err := fn(c, id, req.Reason); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func (s *Server) acceptFlag(c echo.Context, id int64, reason string) error {
	return s.Sync.DecideFlag(c.Request().Context(), principal(c), id, true, reason)
}
func (s *Server) rejectFlag(c echo.Context, id int64, reason string) error {
	return s.Sync.DecideFlag(c.Request().Context(), principal(c), id, false, reason)
}
func (s *Server) confirmConflict(c echo.Context, id int64, reason string) error {
	return s.Sync.DecideConflict(c.Request().Context(), principal(c), id, true, reason)
}
func (s *Server) reverseConflict(c echo.Context, id int64, reason string) error {
	return s.Sync.DecideConflict(c.Request().Context(), principal(c), id, false, reason)
}
func (s *Server) mergeProposal(c echo.Context, id int64, reason string) error {
	return s.Sync.DecideProposal(c.Request().Context(), principal(c), id, true, reason)
}
func (s *Server) dismissProposal(c echo.Context, id int64, reason string) error {
	return s.Sync.DecideProposal(c.Request().Context(), principal(c), id, false, reason)
}

// overrideRequest is the body of POST /api/v1/review/overrides.
type overrideRequest struct {
	ActivityID string          `json:"activity_id"`
	Person     protocol.Person `json:"person"`
	Present    *bool           `json:"present"`
	Reason     string          `json:"reason"`
}

// override: POST /api/v1/review/overrides sets a supervisor's decision on a
// presence (present or absent, reason required).
func (s *Server) override(c echo.Context) error {
	var req overrideRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.ActivityID == "" || req.Person.ID == "" || req.Present == nil {
		return prodays.Errorf(prodays.EInvalid, "activity_id, person {kind, id}, present and reason are required.")
	}
	if err := s.Sync.Override(c.Request().Context(), principal(c), req.ActivityID, req.Person, *req.Present, req.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// closeActivity: POST /api/v1/activities/{id}/close {reason?}.
func (s *Server) closeActivity(c echo.Context) error {
	var req decisionRequest
	if err := optionalBody(c, &req); err != nil {
		return err
	}
	if err := s.Sync.Close(c.Request().Context(), principal(c), c.Param("id"), req.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// reopenActivity: POST /api/v1/activities/{id}/reopen {reason?} (admin).
func (s *Server) reopenActivity(c echo.Context) error {
	var req decisionRequest
	if err := optionalBody(c, &req); err != nil {
		return err
	}
	if err := s.Sync.Reopen(c.Request().Context(), principal(c), c.Param("id"), req.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the embedded OpenAPI 3.1 document of the API.
func OpenAPI() []byte { return openAPIDoc }

// openapi: GET /api/v1/openapi.json.
func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDoc)
}
