package api

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/sync/protocol"
	"prodays/sync/review"
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

// withReason answers an action on the item :id whose body is an optional
// {reason} (decisionRequest): it calls act as the caller and answers 204.
func withReason(c echo.Context, act func(ctx context.Context, p *prodays.Principal, id, reason string) error) error {
	var req decisionRequest
	if err := optionalBody(c, &req); err != nil {
		return err
	}
	return noContent(c, act(c.Request().Context(), principal(c), c.Param("id"), req.Reason))
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
	return listAnswer(c, "flags", out, err)
}

// listConflicts: GET /api/v1/review/conflicts?status=open|confirmed|reversed.
func (s *Server) listConflicts(c echo.Context) error {
	out, err := s.Sync.ListConflicts(c.Request().Context(), principal(c), c.QueryParam("status"))
	return listAnswer(c, "conflicts", out, err)
}

// listQuarantine: GET /api/v1/review/quarantine?all=1: the refused
// mutations still to review (all=1: the resolved ones too).
func (s *Server) listQuarantine(c echo.Context) error {
	all := false
	switch c.QueryParam("all") {
	case "", "0", "false":
	case "1", "true":
		all = true
	default:
		return prodays.Errorf(prodays.EInvalid, "all must be 1 or 0.")
	}
	out, err := s.Sync.ListQuarantine(c.Request().Context(), principal(c), all)
	return listAnswer(c, "mutations", out, err)
}

// listProposals: GET /api/v1/review/merge-proposals?status=open|merged|dismissed.
func (s *Server) listProposals(c echo.Context) error {
	out, err := s.Sync.ListProposals(c.Request().Context(), principal(c), c.QueryParam("status"))
	return listAnswer(c, "merge_proposals", out, err)
}

// listDevices: GET /api/v1/review/devices?region=&sort=user|attention
// &not_seen_since=RFC3339&format=json|csv: the phones of the region, what
// needs attention on each, a summary (engine.Devices); format=csv the same
// list as a CSV file.
func (s *Server) listDevices(c echo.Context) error {
	q := review.DeviceQuery{Region: c.QueryParam("region"), Sort: c.QueryParam("sort")}
	if v := c.QueryParam("not_seen_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return prodays.Errorf(prodays.EInvalid, "not_seen_since must be an RFC 3339 time, e.g. 2026-03-23T08:00:00+01:00.")
		}
		q.NotSeenSince = t
	}
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return prodays.Errorf(prodays.EInvalid, "format must be json or csv.")
	}
	out, err := s.Sync.Devices(c.Request().Context(), principal(c), q)
	if err != nil {
		return err
	}
	if format == "csv" {
		return s.stream(c, mimeCSV, "appareils-"+out.Date+".csv", func(w io.Writer) error {
			return s.Documents.WriteDevicesCSV(w, out.Devices)
		})
	}
	return writeJSON(c, http.StatusOK, out)
}

// listAnswer renders a review list as {key: out}, or returns err.
func listAnswer(c echo.Context, key string, out any, err error) error {
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{key: out})
}

// decision is one of the engine's decisions on a review item:
// SyncEngine.DecideFlag (accept), DecideConflict (confirm) or
// DecideProposal (merge); yes is the verb, false its opposite.
type decision func(e SyncEngine, ctx context.Context, p *prodays.Principal, id int64, yes bool, reason string) error

// decide returns the handler of POST /api/v1/review/{what}/{id}/{verb}:
// the decision yes or no on item id, with the body's optional reason.
func (s *Server) decide(d decision, yes bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		var req decisionRequest
		if err := optionalBody(c, &req); err != nil {
			return err
		}
		return noContent(c, d(s.Sync, c.Request().Context(), principal(c), id, yes, req.Reason))
	}
}

// resolveRequest is the body of POST /api/v1/review/quarantine/{id}/resolve.
type resolveRequest struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// resolveQuarantined: POST /api/v1/review/quarantine/{id}/resolve
// {action: acknowledge|count_present, reason} (engine.ResolveQuarantined).
func (s *Server) resolveQuarantined(c echo.Context, req resolveRequest) error {
	return s.Sync.ResolveQuarantined(c.Request().Context(), principal(c), c.Param("id"), req.Action, req.Reason)
}

// acknowledgeSkew: POST /api/v1/review/devices/{id}/acknowledge-skew
// {reason?} (engine.AcknowledgeSkew).
func (s *Server) acknowledgeSkew(c echo.Context) error {
	return withReason(c, s.Sync.AcknowledgeSkew)
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
func (s *Server) override(c echo.Context, req overrideRequest) error {
	if req.ActivityID == "" || req.Person.ID == "" || req.Present == nil {
		return prodays.Errorf(prodays.EInvalid, "activity_id, person {kind, id}, present and reason are required.")
	}
	return s.Sync.Override(c.Request().Context(), principal(c), req.ActivityID, req.Person, *req.Present, req.Reason)
}

// closeActivity: POST /api/v1/activities/{id}/close {reason?}.
func (s *Server) closeActivity(c echo.Context) error {
	return withReason(c, s.Sync.Close)
}

// reopenActivity: POST /api/v1/activities/{id}/reopen {reason?} (admin).
func (s *Server) reopenActivity(c echo.Context) error {
	return withReason(c, s.Sync.Reopen)
}

// casablanca is the time zone of the activities' dates.
var casablanca = prodays.Casablanca

// listActivities: GET /api/v1/review/activities?date=YYYY-MM-DD answers
// the activities of that day of the caller's region (admins: all), with
// the trainees present, the capacity, the status and sign-off, and the
// open flags, the establishment's and company's names
// (engine.NamedActivitiesOfDay), and "days": the dates with
// activities the caller sees. Without date: today in Casablanca, or the
// nearest of those days when today has none (prodays.NearestDay).
func (s *Server) listActivities(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	days, err := s.Sync.ActivityDays(ctx, p)
	if err != nil {
		return err
	}
	date := c.QueryParam("date")
	if date == "" {
		date = prodays.NearestDay(days, s.Now().In(casablanca).Format(time.DateOnly))
	}
	out, err := s.Sync.NamedActivitiesOfDay(ctx, p, date)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"date": date, "days": days, "activities": out})
}
