package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/sync/protocol"
	"prodays/sync/review"
)

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
	mt := mediaType(c)
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
	case isJSON(mt):
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
