package simulate_test

import (
	"testing"
	"time"

	"prodays/simulate"
	"prodays/sync/protocol"
)

// sentMutations returns mutations of seqs from to to (ids from the
// simulator's MutationID, recorded_at one second apart).
func sentMutations(from, to int64) []protocol.Mutation {
	base := time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)
	var ms []protocol.Mutation
	for s := from; s <= to; s++ {
		at := base.Add(time.Duration(s) * time.Second)
		ms = append(ms, protocol.Mutation{ID: simulate.MutationID("dev-sent", s, at), Seq: s, Type: protocol.TypeCheckIn, RecordedAt: at})
	}
	return ms
}

func seqsOf(ms []protocol.Mutation) []int64 {
	out := []int64{}
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func wantSeqs(t *testing.T, what string, got []protocol.Mutation, want ...int64) {
	t.Helper()
	g := seqsOf(got)
	if len(g) != len(want) {
		t.Fatalf("%s: re-send seqs %v, want %v", what, g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("%s: re-send seqs %v, want %v", what, g, want)
		}
	}
}

// TestSentLogCompare: what a phone puts back into its outbox after each
// answer's device object (sync protocol 1.1, "Sent log and restore
// without loss").
func TestSentLogCompare(t *testing.T) {
	now := time.Date(2026, 3, 23, 12, 0, 0, 0, time.UTC)
	fresh := func() *simulate.SentLog {
		l := simulate.NewSentLog()
		l.Add(now, sentMutations(1, 10))
		if got := l.Compare(protocol.DeviceState{Epoch: "A", MaxSeq: 10, Gaps: [][2]int64{}}); len(got) != 0 {
			t.Fatalf("everything held: re-send %v", seqsOf(got))
		}
		return l
	}
	t.Run("same epoch, everything held", func(t *testing.T) {
		l := fresh()
		wantSeqs(t, "same answer again", l.Compare(protocol.DeviceState{Epoch: "A", MaxSeq: 10, Gaps: [][2]int64{}}))
	})
	t.Run("new epoch, max_seq below", func(t *testing.T) {
		l := fresh()
		ms := l.Compare(protocol.DeviceState{Epoch: "B", MaxSeq: 6, Gaps: [][2]int64{}})
		wantSeqs(t, "restored to seq 6", ms, 7, 8, 9, 10)
		for i, m := range ms {
			if want := sentMutations(7, 10)[i]; m.ID != want.ID || !m.RecordedAt.Equal(want.RecordedAt) {
				t.Fatalf("re-sent %+v, want the original id and recorded_at %+v", m, want)
			}
		}
		if l.Len() != 6 {
			t.Fatalf("the log holds %d, want 6 (the re-sent ones come back when answered)", l.Len())
		}
		// Answered again: nothing more to send.
		l.Add(now, ms)
		wantSeqs(t, "after the re-send", l.Compare(protocol.DeviceState{Epoch: "B", MaxSeq: 10, Gaps: [][2]int64{}}))
	})
	t.Run("same epoch, max_seq below", func(t *testing.T) {
		l := fresh()
		wantSeqs(t, "max_seq 8", l.Compare(protocol.DeviceState{Epoch: "A", MaxSeq: 8, Gaps: [][2]int64{}}), 9, 10)
	})
	t.Run("gap over sent seqs", func(t *testing.T) {
		l := fresh()
		l.Add(now, sentMutations(11, 12))
		wantSeqs(t, "gap [3, 5]", l.Compare(protocol.DeviceState{Epoch: "A", MaxSeq: 12, Gaps: [][2]int64{{3, 5}}}), 3, 4, 5)
	})
	t.Run("gap over seqs never sent", func(t *testing.T) {
		l := simulate.NewSentLog()
		l.Add(now, append(sentMutations(1, 2), sentMutations(5, 6)...)) // 3 and 4 were lost on the phone
		wantSeqs(t, "gap [3, 4]", l.Compare(protocol.DeviceState{Epoch: "A", MaxSeq: 6, Gaps: [][2]int64{{3, 4}}}))
	})
	t.Run("new epoch, everything held", func(t *testing.T) {
		l := fresh()
		wantSeqs(t, "restored from a copy that holds everything", l.Compare(protocol.DeviceState{Epoch: "B", MaxSeq: 10, Gaps: [][2]int64{}}))
		if l.Len() != 10 {
			t.Fatalf("the log holds %d, want 10", l.Len())
		}
	})
	t.Run("not sent a third time in one epoch", func(t *testing.T) {
		l := fresh()
		ms := l.Compare(protocol.DeviceState{Epoch: "B", MaxSeq: 8, Gaps: [][2]int64{}})
		wantSeqs(t, "first", ms, 9, 10)
		l.Add(now, ms)
		wantSeqs(t, "the server still shows max_seq 8", l.Compare(protocol.DeviceState{Epoch: "B", MaxSeq: 8, Gaps: [][2]int64{}}))
	})
}

// TestSentLogRetention: 14 days after its answer, or beyond 100,000
// mutations, the oldest leave the log first, and are then not re-sent.
func TestSentLogRetention(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := simulate.NewSentLog()
	if l.MaxAge != 14*24*time.Hour || l.MaxLen != 100_000 {
		t.Fatalf("retention %s, %d; want 14 days, 100,000", l.MaxAge, l.MaxLen)
	}
	l.Add(now, sentMutations(1, 3))
	l.Add(now.Add(24*time.Hour), sentMutations(4, 5))
	l.Add(now.Add(14*24*time.Hour+time.Hour), sentMutations(6, 6)) // 1 to 3 are past 14 days
	if l.Len() != 3 {
		t.Fatalf("after 14 days the log holds %d, want 3", l.Len())
	}
	wantSeqs(t, "restored to nothing", l.Compare(protocol.DeviceState{Epoch: "B", MaxSeq: 0, Gaps: [][2]int64{}}), 4, 5, 6)

	l = simulate.NewSentLog()
	l.MaxLen = 4
	l.Add(now, sentMutations(1, 3))
	l.Add(now, sentMutations(4, 6))
	if l.Len() != 4 {
		t.Fatalf("capped at 4: the log holds %d", l.Len())
	}
	wantSeqs(t, "oldest out first", l.Compare(protocol.DeviceState{Epoch: "B", MaxSeq: 0, Gaps: [][2]int64{}}), 3, 4, 5, 6)

	l = simulate.NewSentLog()
	ms := sentMutations(1, 100_001)
	l.Add(now, ms)
	if l.Len() != 100_000 {
		t.Fatalf("the default cap: the log holds %d, want 100000", l.Len())
	}
}
