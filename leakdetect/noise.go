package leakdetect

import "math"

// noiseScales measures how much a signal's level wanders at time scales
// of 1, 2, 4, ... 64 buckets, from the signal's own recent history (the
// bucket ring must hold at least 64 buckets).
//
// Real memory series are not independent samples: the live heap holds
// between GC cycles, load-driven noise is correlated over minutes, and a
// GC sawtooth that beats against the buckets leaves slow waves. The error
// of a level averaged over g buckets is therefore not the single-bucket
// noise over sqrt(g); it is measured directly as the spread of
// block means of 2^l buckets. Second differences of successive block
// means cancel any steady growth (a leak does not inflate its own noise),
// and dropping the largest tenth of them ignores the odd step.
type noiseScales struct {
	rings   [noiseScaleCount]noiseRing
	closed  int                                 // buckets closed so far
	clipped [1 << (noiseScaleCount - 1)]float32 // ring of clipped levels, by closed
	holding bool                                // far levels are held since one jumped out

	// Derived from the above, not saved: a restored noise refreshes every
	// scale that holds blocks (see variances and refreshDensity).
	cache        [noiseScaleCount]float64 // variance of a block mean, by scale, once valid
	unwidened    [noiseScaleCount]float64 // the same as a mean's, not widened for few blocks
	dirty        uint8                    // bit l: scale l has a block its variance has not seen
	density      [noiseScaleCount]float64
	top          int8 // the largest scale measured, -1 before any
	densityFresh bool

	// hour is the last hour's levels, kept sorted as buckets close (see
	// push). Derived from the series' ring: rebuilt on restore, not saved.
	hour sortedLevels
}

// sortedLevels holds up to clipBuckets levels in increasing order: one
// enters and the oldest leaves at each bucket, a shift of a few words
// instead of sorting the hour again.
type sortedLevels struct {
	vals [clipBuckets]float32
	n    uint8 // a byte: noiseScales then fits its 2 KB size class
}

// add inserts v; when full (remove found nothing to take out, which
// push's order rules out) it keeps what it holds.
func (h *sortedLevels) add(v float32) {
	if int(h.n) == len(h.vals) {
		return
	}
	i := int(h.n)
	for i > 0 && h.vals[i-1] > v {
		h.vals[i] = h.vals[i-1]
		i--
	}
	h.vals[i] = v
	h.n++
}

// remove takes out one value equal to v, if any.
func (h *sortedLevels) remove(v float32) {
	n := int(h.n)
	i := 0
	for i < n && h.vals[i] != v {
		i++
	}
	if i == n {
		return
	}
	copy(h.vals[i:n-1], h.vals[i+1:n])
	h.n--
}

// rebuildHour sorts the newest clipBuckets levels again (after a restore).
func (n *noiseScales) rebuildHour(s *series, level func(s *series, k int) float64) {
	n.hour = sortedLevels{}
	for i := range min(s.count, clipBuckets) {
		n.hour.add(float32(level(s, i)))
	}
}

// noiseRing is one scale's newest block means, float32 like the levels
// they are means of.
type noiseRing struct {
	vals  [noiseRingCap]float32
	head  int
	count int
}

func (r *noiseRing) push(v float64) {
	r.vals[r.head] = float32(v)
	r.head = (r.head + 1) % noiseRingCap
	r.count = min(r.count+1, noiseRingCap)
}

// secondDiffs writes into dst the absolute second differences of the
// block means, oldest first, and returns them (r.count-2 of them) with
// the four largest (see sumSquaresBelowTop), kept as they are written.
func (r *noiseRing) secondDiffs(dst *[noiseRingCap]float64) ([]float64, topFour) {
	// The ring oldest first, in one run: a copy of at most two pieces,
	// then a loop without the wrap's branch.
	var v [noiseRingCap]float32
	first := r.head - r.count
	if first < 0 {
		first += noiseRingCap
	}
	n := copy(v[:r.count], r.vals[first:])
	copy(v[n:r.count], r.vals[:])
	d := dst[:r.count-2]
	var top topFour
	for k := range d {
		a, b, c := float64(v[k]), float64(v[k+1]), float64(v[k+2])
		d[k] = math.Abs(c - 2*b + a)
		top = top.with(d[k])
	}
	return d, top
}

// push adds the block that the newest closed bucket completes at each
// scale: the interquartile mean of its buckets' levels, as a point of a
// window is made, so a batch job's short plateau is trimmed here too.
//
// A batch job that holds memory for minutes each hour, or a burst, is not
// noise around a trend: the robust fit passes over it, and so must the
// noise it is judged by. Levels more than 3 standard deviations from the
// median of the last hour's enter clipped to that bound. A level more
// than 6 out that jumped there from the bucket before, further than
// levels usually move from one bucket to the next, enters as the level
// before it, and so do the levels after it while they stay more than 6
// out (a plateau's rest); the first one nearer is clipped again.
// Clipping alone left a 12-minute plateau at the bound, 4.4 deviations
// up, in every hour's 16-minute blocks, and a slow leak under it found
// late (BENCHMARKS.md, on the hourly batch job). A slow wave (a GC
// sawtooth beating with the buckets) or a live heap that jumps at each
// GC moves that far from bucket to bucket all the time: its levels are
// noise and only clipped. So is a dip or a peak just past the bound: in the first hour,
// with few buckets to judge by, holding one such level of 8% correlated
// noise left the noise looking quiet enough for a false trend finding.
func (n *noiseScales) push(s *series, level func(s *series, k int) float64) {
	n.closed++
	k := min(s.count, clipBuckets)
	if s.count > clipBuckets {
		n.hour.remove(float32(level(s, clipBuckets)))
	}
	n.hour.add(float32(level(s, 0)))
	med, mad := spreadOfSorted(n.hour.vals[:n.hour.n])
	spread := 3 * madSD * mad
	v := level(s, 0)
	dev := math.Abs(v - med)
	afterGap := s.count < 2 || s.t(0)-s.t(1) > 1.5*s.width
	switch {
	case dev <= spread:
		n.holding = false
	case dev > 2*spread && !afterGap && (n.holding || s.jumped(k, spread, level)):
		n.holding = true
		v = float64(n.clipped[(n.closed-1)%len(n.clipped)])
	default:
		n.holding = false
		v = min(max(v, med-spread), med+spread)
	}
	n.clipped[n.closed%len(n.clipped)] = float32(v)
	for l := range noiseScaleCount {
		size := 1 << l
		if n.closed&(size-1) != 0 || n.closed < size { // a mask: size is a power of two
			continue
		}
		s.scratch = s.scratch[:0]
		for i := range size {
			s.scratch = append(s.scratch, float64(n.clipped[(n.closed-i)%len(n.clipped)]))
		}
		n.rings[l].push(trimmedMeanInPlace(s.scratch))
		n.dirty |= 1 << l
	}
}

// jumped reports whether the newest level moved from the one before by
// more than spread and more than 3 standard deviations of the moves
// between neighbouring levels of the newest k buckets.
func (s *series) jumped(k int, spread float64, level func(s *series, k int) float64) bool {
	move := math.Abs(level(s, 0) - level(s, 1))
	if move <= spread {
		return false
	}
	s.scratch = s.scratch[:0]
	for i := 1; i < k; i++ {
		s.scratch = append(s.scratch, math.Abs(level(s, i-1)-level(s, i)))
	}
	return move > 3*madSD*medianInPlace(s.scratch)
}

// madSD is a normal's standard deviation over its median absolute
// deviation.
const madSD = 1.4826

// variances refreshes the variance of a block mean at each scale that
// gained a block since: scale l gains one every 2^l buckets, so most
// buckets refresh one or two scales, not all seven.
func (n *noiseScales) variances() {
	if n == nil || n.dirty == 0 {
		return // a signal not observed yet, or nothing new
	}
	for l := range n.rings {
		if n.dirty&(1<<l) == 0 {
			continue
		}
		n.dirty &^= 1 << l
		n.densityFresh = false
		if !n.valid(l) {
			continue
		}
		r := &n.rings[l]
		var diffs [noiseRingCap]float64
		d, top := r.secondDiffs(&diffs)
		// A second difference of independent block means has 6 times
		// their variance. The mean square of all but the largest tenth
		// (over 0.623, what that trimming leaves of a normal's): a leak
		// that starts or a step leaves one large difference per scale
		// that would otherwise count as noise, while a median would miss
		// the jumps of a live heap held between GC cycles. Few blocks give
		// a rough estimate: it is widened so that a low draw does not pass
		// for quiet noise (second differences overlap, so they hold fewer
		// independent values than they number).
		drop, trim := len(d)/10, 1.0
		if drop > 0 {
			trim = 0.623
		}
		variance := sumSquaresBelowTop(d, top, drop) / float64(len(d)-drop) / trim / 6
		n.cache[l] = variance * (1 + 4/float64(len(d)))
		// How the noise grows with the scale is read without the widening
		// (larger scales have fewer blocks, so more of it) and without
		// what the interquartile mean costs blocks of 4 or more on normal
		// noise: white noise must not look as if it grew.
		if l >= 2 {
			variance /= iqmVariance
		}
		n.unwidened[l] = variance

	}
}

// topFour holds the four largest of the values it was given, as sort
// keys, largest first: integer max and min in registers take no branch,
// where noise would make any branch on the values a coin toss.
type topFour struct{ k0, k1, k2, k3 uint64 }

// with is t given f as well.
func (t topFour) with(f float64) topFour {
	x := sortKey(f)
	t.k0, x = max(t.k0, x), min(t.k0, x)
	t.k1, x = max(t.k1, x), min(t.k1, x)
	t.k2, x = max(t.k2, x), min(t.k2, x)
	t.k3 = max(t.k3, x)
	return t
}

// sumSquaresBelowTop is the sum of the squares of d but its drop largest
// values (at most four; of equal ones the first), given top, d's four
// largest. The noise refreshes a scale or two
// of most series at every bucket: the sum skips them without branching
// on the values, four sums side by side so that each addition need not
// wait on the one before. The order of the sums is fixed by d's length
// alone: the same blocks give the same variance however the series got
// there.
func sumSquaresBelowTop(d []float64, top topFour, drop int) float64 {
	th, ties := uint64(math.MaxUint64), 0 // keys from th up are left out, ties of them equal to it
	if drop > 0 {
		keys := [...]uint64{top.k0, top.k1, top.k2, top.k3}
		th = keys[drop-1]
		for _, x := range keys[:drop] {
			if x == th {
				ties++
			}
		}
	}
	sq := func(f float64) float64 {
		if x := sortKey(f); x >= th && (x > th || ties > 0) {
			if x == th {
				ties--
			}
			return 0
		}
		return f * f
	}
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(d); i += 4 {
		s0 += sq(d[i])
		s1 += sq(d[i+1])
		s2 += sq(d[i+2])
		s3 += sq(d[i+3])
	}
	for ; i < len(d); i++ {
		s0 += sq(d[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sumSquaresBelowTop leaves out at most the four largest.
const _ = uint(4 - noiseRingCap/10)

// iqmVariance is the variance of the interquartile mean of 4 or more
// independent normal values over that of their mean (1.19, measured).
const iqmVariance = 1.19

// measured reports whether blocks of about g buckets have been measured.
func (n *noiseScales) measured(g int) bool {
	if n == nil {
		return false
	}
	l := 0
	for l+1 < noiseScaleCount && 1<<(l+1) <= g {
		l++
	}
	return n.valid(l)
}

// valid reports whether scale l holds blocks enough to be measured (its
// cache then holds its variance, once refreshed): it depends only on how
// many it holds, so it is known before the variances are refreshed.
func (n *noiseScales) valid(l int) bool { return n.rings[l].count >= noiseMinDiffs+2 }

// known reports whether a mean over g buckets has a variance that
// pointVariance gives and that is measured at its scale, without
// refreshing the variances: two scales measured (the larger ones fill
// later, so the second), and g's.
func (n *noiseScales) known(g int) bool {
	return n != nil && n.valid(1) && n.measured(g)
}

// pointVariance returns the variance of a mean over g buckets. Noise
// correlated over longer than g buckets makes neighbouring points agree
// and a fitted slope look surer than it is; the larger scales show it, so
// the variance is the largest that blocks from g buckets to the
// window's span imply (each scaled to g buckets), from the densities
// (see refreshDensity). ok is false before two scales are measured.
func (n *noiseScales) pointVariance(g, span int) (v float64, ok bool) {
	if n == nil {
		return 0, false
	}
	n.variances()
	if !n.densityFresh {
		n.refreshDensity()
	}
	top := int(n.top)
	if top < 1 {
		return 0, false // one scale cannot tell how the noise is correlated
	}
	lo := 0
	for lo+1 < noiseScaleCount && 1<<(lo+1) <= g {
		lo++
	}
	// Blocks longer than the window do not move its slope much. In the
	// first hour the scale that covers the window counts too: noise
	// correlated over about the window's length moves its slope as much
	// as a trend would, and nothing measured yet says it is not there.
	reach := span
	if top < 2 {
		reach = 2*span - 1
	}
	for l := lo; l < noiseScaleCount && (l == lo || 1<<l <= reach); l++ {
		if n.valid(l) || l > top {
			v = max(v, n.density[l]/float64(g))
		}
	}
	return v, true
}

// refreshDensity computes density[l], the variance of a block mean at
// scale l times its length: the long-run variance per bucket that scale
// measures, for every scale, once the variances change (every window's
// point variance reads them). Scales the history is still too short for
// are extrapolated (see extrapolate), and the 8- and 16-minute scales'
// first estimates are held up towards what the scales beneath them
// implied.
func (n *noiseScales) refreshDensity() {
	n.densityFresh = true
	n.top = -1
	n.density = [noiseScaleCount]float64{}
	for l := range noiseScaleCount {
		if n.valid(l) {
			n.density[l], n.top = n.cache[l]*float64(int(1)<<l), int8(l)
		}
	}
	top := int(n.top)
	if top < 1 {
		return
	}
	n.extrapolate(&n.density, top)
	// A scale first measured from few blocks can read far below what it
	// will (second differences of 6 blocks of noise correlated over 10
	// minutes read under a seventh of its variance now and then), and
	// it then takes over from an extrapolation that had it right; flat,
	// correlated noise drew false alarms just after the 8- or 16-minute
	// scale was first measured (BENCHMARKS.md, "A fresh scale held up").
	// So those scales' first estimates are held up to what the scales
	// beneath them implied, by a weight that fades out as their
	// differences reach freshDiffs. Later scales are not: held, they made
	// leaks of about 1 MB/h found later in their longest windows.
	if d := n.rings[top].count - 2; d < freshDiffs[top] {
		// extrapolate overwrites every scale above the top it is given.
		below := n.density
		n.extrapolate(&below, top-1)
		w := float64(freshDiffs[top]-d) / float64(freshDiffs[top]-noiseMinDiffs)
		if held := w * below[top]; held > n.density[top] {
			n.density[top] = held
			n.extrapolate(&n.density, top)
		}
	}
}

// extrapolate fills density beyond top, the largest scale measured.
//
// Two scales (the first hour) tell little of how far the correlation
// reaches: a live heap held between GC cycles and load correlated over
// minutes can look white at 2 and 4 minutes. Assume the worst, doubling
// a scale up to youngMost times the largest measured density. Later the
// growth between the largest two measured scales goes on, up to three
// times: an estimate from few blocks is too rough to carry further. With
// three scales (the second hour) the growth is the mean over all three:
// the second differences of blocks shorter than the noise's correlation
// hide most of it, so 4- and 8-minute blocks of noise correlated over 10
// minutes both look flat, while the 2-minute scale, which hides more,
// shows the rise.
func (n *noiseScales) extrapolate(density *[noiseScaleCount]float64, top int) {
	growth, most := 2.0, youngMost
	switch {
	case top == 2 && n.unwidened[0] > 0:
		growth = min(max(math.Sqrt(4*n.unwidened[2]/n.unwidened[0]), 1), 2)
		most = 3
	case top > 2 && n.unwidened[top-1] > 0:
		growth = min(max(2*n.unwidened[top]/n.unwidened[top-1], 1), 2)
		most = 3
	}
	base := 0.0
	for l := range top + 1 {
		base = max(base, density[l])
	}
	for l := top + 1; l < noiseScaleCount; l++ {
		density[l] = min(max(density[l-1], base)*growth, most*base)
	}
}
