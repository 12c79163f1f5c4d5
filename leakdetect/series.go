package leakdetect

import (
	"math"
	"sort"
)

// series is one signal's history: the open bucket, a ring of closed ones,
// and its noise at several time scales.
type series struct {
	// open bucket
	openIdx  float64 // grid index of the open bucket
	openVals []float64
	prevVals []float64 // RSS: the newest samples of the buckets before (see openLevel)
	openNew  int       // the open bucket's readings (see reads)
	last     float64   // the newest sample
	width    float64   // bucket width, hours

	// The closed buckets, a ring kept as parallel arrays (8 or 12 bytes
	// and one a bucket, where a struct would take 16 and one). Levels are
	// kept as float32: seven significant digits, 65 KB at a level of
	// 1 TB, far finer than the least rate a leak of it needs (see
	// floorBase) and than any memory series' noise.
	// idx[i] is bucket i's index on the grid of bucket widths, its time
	// (idx + 0.5) widths; levels[i] its level (see openLevel); owns[i] the
	// level of its own samples, which differs from levels[i] only when an
	// RSS bucket pooled the samples of the buckets before (nil until one
	// does: see startPooling; other signals never pool). The threshold rule's 30-minute medians
	// use the own levels, which a batch job's 12-minute plateau must not
	// reach by spreading into the buckets after it. reads[i] counts the
	// samples of bucket i that differ from the one before (up to 255): for
	// a live heap held between GC cycles, the cycles that ended in it.
	idx    []int32
	levels []float32
	owns   []float32
	reads  []uint8
	head   int // next write
	count  int
	// history is the ring's length, made at the first value (alloc).
	history int
	// units is the history older than the ring at a coarser resolution
	// (empty when the ring holds all the options need), made with it.
	units    units
	unitsCap int

	noise    *noiseScales // of the levels, made at the first value (alloc)
	ownNoise *noiseScales // of the buckets' own levels, made once pooling

	lastActive  float64
	lastFinding float64
	rate        float64
	// The rate gauge's window when its slope is left to be fitted on
	// read (see Analyzer.settleRate, and ratePending): the window's
	// index, the time it was evaluated at and the buckets closed then.
	rateWindow int
	rateAt     float64
	rateClosed int     // noise.closed then: buckets closed since are left out
	leakRate   float64 // the rate now of the last leak seen, per hour

	// The flags, together so that they pack.
	hasOpen     bool // a bucket is open
	sawtooth    bool // levels by the middle of the range (RSS)
	pooling     bool // RSS: a bucket's level pooled the buckets' before
	suspected   bool
	leakSeen    bool // this bucket's shorter windows showed a leak
	hasFinding  bool
	ratePending bool // the rate gauge's slope is to be fitted when read

	// The working buffers, one set shared by an analyzer's signals for
	// the length of a call (see Analyzer.borrow; they are evaluated one
	// at a time, and no method holds a buffer across a call into another
	// signal and reads it after). nil between calls.
	*buffers
}

// buffers is working memory: scratch for medians and means, and the
// points of the window being fitted. A set is borrowed from bufferPool
// for a call and given back after it, so a fleet of analyzers holds about
// one set per goroutine that calls them, not one each.
type buffers struct {
	scratch []float64
	ptsBuf  []point
	pooled  []float64 // a sparse RSS bucket's samples with the newest before (see openLevel)
}

func (s *series) init(history, unitsCap int, sawtooth bool) {
	s.history, s.unitsCap, s.sawtooth = history, unitsCap, sawtooth
}

// alloc makes the ring, at the signal's first value: a
// signal never observed (a process watched from outside has no live heap)
// holds none.
func (s *series) alloc() {
	s.idx = make([]int32, s.history)
	s.levels = make([]float32, s.history)
	s.reads = make([]uint8, s.history)
	if s.unitsCap > 0 {
		s.units = newUnits(s.unitsCap, s.sawtooth)
	}
	if s.noise == nil {
		s.noise = new(noiseScales)
	}
	if s.openVals == nil {
		// As many samples as 10-s sampling puts in a bucket; faster
		// sampling grows it, up to maxBucketSamples.
		s.openVals = make([]float64, 0, 16)
	}
	if s.sawtooth {
		if s.prevVals == nil {
			s.prevVals = make([]float64, 0, sawtoothSamples)
		}
	}
}

// add puts a value in the open bucket and reports whether that closed the
// previous one. Buckets sit on a fixed grid of width hours, so a periodic
// signal (GC sawtooth) is cut the same way in every bucket.
func (s *series) add(t, v, width float64) bool {
	if s.levels == nil {
		s.alloc()
	}
	closed := false
	s.width = width
	idx := math.Floor(t / width)
	if s.hasOpen && idx != s.openIdx {
		s.close(width)
		closed = true
		if idx != s.openIdx+1 {
			s.prevVals = s.prevVals[:0] // a gap: too old to pool
		}
	}
	if !s.hasOpen {
		s.openIdx, s.hasOpen = idx, true
		s.openVals = s.openVals[:0]
	}
	if len(s.openVals) < maxBucketSamples {
		s.openVals = append(s.openVals, v)
	}
	if v != s.last {
		s.openNew++
	}
	s.last = v
	return closed
}

func (s *series) close(width float64) {
	level, own := s.openLevel()
	if !s.pooling && own != level {
		s.startPooling()
	}
	s.idx[s.head], s.levels[s.head] = int32(s.openIdx), float32(level)
	if s.owns != nil {
		s.owns[s.head] = float32(own)
	}
	s.reads[s.head] = uint8(min(s.openNew, math.MaxUint8))
	s.openNew = 0
	s.head = (s.head + 1) % len(s.levels)
	if s.count < len(s.levels) {
		s.count++
	}
	s.hasOpen = false
	s.closeUnit()
	s.keepNewest()
	s.noise.push(s, (*series).level)
	if s.pooling {
		s.ownNoise.push(s, (*series).own)
	}
}

// startPooling makes the buckets' own levels and their noise when a
// bucket's level first pools the buckets before. Until now every bucket's
// own level was its level: the own levels so far are the levels, and
// their noise the noise measured so far.
func (s *series) startPooling() {
	s.pooling = true
	s.ownNoise = new(noiseScales)
	*s.ownNoise = *s.noise
	s.owns = make([]float32, len(s.levels))
	copy(s.owns, s.levels)
}

// newest is the level of the newest closed buckets (up to 5), 0 before
// any.
func (s *series) newest() float64 {
	s.scratch = s.scratch[:0]
	for k := 0; k < min(s.count, 5); k++ {
		s.scratch = append(s.scratch, s.level(k))
	}
	return trimmedMeanInPlace(s.scratch)
}

// ring is the index in the ring of the k-th newest closed bucket.
func (s *series) ring(k int) int {
	// k < count <= len: one wrap at most, and no division (this is read
	// for every bucket of every window).
	i := s.head - 1 - k
	if i < 0 {
		i += len(s.levels)
	}
	return i
}

// t is the time of the k-th newest closed bucket (0 the newest): the
// middle of its span, hours since the first sample.
func (s *series) t(k int) float64 { return (float64(s.idx[s.ring(k)]) + 0.5) * s.width }

// level is the k-th newest closed bucket's level.
func (s *series) level(k int) float64 { return float64(s.levels[s.ring(k)]) }

// own is the level of the k-th newest closed bucket's own samples.
func (s *series) own(k int) float64 {
	if s.owns == nil {
		return float64(s.levels[s.ring(k)])
	}
	return float64(s.owns[s.ring(k)])
}

// covers reports whether closed buckets stand for the span from to to.
func (s *series) covers(from, to float64) bool {
	_, n := s.ownOver(from, to)
	return n > 0 && s.fills(n, from, to)
}

// ownOver gathers into s.scratch the own levels of the span from to to,
// and returns them with the buckets they stand for: the buckets' own
// levels while the ring reaches back to from, the units' beyond it.
func (s *series) ownOver(from, to float64) (own []float64, buckets int) {
	if s.units.count > 0 && s.count == len(s.levels) && s.t(s.count-1) > from {
		return s.unitsOver(from, to)
	}
	own = s.ownLevels(from, to)
	return own, len(own)
}

// fills reports whether n buckets are enough to stand for the span from
// to to: nine in ten of those it holds.
func (s *series) fills(n int, from, to float64) bool {
	return s.width <= 0 || float64(n) >= 0.9*(to-from)/s.width
}

// ownLevels gathers into s.scratch the own levels of the buckets whose
// time lies in [from, to].
func (s *series) ownLevels(from, to float64) []float64 {
	s.scratch = s.scratch[:0]
	// Buckets are newest first in k and their times fall with k: skip
	// those after to by bisection (the threshold reads an hour a day
	// back) instead of walking the day between.
	k := sort.Search(s.count, func(k int) bool { return s.t(k) <= to })
	for ; k < s.count && s.t(k) >= from; k++ {
		s.scratch = append(s.scratch, s.own(k))
	}
	return s.scratch
}

// levelOver is the median of the buckets' own levels whose time lies in
// [from, to], with its standard error from the signal's noise at that
// scale (see noiseScales); the error is infinite until that scale has been
// measured, not extrapolated.
func (s *series) levelOver(from, to float64) (level, se float64) {
	level, n, ok := s.medianOver(from, to)
	if !ok {
		return level, math.Inf(1)
	}
	return level, s.levelError(n)
}

// levelError is the standard error of a median of n buckets' own levels,
// infinite until the noise at that scale has been measured.
func (s *series) levelError(n int) float64 {
	noise := s.levelNoise()
	if !noise.known(n) {
		return math.Inf(1)
	}
	// Hours may lie between two levels compared: every scale counts, the
	// single bucket's too. A median does not average: a GC sawtooth of
	// twice the bucket's width makes every other bucket's level high, and
	// the median of an odd count of them is the high or the low level in
	// turn, a jump that blocks of several buckets average away and only
	// the noise of single buckets shows.
	v, _ := noise.pointVariance(1, math.MaxInt32)
	return 1.25 * math.Sqrt(v/float64(n)) // a median of normal noise: sqrt(pi/2) the error of a mean
}

// levelKnown is levelOver's level, and whether its error is finite,
// without the error: the noise's variances are then not refreshed (the
// threshold rule asks this at every bucket, and only a level that grew
// needs its error).
func (s *series) levelKnown(from, to float64) (level float64, known bool) {
	level, n, ok := s.medianOver(from, to)
	return level, ok && s.levelNoise().known(n)
}

// medianOver is the median of the buckets' own levels whose time lies in
// [from, to], the buckets they stand for, and whether those are enough
// to stand for the span. The median: a batch job holding memory for 12
// of the 30 minutes moves an interquartile mean, not a median.
func (s *series) medianOver(from, to float64) (level float64, n int, ok bool) {
	own, n := s.ownOver(from, to)
	if n == 0 {
		return 0, 0, false
	}
	// Too few buckets to stand for the span is a gap.
	return medianInPlace(own), n, s.fills(n, from, to)
}

// levelNoise is the noise of the levels levelOver compares: RSS levels
// that pool the buckets before wander less than the buckets' own.
func (s *series) levelNoise() *noiseScales {
	if s.pooling {
		return s.ownNoise
	}
	return s.noise
}

// point is a window's unit of fitting: consecutive buckets merged.
type point struct {
	t, y float64
}

// window is the points a window is fitted on and what they stand for.
type window struct {
	pts   []point
	group int // buckets a point stands for
	n     int // buckets in the window
	// A window longer than the ring is fitted on units (units > 0):
	// unitGroup of them a point, from view.
	units, unitGroup int
	view             unitView
}

// points merges the history since from into at most maxPoints points,
// oldest first: of buckets, or of units when coarse. The points are in
// the series' one point buffer, which the next call reuses.
func (s *series) points(from float64, maxPoints int, coarse bool) window {
	if !coarse {
		return s.finePoints(0, from, maxPoints)
	}
	w := window{view: s.view(from)}
	w.units = w.view.total
	w.unitGroup = max((w.units+maxPoints-1)/maxPoints, 1)
	w.group = w.unitGroup * unitBuckets
	for k := range w.units {
		_, _, _, count, _ := s.at(&w.view, k)
		w.n += count
	}
	w.pts = s.unitPoints(&w.view, w.unitGroup)
	return w
}

// finePoints merges the buckets since from into at most maxPoints points,
// leaving out the newest skip buckets: the window as it was skip buckets
// ago, when it was evaluated.
func (s *series) finePoints(skip int, from float64, maxPoints int) window {
	n := s.since(skip, from)
	group := max((n+maxPoints-1)/maxPoints, 1)
	return window{pts: s.grouped(skip, n, group), group: group, n: n}
}

// regroup merges w's history into points of one bucket (or unit) more
// each, and returns them with the buckets each stands for.
func (s *series) regroup(w *window) (pts []point, group int) {
	if w.units == 0 {
		return s.grouped(0, w.n, w.group+1), w.group + 1
	}
	return s.unitPoints(&w.view, w.unitGroup+1), (w.unitGroup + 1) * unitBuckets
}

// windowReadings counts the distinct readings in w.
func (s *series) windowReadings(w *window) int {
	if w.units == 0 {
		return s.readings(w.n)
	}
	r := 0
	for k := range w.units {
		_, _, _, _, reads := s.at(&w.view, k)
		r += reads
	}
	return r
}

// readings counts the distinct readings in the newest n buckets.
func (s *series) readings(n int) int {
	r := 0
	for i, k := s.ring(0), 0; k < n; k++ {
		r += int(s.reads[i])
		if i--; i < 0 {
			i += len(s.reads)
		}
	}
	return r
}

// since counts the closed buckets whose time is from or later, but the
// newest skip. Times fall with k: without a gap the count follows from the
// newest one's time, checked at its edge; otherwise by bisection.
func (s *series) since(skip int, from float64) int {
	most := s.count - skip
	if most <= 0 {
		return 0
	}
	if n := int((s.t(skip)-from)/s.width) + 1; n >= 0 && n <= most &&
		(n == 0 || s.t(skip+n-1) >= from) && (n == most || s.t(skip+n) < from) {
		return n
	}
	return sort.Search(most, func(n int) bool { return s.t(skip+n) < from })
}

// grouped merges the newest n buckets after the newest skip into points of group buckets each
// (the newest may hold fewer), oldest first, into the series' one point
// buffer: points from an earlier call are overwritten. A window usually
// spans one bucket more than a multiple of its group, so its newest point
// is often a single bucket. Sharing the buckets out evenly instead was
// measured (BENCHMARKS.md): no false alarm fewer, slow leaks found later.
func (s *series) grouped(skip, n, group int) []point {
	s.ptsBuf = s.ptsBuf[:0]
	for end := skip + n; end > skip; end -= group {
		s.ptsBuf = append(s.ptsBuf, s.merged(max(end-group, skip), end))
	}
	return s.ptsBuf
}

// merged is the point of the buckets start to end-1 (k, newest first):
// their mean time and the interquartile mean of their levels. It walks
// the ring directly, and takes the mean of fewer than 8 levels from their
// sum, lowest and highest as they are read (see trimmedMeanFew): a
// window's points are most of an evaluation's work. The two walks are
// kept apart: one loop choosing per bucket measured 5-8% slower at a
// 1-minute step.
func (s *series) merged(start, end int) point {
	m := end - start
	i := s.ring(start)
	var tsum float64
	if m >= 8 {
		s.scratch = s.scratch[:0]
		for range m {
			tsum += (float64(s.idx[i]) + 0.5) * s.width
			s.scratch = append(s.scratch, float64(s.levels[i]))
			if i--; i < 0 {
				i += len(s.levels)
			}
		}
		return point{t: tsum / float64(m), y: trimmedMeanInPlace(s.scratch)}
	}
	// The least and most level as bits: levels are positive float32s,
	// which order as their bits do, and integer min and max take no
	// branch (noise would mispredict one) and wait on no float unit.
	var sum float64
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for range m {
		tsum += (float64(s.idx[i]) + 0.5) * s.width
		sum += float64(s.levels[i]) // from 0, as a sum of them in order does
		b := math.Float32bits(s.levels[i])
		lo, hi = min(lo, b), max(hi, b)
		if i--; i < 0 {
			i += len(s.levels)
		}
	}
	least, most := float64(math.Float32frombits(lo)), float64(math.Float32frombits(hi))
	return point{t: tsum / float64(m), y: trimmedMeanFew(sum, least, most, m)}
}
