package api

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
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
	if err := act(c.Request().Context(), principal(c), c.Param("id"), req.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
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

// resolveRequest is the body of POST /api/v1/review/quarantine/{id}/resolve.
type resolveRequest struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// resolveQuarantined: POST /api/v1/review/quarantine/{id}/resolve
// {action: acknowledge|count_present, reason} (engine.ResolveQuarantined).
func (s *Server) resolveQuarantined(c echo.Context) error {
	var req resolveRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := s.Sync.ResolveQuarantined(c.Request().Context(), principal(c), c.Param("id"), req.Action, req.Reason); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
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
	return withReason(c, s.Sync.Close)
}

// reopenActivity: POST /api/v1/activities/{id}/reopen {reason?} (admin).
func (s *Server) reopenActivity(c echo.Context) error {
	return withReason(c, s.Sync.Reopen)
}

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the embedded OpenAPI 3.1 document of the API.
func OpenAPI() []byte { return openAPIDoc }

// openapi: GET /api/v1/openapi.json.
func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDoc)
}

// outboxUploadMaxBytes caps an uploaded outbox file: a push body with the
// phone's sent log (protocol.MaxOutboxFileBytes), plus the multipart envelope.
const outboxUploadMaxBytes = protocol.MaxOutboxFileBytes + multipartSlack

// OutboxUploadResponse is the answer of POST /api/v1/review/outbox-upload:
// the phone's owner, the clock correction used (Clock: "last_known_offset",
// the push's clock_offset_ms being that offset, or "none" with 0) and the
// per-mutation results of the push.
type OutboxUploadResponse struct {
	DeviceID string `json:"device_id"`
	Username string `json:"username"`
	Clock    string `json:"clock"`
	*protocol.PushResponse
}

// outboxUpload: POST /api/v1/review/outbox-upload (supervisor of the
// phone's region, admin). The body is an outbox file saved from a phone
// (a push body {device_id, client_time, app_version, outbox_size,
// mutations}, and from 1.1 the phone's sent log as "sent":
// protocol.DecodeOutboxFile), either as the multipart form field "file" or
// as the JSON body itself. It is applied through the same engine push as
// the phone's own sync, in batches of protocol.MaxMutations, on behalf of
// the device's owner (their scope, the file's device_id), with the
// device's last known clock offset or none, never the upload time
// (engine.UploadOutbox), so it is idempotent: a mutation already received
// is a duplicate, and what a restored server lost applies again. The
// upload is audited. Errors: not_found for a device the
// server never saw, forbidden for a phone of another region.
func (s *Server) outboxUpload(c echo.Context) error {
	req := c.Request()
	if req.ContentLength > outboxUploadMaxBytes {
		return protocol.TooLarge(fmt.Sprintf("The file is over %d bytes: it cannot be a phone's outbox.", protocol.MaxOutboxFileBytes))
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, outboxUploadMaxBytes)
	body, err := readOutboxFile(c)
	if err != nil {
		return err
	}
	pr, err := protocol.DecodeOutboxFile(body)
	if err != nil {
		return err
	}
	ctx := req.Context()
	onBehalf, err := s.Sync.DeviceOwner(ctx, pr.DeviceID)
	if err != nil {
		return err
	}
	if err := principal(c).AuthorizeRegion(onBehalf.RegionCode); err != nil {
		return err
	}
	var resp *protocol.PushResponse
	var clock review.UploadClock
	for _, chunk := range protocol.ChunkMutations(pr) {
		r, c, err := s.Sync.UploadOutbox(ctx, onBehalf, chunk)
		if err != nil {
			return err
		}
		s.countMutations(chunk, r)
		if resp != nil {
			r.Results = append(resp.Results, r.Results...)
		}
		resp, clock = r, c
	}
	counts := map[string]int{}
	for _, r := range resp.Results {
		counts[r.Status]++
	}
	p := principal(c)
	if err := s.DB.AddAudit(ctx, prodays.AuditEntry{Username: p.Username, DeviceID: p.DeviceID, Address: c.RealIP(),
		Action: "review.outbox_upload", Target: "device:" + pr.DeviceID,
		Detail: map[string]any{"owner": onBehalf.Username, "mutations": len(pr.Mutations), "results": counts, "clock": clock.Source}}); err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, OutboxUploadResponse{DeviceID: pr.DeviceID, Username: onBehalf.Username, Clock: clock.Source, PushResponse: resp})
}

// readOutboxFile returns the uploaded file: the multipart field "file",
// or the request body when it is JSON.
func readOutboxFile(c echo.Context) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	switch {
	case mt == "multipart/form-data":
		fh, err := c.FormFile("file")
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, protocol.TooLarge("The file is too large to be a phone's outbox.")
			}
			return nil, prodays.Errorf(prodays.EInvalid, "Send the outbox file in the multipart form field \"file\".")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, protocol.MaxOutboxFileBytes+1))
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, protocol.TooLarge("The file is too large to be a phone's outbox.")
			}
			return nil, prodays.Errorf(prodays.EInvalid, "Could not read the request body.")
		}
		return b, nil
	}
	return nil, prodays.Errorf(prodays.EUnsupported, "Send the outbox file as multipart/form-data (field \"file\") or as application/json.")
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
