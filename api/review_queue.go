package api

import (
	"net/http"
	"prodays/sync/review"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"prodays"
)

// reviewFilter is the filter of the review queue, as query parameters
// (GET /review/items) or as the "filter" member of a bulk decision.
type reviewFilter struct {
	Kind     string `json:"kind"` // comma-separated kinds
	Activity string `json:"activity"`
	Device   string `json:"device"`
	User     string `json:"user"`
	Day      string `json:"day"`
	Q        string `json:"q"`
}

func (f reviewFilter) query() review.ReviewQuery {
	q := review.ReviewQuery{ActivityID: f.Activity, DeviceID: f.Device, Username: f.User, Day: f.Day, Search: f.Q}
	for _, k := range strings.Split(f.Kind, ",") {
		if k = strings.TrimSpace(k); k != "" {
			q.Kinds = append(q.Kinds, k)
		}
	}
	return q
}

// listReviewItems: GET /api/v1/review/items?kind=&activity=&device=&user=
// &day=&q=&after=&limit= (engine.ReviewQueue).
func (s *Server) listReviewItems(c echo.Context) error {
	f := reviewFilter{Kind: c.QueryParam("kind"), Activity: c.QueryParam("activity"), Device: c.QueryParam("device"),
		User: c.QueryParam("user"), Day: c.QueryParam("day"), Q: c.QueryParam("q")}
	q := f.query()
	q.After = c.QueryParam("after")
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return prodays.Errorf(prodays.EInvalid, "limit must be from 1 to %d.", review.MaxReviewPage)
		}
		q.Limit = n
	}
	page, err := s.Sync.ReviewQueue(c.Request().Context(), principal(c), q)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, page)
}

// bulkRequest is the body of POST /api/v1/review/items/decide: the items
// (refs), or when refs is empty every item matching filter.
type bulkRequest struct {
	Refs   []string     `json:"refs"`
	Filter reviewFilter `json:"filter"`
	Action string       `json:"action"`
	Reason string       `json:"reason"`
}

// decideReviewItems: POST /api/v1/review/items/decide (engine.DecideItems).
func (s *Server) decideReviewItems(c echo.Context) error {
	var req bulkRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	res, err := s.Sync.DecideItems(c.Request().Context(), principal(c), req.Refs, req.Filter.query(), req.Action, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, res)
}

// attachRequest is the body of POST /api/v1/review/quarantine/{id}/attach.
type attachRequest struct {
	TraineeID string `json:"trainee_id"`
	Reason    string `json:"reason"`
}

// attachTrainee: POST /api/v1/review/quarantine/{id}/attach {trainee_id,
// reason} (engine.AttachTrainee).
func (s *Server) attachTrainee(c echo.Context, req attachRequest) error {
	if req.TraineeID == "" {
		return prodays.Errorf(prodays.EInvalid, "trainee_id is required.")
	}
	return s.Sync.AttachTrainee(c.Request().Context(), principal(c), c.Param("id"), req.TraineeID, req.Reason)
}

// searchTrainees: GET /api/v1/review/trainees?q=&limit= answers
// {trainees: [...]} (engine.SearchTrainees), the console's search to
// attach a mistyped matricule.
func (s *Server) searchTrainees(c echo.Context) error {
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return prodays.Errorf(prodays.EInvalid, "limit must be from 1 to %d.", review.MaxTraineeHits)
		}
		limit = n
	}
	out, err := s.Sync.SearchTrainees(c.Request().Context(), principal(c), c.QueryParam("q"), limit)
	return listAnswer(c, "trainees", out, err)
}
