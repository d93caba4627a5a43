package protocol

import "slices"

// SeqGaps returns the ranges [first, last] of the seqs from 1 to maxSeq
// that are not in seqs (sorted ascending), both ends included, each with
// 1 ≤ first ≤ last ≤ maxSeq; [] when none (sync protocol, Push: the
// device's gaps). Seqs outside 1..maxSeq are ignored. It never overflows,
// whatever int64 values it is given.
func SeqGaps(seqs []int64, maxSeq int64) [][2]int64 {
	gaps := [][2]int64{}
	next := int64(1) // the lowest seq not yet accounted for
	for _, s := range seqs {
		if s < next || s > maxSeq {
			continue
		}
		if s > next {
			gaps = append(gaps, [2]int64{next, s - 1})
		}
		if s == maxSeq {
			return gaps // s+1 could overflow, and nothing is above maxSeq
		}
		next = s + 1
	}
	if maxSeq >= next {
		gaps = append(gaps, [2]int64{next, maxSeq})
	}
	return gaps
}

// AddSeqs returns the gaps of a device after a batch (sync protocol 1.1,
// Push: the device object) from its gaps before it (gaps, ascending, as
// SeqGaps gives them, below oldMax), its highest seq before (oldMax) and
// after (newMax ≥ oldMax), and the seqs the batch stored (any order, any
// value: those outside a gap or above newMax are ignored): the old gaps
// and the new range (oldMax, newMax), less the stored seqs. It costs the
// gaps and the batch, never the device's history; the result equals
// SeqGaps of every seq stored up to newMax.
func AddSeqs(gaps [][2]int64, oldMax, newMax int64, stored []int64) [][2]int64 {
	cand := make([][2]int64, 0, len(gaps)+1)
	cand = append(cand, gaps...)
	if newMax > oldMax {
		cand = append(cand, [2]int64{max(oldMax+1, 1), newMax})
	}
	held := slices.Clone(stored)
	slices.Sort(held)
	held = slices.Compact(held)
	out := [][2]int64{}
	for _, g := range cand {
		start := g[0]
		i, _ := slices.BinarySearch(held, g[0])
		for ; i < len(held) && held[i] <= g[1]; i++ {
			if held[i] > start {
				out = append(out, [2]int64{start, held[i] - 1})
			}
			start = held[i] + 1
		}
		if start <= g[1] && start >= g[0] { // start < g[0]: g[1] was held and +1 wrapped
			out = append(out, [2]int64{start, g[1]})
		}
	}
	return out
}

// Holds reports whether the server, as d says, holds the device's
// mutation of seq (sync protocol 1.1, Sent log): seq is at most MaxSeq and
// in no gap.
func (d DeviceState) Holds(seq int64) bool {
	if seq > d.MaxSeq {
		return false
	}
	for _, g := range d.Gaps {
		if seq >= g[0] && seq <= g[1] {
			return false
		}
	}
	return true
}
