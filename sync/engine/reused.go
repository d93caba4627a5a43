package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"prodays/sync/protocol"
)

// reused answers a mutation whose id was first stored for another device
// (issue #13, ids): a mutation id is an idempotency key of one device, so
// this is never a duplicate of the other device's mutation, whose outcome
// stays unrevealed. It is rejected as id_reused and kept in quarantine
// (mutation_log, status rejected) under the sender's device, user and seq,
// with its payload, under a key derived from the sender's device and the id
// ("reused-" and 32 hex digits: the same for a retry, which is answered
// id_reused again). A supervisor sees it and may count a refused check-in
// present (ResolveQuarantined).
func (b *batch) reused(m *protocol.Mutation) (protocol.Result, error) {
	sum := sha256.Sum256([]byte(b.req.DeviceID + "\x00" + m.ID))
	key := "reused-" + hex.EncodeToString(sum[:16])
	o := rejected(protocol.CodeIDReused, "Mutation id %s was first used by another device: this one is refused and kept for a supervisor.", m.ID)
	var occurred time.Time
	capped := false
	if m.Invalid == nil {
		occurred, capped = protocol.OccurredAt(m.RecordedAt, b.offset, b.receipt)
	}
	if err := b.record(key, m, occurred, capped, o); err != nil {
		return protocol.Result{}, err
	}
	if m.Seq > 0 && b.seqs[m.Seq] == "" {
		b.seqs[m.Seq] = key
	}
	return protocol.Result{ID: m.ID, Status: o.status, Code: o.code, Message: o.message}, nil
}
