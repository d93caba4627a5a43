package simulate

import (
	"cmp"
	"slices"
	"time"

	"prodays/sync/protocol"
)

// Retention of a sent log (sync protocol 1.1, "Sent log and restore
// without loss"): a mutation stays DefaultSentAge after its answer, and
// the log holds at most DefaultSentMax mutations, oldest first out.
const (
	DefaultSentAge = 14 * 24 * time.Hour
	DefaultSentMax = 100_000
)

// SentLog is a phone's log of the mutations the server answered, and what
// the server last told it of the device (the device object of push and
// pull answers), so that a server restored from an older copy gets back
// what it lost (sync protocol 1.1, "Sent log and restore without loss").
// It is not safe for concurrent use (a phone syncs one request at a time).
type SentLog struct {
	// MaxAge and MaxLen are the retention (NewSentLog: the defaults).
	MaxAge time.Duration
	MaxLen int

	entries []sentEntry // in the order answered, oldest first
	ids     map[string]bool
	// told is the device object of the last answer (toldAny: there was
	// one); maxAnswered the highest seq of a mutation answered.
	told        protocol.DeviceState
	toldAny     bool
	maxAnswered int64
	// resent remembers, per mutation id, the epoch under which it was put
	// back into the outbox: a mutation the server still does not hold
	// after its re-send (it stores no seq for it) is not sent a third time.
	resent map[string]string
}

type sentEntry struct {
	m  protocol.Mutation
	at time.Time // when it was answered
}

// NewSentLog returns an empty log with the protocol's retention.
func NewSentLog() *SentLog {
	return &SentLog{MaxAge: DefaultSentAge, MaxLen: DefaultSentMax, ids: map[string]bool{}, resent: map[string]string{}}
}

// Len is the number of mutations in the log.
func (l *SentLog) Len() int { return len(l.entries) }

// Add logs ms, answered at now (a mutation already in the log stays once),
// and drops what is past the retention.
func (l *SentLog) Add(now time.Time, ms []protocol.Mutation) {
	for _, m := range ms {
		if l.ids[m.ID] {
			continue
		}
		l.ids[m.ID] = true
		l.entries = append(l.entries, sentEntry{m: m, at: now})
		if sane(m.Seq) {
			l.maxAnswered = max(l.maxAnswered, m.Seq)
		}
	}
	l.prune(now)
}

// prune drops the entries answered more than MaxAge before now, then the
// oldest ones beyond MaxLen.
func (l *SentLog) prune(now time.Time) {
	drop := 0
	for drop < len(l.entries) && (now.Sub(l.entries[drop].at) > l.MaxAge || len(l.entries)-drop > l.MaxLen) {
		delete(l.ids, l.entries[drop].m.ID)
		drop++
	}
	if drop > 0 {
		l.entries = slices.Delete(l.entries, 0, drop)
	}
}

// sane reports whether seq is one the server can store (1 to
// protocol.MaxInteger): another is never counted as held or lost.
func sane(seq int64) bool { return seq >= 1 && seq <= protocol.MaxInteger }

// Compare takes the device object d of a push or pull answer. When it
// says the server lost history (sync protocol 1.1): another epoch than
// the last answer's, a max_seq below the highest seq answered, or gaps
// other than the last answer's (one may cover answered seqs), it returns
// the mutations of the log that the server no longer holds (seq above
// max_seq or inside a gap), in seq order, with their original id, seq and
// recorded_at, and takes them out of the log: they go back into the
// outbox, and into the log again when answered. A new epoch that holds
// everything returns none.
func (l *SentLog) Compare(d protocol.DeviceState) []protocol.Mutation {
	changed := !l.toldAny || d.Epoch != l.told.Epoch || d.MaxSeq < l.maxAnswered || !slices.Equal(d.Gaps, l.told.Gaps)
	l.told, l.toldAny = d, true
	if !changed {
		return nil
	}
	var lost []protocol.Mutation
	kept := l.entries[:0]
	for _, e := range l.entries {
		if sane(e.m.Seq) && !d.Holds(e.m.Seq) && l.resent[e.m.ID] != d.Epoch {
			l.resent[e.m.ID] = d.Epoch
			lost = append(lost, e.m)
			delete(l.ids, e.m.ID)
			continue
		}
		kept = append(kept, e)
	}
	l.entries = kept
	slices.SortStableFunc(lost, func(a, b protocol.Mutation) int { return cmp.Compare(a.Seq, b.Seq) })
	return lost
}
