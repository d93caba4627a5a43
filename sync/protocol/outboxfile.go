package protocol

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"prodays"
	"prodays/internal/strictjson"
)

// Limits of an outbox file ("Save pending check-ins to a file"): its
// outbox and its sent log (1.1) each hold at most MaxSent mutations (the
// most a phone's sent log keeps: sync protocol, "Sent log and restore
// without loss"), in at most MaxOutboxFileBytes.
const (
	MaxSent            = 100_000
	MaxOutboxFileBytes = 64 << 20
)

// outboxFileEnvelope is an outbox file: a push body and, from protocol
// 1.1, the phone's sent log (mutations the server answered before).
type outboxFileEnvelope struct {
	pushEnvelope `json:",inline"`
	Sent         []json.RawMessage `json:"sent"`
}

// DecodeOutboxFile decodes an outbox file saved by a phone: a push body
// (as DecodePush: strict envelope, one bad mutation refused alone) with an
// optional "sent" array, the phone's sent log. The request's Mutations are
// the outbox's and the sent log's (a sent mutation whose id the outbox also
// holds is skipped) in seq order, the order the phone recorded them; there
// may be more than MaxMutations: the caller pushes them in batches
// (ChunkMutations). Re-applying the sent log is harmless: each mutation id
// is its idempotency key, so what the server holds is a duplicate, and
// what a restore lost applies again. Errors: invalid, too_large (over
// MaxOutboxFileBytes, or over MaxSent mutations in either part).
func DecodeOutboxFile(body []byte) (*PushRequest, error) {
	if len(body) > MaxOutboxFileBytes {
		return nil, TooLarge(fmt.Sprintf("The file is over %d bytes: it cannot be a phone's outbox.", MaxOutboxFileBytes))
	}
	var f outboxFileEnvelope
	if err := strictjson.UnmarshalTopLevel(body, &f); err != nil {
		return nil, prodays.Errorf(prodays.EInvalid, "Invalid outbox file: %s", err)
	}
	if len(f.Sent) > MaxSent {
		return nil, TooLarge(fmt.Sprintf("The file's sent log holds %d mutations, at most %d are allowed.", len(f.Sent), MaxSent))
	}
	req, err := f.request(MaxSent)
	if err != nil {
		return nil, err
	}
	if len(f.Sent) == 0 {
		return req, nil
	}
	seen := make(map[string]bool, len(req.Mutations))
	for _, m := range req.Mutations {
		seen[m.ID] = true
	}
	for _, raw := range f.Sent {
		m := DecodeMutation(raw)
		if m.ID != "" && seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		req.Mutations = append(req.Mutations, m)
	}
	slices.SortStableFunc(req.Mutations, func(a, b Mutation) int { return cmp.Compare(a.Seq, b.Seq) })
	return req, nil
}

// ChunkMutations splits r into push requests of at most MaxMutations
// mutations each, in order, with r's envelope; an r without mutations
// gives one request (an empty push is valid, and answers the device).
func ChunkMutations(r *PushRequest) []*PushRequest {
	var out []*PushRequest
	for i := 0; i == 0 || i < len(r.Mutations); i += MaxMutations {
		c := *r
		c.Mutations = r.Mutations[i:min(i+MaxMutations, len(r.Mutations))]
		out = append(out, &c)
	}
	return out
}
