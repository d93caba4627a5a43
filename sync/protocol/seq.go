package protocol

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
