package leakdetect

import (
	"math"
	"sort"
)

// units is a signal's old history at a coarser resolution: each unit
// stands for unitBuckets consecutive buckets on the grid (16 minutes of
// 2-minute buckets). A window longer than the buckets kept is fitted on
// points of several units each (a 24-hour window on points of 96
// minutes, where buckets would make them of 90), and the threshold rule
// reads its level a day ago from them, so a day of history costs a
// hundred units instead of 754 buckets.
//
// A unit is made when the first bucket of the next one closes, from the
// unit's buckets, which the bucket ring still holds. The ring of units is
// kept as parallel arrays, like the buckets'.
type units struct {
	idx    []int32   // the unit's index on the grid of unit widths
	levels []float32 // the interquartile mean of its buckets' levels
	owns   []float32 // the median of its buckets' own levels (RSS only; nil otherwise)
	counts []uint8   // buckets it holds: fewer than unitBuckets across a gap
	reads  []uint16  // distinct readings in its buckets (see series.reads)
	head   int
	count  int
}

func newUnits(n int, owns bool) units {
	u := units{
		idx:    make([]int32, n),
		levels: make([]float32, n),
		counts: make([]uint8, n),
		reads:  make([]uint16, n),
	}
	if owns {
		u.owns = make([]float32, n)
	}
	return u
}

// ring is the index in the ring of the k-th newest unit.
func (u *units) ring(k int) int {
	i := u.head - 1 - k
	if i < 0 {
		i += len(u.idx)
	}
	return i
}

// push adds a unit.
func (u *units) push(idx int32, level, own float64, count, reads int) {
	r := u.head
	u.idx[r], u.levels[r] = idx, float32(level)
	if u.owns != nil {
		u.owns[r] = float32(own)
	}
	u.counts[r] = uint8(count)
	u.reads[r] = uint16(min(reads, math.MaxUint16))
	u.head = (u.head + 1) % len(u.idx)
	u.count = min(u.count+1, len(u.idx))
}

// unitOf is the unit a bucket of grid index idx falls in.
func unitOf(idx int32) int32 {
	if idx < 0 {
		return (idx - unitBuckets + 1) / unitBuckets
	}
	return idx / unitBuckets
}

// closeUnit makes the unit before the newest bucket when that bucket is
// the first of another unit.
func (s *series) closeUnit() {
	if s.units.idx == nil || s.count < 2 {
		return
	}
	prev := unitOf(s.idx[s.ring(1)])
	if unitOf(s.idx[s.ring(0)]) == prev {
		return
	}
	n, reads := s.unitBucketsBack(1, prev)
	level := s.bucketsLevel(1, n)
	own := level
	if s.units.owns != nil {
		own = s.bucketsOwn(1, n)
	}
	s.units.push(prev, level, own, n, reads)
}

// unitBucketsBack counts the buckets from the k-th newest back that fall
// in unit u, and their readings.
func (s *series) unitBucketsBack(k int, u int32) (n, reads int) {
	for k+n < s.count && unitOf(s.idx[s.ring(k+n)]) == u {
		reads += int(s.reads[s.ring(k+n)])
		n++
	}
	return n, reads
}

// bucketsLevel is the interquartile mean of the levels of the n buckets
// from the k-th newest back.
func (s *series) bucketsLevel(k, n int) float64 {
	s.scratch = s.scratch[:0]
	for j := k; j < k+n; j++ {
		s.scratch = append(s.scratch, s.level(j))
	}
	return trimmedMeanInPlace(s.scratch)
}

// bucketsOwn is the median of the own levels of the n buckets from the
// k-th newest back: a unit's level for the threshold rule, which takes
// medians (see levelOver). A batch job's plateau that covers under half
// the unit leaves it, where an interquartile mean would spread it over
// both units it straddles.
func (s *series) bucketsOwn(k, n int) float64 {
	s.scratch = s.scratch[:0]
	for j := k; j < k+n; j++ {
		s.scratch = append(s.scratch, s.own(j))
	}
	return medianInPlace(s.scratch)
}

// unitView is the units a window reads, newest first: the open unit (the
// buckets newer than the newest unit made) and then the units made.
type unitView struct {
	open                      bool
	openT, openLevel, openOwn float64
	openCount, openReads      int
	total                     int // units in the view
}

// view returns the units whose time lies at from or later.
func (s *series) view(from float64) unitView {
	var v unitView
	if s.count > 0 && (s.units.count == 0 || unitOf(s.idx[s.ring(0)]) != s.units.idx[s.units.ring(0)]) {
		n, reads := s.unitBucketsBack(0, unitOf(s.idx[s.ring(0)]))
		var tsum float64
		for k := range n {
			tsum += s.t(k)
		}
		v.open, v.openT, v.openCount, v.openReads = true, tsum/float64(n), n, reads
		v.openOwn = s.bucketsOwn(0, n)
		v.openLevel = s.bucketsLevel(0, n)
	}
	if v.open && v.openT < from {
		return unitView{}
	}
	made := sort.Search(s.units.count, func(k int) bool { return s.unitT(k) < from })
	v.total = made
	if v.open {
		v.total++
	}
	return v
}

// unitT is the time of the k-th newest unit made: the middle of its span.
func (s *series) unitT(k int) float64 {
	return (float64(s.units.idx[s.units.ring(k)]) + 0.5) * unitBuckets * s.width
}

// at returns the k-th unit of the view: its time, level, own level,
// buckets and readings.
func (s *series) at(v *unitView, k int) (t, level, own float64, count, reads int) {
	if v.open {
		if k == 0 {
			return v.openT, v.openLevel, v.openOwn, v.openCount, v.openReads
		}
		k--
	}
	r := s.units.ring(k)
	level = float64(s.units.levels[r])
	own = level
	if s.units.owns != nil {
		own = float64(s.units.owns[r])
	}
	return s.unitT(k), level, own, int(s.units.counts[r]), int(s.units.reads[r])
}

// unitPoints merges the view's units into points of group units each
// (the newest may hold fewer), oldest first, into the series' point
// buffer. A point's time is its buckets' mean time, and its level their
// mean when it merges under four units: a unit across a gap, or the open
// one, holds fewer buckets and weighs that many. Four units and more take
// the interquartile mean of their levels.
func (s *series) unitPoints(v *unitView, group int) []point {
	s.ptsBuf = s.ptsBuf[:0]
	for end := v.total; end > 0; end -= group {
		start := max(end-group, 0)
		var tsum, ysum, nsum float64
		s.scratch = s.scratch[:0]
		for k := start; k < end; k++ {
			t, level, _, count, _ := s.at(v, k)
			n := float64(count)
			tsum, ysum, nsum = tsum+t*n, ysum+level*n, nsum+n
			s.scratch = append(s.scratch, level)
		}
		y := ysum / nsum
		if end-start >= 4 {
			y = trimmedMeanInPlace(s.scratch)
		}
		s.ptsBuf = append(s.ptsBuf, point{t: tsum / nsum, y: y})
	}
	return s.ptsBuf
}

// unitsOver gathers into s.scratch the own levels of the units whose time
// lies in [from, to], and returns them with the buckets they hold.
func (s *series) unitsOver(from, to float64) (own []float64, buckets int) {
	// The open unit only when the span reaches past the units made (the
	// threshold rule reads an hour a day back), and the made ones from
	// the newest in it, found by bisection.
	var v unitView
	if s.units.count == 0 || to > s.unitT(0)+float64(unitBuckets)*s.width/2 {
		v = s.view(from)
	} else {
		v.total = sort.Search(s.units.count, func(k int) bool { return s.unitT(k) < from })
	}
	k := sort.Search(v.total, func(k int) bool { t, _, _, _, _ := s.at(&v, k); return t <= to })
	s.scratch = s.scratch[:0]
	for ; k < v.total; k++ {
		_, _, o, count, _ := s.at(&v, k)
		s.scratch = append(s.scratch, o)
		buckets += count
	}
	return s.scratch, buckets
}
