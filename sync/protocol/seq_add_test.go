package protocol_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"prodays/sync/protocol"
)

// TestAddSeqs: the gaps kept batch by batch (AddSeqs) are always the gaps
// of every seq stored so far (SeqGaps), over random batches with
// duplicates, re-sends into gaps, seqs below and far above.
func TestAddSeqs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 300; run++ {
		held := map[int64]bool{}
		var gaps [][2]int64 = [][2]int64{}
		var maxSeq int64
		for b := 0; b < 8; b++ {
			var batch []int64
			for range r.IntN(12) {
				batch = append(batch, int64(r.IntN(60)+1))
			}
			if r.IntN(4) == 0 {
				batch = append(batch, 0, -3) // not seqs: ignored
			}
			newMax := maxSeq
			for _, s := range batch {
				if s > 0 {
					held[s] = true
					newMax = max(newMax, s)
				}
			}
			gaps = protocol.AddSeqs(gaps, maxSeq, newMax, batch)
			maxSeq = newMax
			var all []int64
			for s := range held {
				all = append(all, s)
			}
			slices.Sort(all)
			if want := protocol.SeqGaps(all, maxSeq); !reflect.DeepEqual(gaps, want) {
				t.Fatalf("run %d batch %d (%v): AddSeqs %v, SeqGaps %v", run, b, batch, gaps, want)
			}
		}
	}
}

func TestAddSeqsCases(t *testing.T) {
	for _, c := range []struct {
		gaps           [][2]int64
		oldMax, newMax int64
		stored         []int64
		want           [][2]int64
	}{
		{nil, 0, 0, nil, [][2]int64{}},
		{[][2]int64{}, 0, 3, []int64{1, 2, 3}, [][2]int64{}},
		{[][2]int64{}, 0, 5, []int64{5}, [][2]int64{{1, 4}}},
		{[][2]int64{{1, 4}}, 5, 5, []int64{2, 3}, [][2]int64{{1, 1}, {4, 4}}},
		{[][2]int64{{1, 4}}, 5, 9, []int64{1, 4, 9}, [][2]int64{{2, 3}, {6, 8}}},
		{[][2]int64{{3, 3}}, 4, 4, []int64{3, 3}, [][2]int64{}},
		{[][2]int64{}, protocol.MaxInteger - 1, protocol.MaxInteger, []int64{protocol.MaxInteger}, [][2]int64{}},
	} {
		if got := protocol.AddSeqs(c.gaps, c.oldMax, c.newMax, c.stored); !reflect.DeepEqual(got, c.want) {
			t.Errorf("AddSeqs(%v, %d, %d, %v) = %v, want %v", c.gaps, c.oldMax, c.newMax, c.stored, got, c.want)
		}
	}
}

func TestDeviceStateHolds(t *testing.T) {
	d := protocol.DeviceState{MaxSeq: 10, Gaps: [][2]int64{{3, 4}, {7, 7}}}
	for seq, want := range map[int64]bool{1: true, 2: true, 3: false, 4: false, 5: true, 7: false, 10: true, 11: false} {
		if got := d.Holds(seq); got != want {
			t.Errorf("Holds(%d) = %v, want %v", seq, got, want)
		}
	}
}
