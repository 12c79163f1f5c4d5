package baseline

import (
	"math"
	"slices"
	"time"
)

// Sample is one reading of the process's memory.
type Sample struct {
	Time       time.Time
	HeapLive   uint64 // bytes of live heap marked by the most recent GC (/gc/heap/live:bytes)
	RSS        uint64 // resident set size, bytes
	Goroutines int64
}

// Signals a Finding can name.
const (
	SignalHeapLive   = "heap_live"
	SignalRSS        = "rss"
	SignalGoroutines = "goroutines"
)

// Reasons a Finding can give.
const (
	// ReasonTrend: the signal has grown steadily over Window, at Rate.
	ReasonTrend = "trend"
	// ReasonThreshold: RSS has grown more than the fixed threshold over
	// the baseline taken when warm-up ended (the fixed rule, judged on a
	// robust level).
	ReasonThreshold = "threshold"
)

// Finding is a suspected leak. Sizes are bytes for heap_live and rss,
// counts for goroutines.
type Finding struct {
	Signal string    // "heap_live", "rss" or "goroutines"
	Time   time.Time // Time of the sample that raised it
	Reason string    // "trend" or "threshold"

	// Rate is the fitted growth per hour over Window.
	Rate int64
	// Growth is how much the signal grew: over Window for a trend, since
	// the baseline for a threshold.
	Growth int64
	// Baseline is the level growth is measured from: the fitted level at
	// the start of Window for a trend, the post-warm-up baseline for a
	// threshold.
	Baseline int64
	// Current is the robust level now.
	Current int64
	// Window is the span of history the finding rests on.
	Window time.Duration
	// Significance is how many standard errors the fitted rate is above
	// zero (trend findings; 0 for threshold findings).
	Significance float64
}

// Analyzer decides, sample by sample, whether memory is leaking. It has no
// clock, goroutine or I/O: feed it samples in time order (from a live
// process or a recording) and it returns what each one raises. It is not
// safe for concurrent use.
//
// How it decides: each signal's samples are reduced to the median of every
// 2-minute bucket (noise and GC sawtooth fall away). Over windows from 30
// minutes to 24 hours it fits a robust (Theil–Sen) slope through those
// levels and calls it a leak when the slope is fast enough (WithMinRate),
// far outside the noise (WithSignificance standard errors), and present in
// both halves of the window: a warm-up that levels off, a one-time step, a
// batch job that holds memory for a while and a burst of goroutines all
// grow in one half only. RSS growth that the live heap explains is left to
// the heap_live signal. Beside the trend, the fixed threshold
// (WithThreshold) is checked on the 30-minute median of RSS against a
// baseline taken when warm-up ends.
type Analyzer struct {
	cfg      analyzerConfig
	started  bool
	start    time.Time
	last     time.Time
	signals  [signalCount]series
	thresh   thresholdState
	closes   int // buckets closed so far
	nextStep int // next evaluation step for the newest closed bucket
}

const (
	idxHeap = iota
	idxRSS
	idxGoroutines
	signalCount
)

var signalNames = [signalCount]string{SignalHeapLive, SignalRSS, SignalGoroutines}

// NewAnalyzer returns an Analyzer with the first version's defaults.
func NewAnalyzer() *Analyzer {
	cfg := defaultConfig()
	a := &Analyzer{cfg: cfg, nextStep: stepCount}
	for i := range a.signals {
		a.signals[i].init(i, cfg.historyBuckets())
	}
	return a
}

// Observe takes the next sample and returns the findings it raises; none
// most of the time. Samples not later than the previous one are ignored.
func (a *Analyzer) Observe(s Sample) []Finding {
	if a.started && !s.Time.After(a.last) {
		return nil
	}
	if !a.started {
		a.started, a.start = true, s.Time
	}
	a.last = s.Time
	t := s.Time.Sub(a.start).Hours()
	vals := [signalCount]float64{float64(s.HeapLive), float64(s.RSS), float64(s.Goroutines)}
	closed := false
	for i := range a.signals {
		if a.signals[i].add(t, vals[i], a.cfg.bucket.Hours()) {
			closed = true
		}
	}
	var out []Finding
	if closed {
		// Samples so sparse that a bucket closed before the last one's
		// steps ran: finish those first.
		for ; a.nextStep < stepCount; a.nextStep++ {
			out = append(out, a.step(a.nextStep, s.Time, t)...)
		}
		a.closes++
		a.nextStep = 0
	}
	if a.closes > 0 && a.nextStep < stepCount {
		out = append(out, a.step(a.nextStep, s.Time, t)...)
		a.nextStep++
	}
	return out
}

func signalIndex(signal string) int {
	for i, n := range signalNames {
		if n == signal {
			return i
		}
	}
	return -1
}

// evaluate runs the trend and threshold rules after a bucket closed.
func (a *Analyzer) step(k int, now time.Time, t float64) []Finding {
	if k == thresholdStep {
		// The threshold rule speaks for growth the trend has not already
		// reported: a leak found early should not raise a second alarm
		// when it later crosses 100 MB.
		if f, ok := a.threshold(now, t); ok && !a.signals[signalIndex(f.Signal)].suspected {
			return []Finding{f}
		}
		return nil
	}
	s := &a.signals[k]
	f := a.trend(k, t)
	if f.window > 0 {
		s.rate = f.rate
	}
	if !f.leak {
		if s.suspected && t-s.lastActive >= a.cfg.clearAfter.Hours() {
			s.suspected = false
		}
		return nil
	}
	s.lastActive = t
	s.suspected = true
	if s.hasFinding && t-s.lastFinding < a.cfg.cooldown.Hours() {
		return nil
	}
	s.hasFinding, s.lastFinding = true, t
	return []Finding{{
		Signal:       signalNames[k],
		Time:         now,
		Reason:       ReasonTrend,
		Rate:         int64(math.Round(f.rate)),
		Growth:       int64(math.Round(f.rate * f.window)),
		Baseline:     int64(math.Round(f.startLevel)),
		Current:      int64(math.Round(f.startLevel + f.rate*f.window)),
		Window:       time.Duration(f.window * float64(time.Hour)),
		Significance: f.z,
	}}
}

// The evaluation after a bucket closes runs in steps, one per Observe
// call: each signal's trend, then the threshold rule. Spread out, no call
// pays for all of them.
const (
	thresholdStep = signalCount
	stepCount     = signalCount + 1
)

// fit is the outcome of the trend rule for one signal.
type fit struct {
	leak       bool
	rate       float64 // per hour
	window     float64 // hours
	startLevel float64
	z          float64
}

// trend tries each window from the shortest and returns the first that
// shows a leak, or the shortest evaluated fit when none does.
func (a *Analyzer) trend(i int, now float64) fit {
	s := &a.signals[i]
	var first fit
	for wi, w := range a.cfg.windows {
		if w < a.cfg.minWindow[i] {
			continue
		}
		// A window of n buckets fits n/maxPoints buckets to a point; it
		// has news only once a point's worth of buckets arrived, so it is
		// fitted then, each window at its own turn to spread the work.
		if g := int(w/a.cfg.bucket+1) / a.cfg.maxPoints; g > 1 && (a.closes+wi)%g != 0 && first.window != 0 {
			continue
		}
		wh := w.Hours()
		pts := s.points(now-wh, a.cfg.maxPoints, &a.cfg)
		if len(pts) < minPoints || pts[0].t > now-wh*0.9 {
			break // not enough history for this window or any longer one
		}
		r := fitPoints(pts)
		// The fitted level where the window starts, not below the lowest
		// level seen: a line through a live heap that jumps at each GC can
		// start below zero.
		start := math.Max(r.at(pts[0].t), minLevel(pts))
		f := fit{rate: r.slope, window: pts[len(pts)-1].t - pts[0].t, startLevel: start, z: r.z}
		if first.window == 0 {
			first = f
		}
		if !a.isLeak(i, r, pts, now, wh) {
			continue
		}
		f.leak = true
		return f
	}
	return first
}

func minLevel(pts []point) float64 {
	m := pts[0].y
	for _, p := range pts[1:] {
		m = math.Min(m, p.y)
	}
	return m
}

// isLeak applies the decision rule to a window's fit.
func (a *Analyzer) isLeak(i int, r regression, pts []point, now, wh float64) bool {
	c := &a.cfg
	if r.slope < c.minRate[i] || r.z < c.significance {
		return false
	}
	if growth := r.slope * (pts[len(pts)-1].t - pts[0].t); growth < c.minGrowth[i] {
		return false
	}
	// A leak grows in both halves of the window; a warm-up, a step, a batch
	// job's plateau or a burst in one.
	half := len(pts) / 2
	first, second := fitPoints(pts[:half]), fitPoints(pts[half:])
	if first.slope < c.halfFraction*r.slope || second.slope < c.halfFraction*r.slope {
		return false
	}
	// A step (a table loaded once, warm-up ending, a batch plateau) fits two
	// flat levels at least as well as a line; a leak fits the line better.
	if lineCost(pts, r) >= stepFitRatio*stepCost(pts) {
		return false
	}
	if i == idxRSS {
		// RSS swings with GC; a sawtooth whose period beats against the
		// buckets leaves slow waves in their medians that the robust
		// spread ignores and the plain one does not.
		if r.zRMS < c.significance {
			return false
		}
		// RSS that grows with the live heap is the heap's leak, reported
		// as heap_live; rss is for growth the heap does not explain.
		hp := a.signals[idxHeap].points(now-wh, c.maxPoints, c)
		if len(hp) >= minPoints {
			if h := fitPoints(hp); h.slope+2*h.se > heapExplainsRSS*r.slope {
				return false
			}
		}
	}
	return true
}

// stepFitRatio: the line must leave clearly less residual than the best
// single step for the growth to count as a trend.
const stepFitRatio = 0.9

// lineCost is the sum of absolute residuals around the fitted line.
func lineCost(pts []point, r regression) float64 {
	var c float64
	for _, p := range pts {
		c += math.Abs(p.y - r.at(p.t))
	}
	return c
}

// stepCost is the least sum of absolute residuals of a two-level step,
// over every split leaving at least two points on each side.
func stepCost(pts []point) float64 {
	var buf [maxPointsCap]float64
	best := math.Inf(1)
	for k := 2; k <= len(pts)-2; k++ {
		var c float64
		for _, side := range [][]point{pts[:k], pts[k:]} {
			vals := buf[:0]
			for _, p := range side {
				vals = append(vals, p.y)
			}
			m := medianInPlace(vals)
			for _, p := range side {
				c += math.Abs(p.y - m)
			}
		}
		best = math.Min(best, c)
	}
	return best
}

// heapExplainsRSS: RSS runs at 1 to 3 times the live heap, so RSS growth
// with live heap growth of at least a quarter of it is the heap's.
const heapExplainsRSS = 0.25

// thresholdState is the fixed-threshold rule on a robust level.
type thresholdState struct {
	baselineSet   bool
	rssBaseline   float64
	rssBaselineSE float64
	heapBaseline  float64
	fired         bool
	lastFired     float64
}

// threshold checks the fixed rule: RSS (30-minute median) more than the
// threshold over the baseline taken when warm-up ended.
func (a *Analyzer) threshold(now time.Time, t float64) (Finding, bool) {
	if a.cfg.threshold <= 0 {
		return Finding{}, false
	}
	th := &a.thresh
	warm := a.cfg.warmup.Hours()
	lw := a.cfg.levelWindow.Hours()
	if !th.baselineSet {
		if t < warm+lw {
			return Finding{}, false
		}
		th.rssBaseline, th.rssBaselineSE = a.signals[idxRSS].level(warm, warm+lw)
		th.heapBaseline, _ = a.signals[idxHeap].level(warm, warm+lw)
		th.baselineSet = true
	}
	rss, se := a.signals[idxRSS].level(t-lw, t)
	growth := rss - th.rssBaseline
	// The level must be over the threshold and the growth beyond doubt: a
	// GC sawtooth makes even a 30-minute level wander.
	if growth < float64(a.cfg.threshold) || growth < thresholdZ*math.Hypot(se, th.rssBaselineSE) {
		return Finding{}, false
	}
	if th.fired && t-th.lastFired < a.cfg.cooldown.Hours() {
		return Finding{}, false
	}
	th.fired, th.lastFired = true, t
	since := t - warm - lw/2
	f := Finding{
		Signal:   SignalRSS,
		Time:     now,
		Reason:   ReasonThreshold,
		Rate:     int64(math.Round(growth / since)),
		Growth:   int64(math.Round(growth)),
		Baseline: int64(math.Round(th.rssBaseline)),
		Current:  int64(math.Round(rss)),
		Window:   time.Duration(since * float64(time.Hour)),
	}
	// RSS runs at some multiple of the live heap; when the heap's growth
	// times that multiple explains at least half of RSS's, the heap leaks.
	heap, _ := a.signals[idxHeap].level(t-lw, t)
	ratio := 1.0
	if th.heapBaseline > 0 {
		ratio = math.Max(1, th.rssBaseline/th.heapBaseline)
	}
	if (heap-th.heapBaseline)*ratio >= 0.5*growth {
		f.Signal = SignalHeapLive
	}
	return f, true
}

// thresholdZ is how many standard errors the threshold rule's growth must
// be beyond zero.
const thresholdZ = 4

// series is one signal's history: the open bucket and a ring of closed
// ones.
type series struct {
	// open bucket
	openIdx   float64 // grid index of the open bucket
	openVals  []float64
	openDiffs []float64 // |successive differences| of raw samples
	prev      float64
	hasPrev   bool
	hasOpen   bool

	buckets []bucket // ring
	head    int      // next write
	count   int

	suspected   bool
	lastActive  float64
	hasFinding  bool
	lastFinding float64
	rate        float64

	noise float64 // pooled spread of single samples

	scratch []float64
	ptsBuf  []point
}

// bucket is a closed bucket: the median of its samples, their spread and
// count, at its mid time (hours since the first sample).
type bucket struct {
	t     float64
	med   float64
	sigma float64 // spread of single samples
	n     int32   // samples
	diffs int32   // successive differences behind sigma
}

const maxBucketSamples = 64

func (s *series) init(_ int, history int) {
	s.buckets = make([]bucket, history)
	s.openVals = make([]float64, 0, maxBucketSamples)
	s.openDiffs = make([]float64, 0, maxBucketSamples)
	s.scratch = make([]float64, 0, 2*maxBucketSamples)
}

// add puts a value in the open bucket and reports whether that closed the
// previous one. Buckets sit on a fixed grid of width hours, so a periodic
// signal (GC sawtooth) is cut the same way in every bucket.
func (s *series) add(t, v, width float64) bool {
	closed := false
	idx := math.Floor(t / width)
	if s.hasOpen && idx != s.openIdx {
		s.close(width)
		closed = true
	}
	if !s.hasOpen {
		s.openIdx, s.hasOpen = idx, true
		s.openVals = s.openVals[:0]
		s.openDiffs = s.openDiffs[:0]
	}
	if len(s.openVals) < maxBucketSamples {
		s.openVals = append(s.openVals, v)
		if s.hasPrev {
			s.openDiffs = append(s.openDiffs, math.Abs(v-s.prev))
		}
	}
	s.prev, s.hasPrev = v, true
	return closed
}

func (s *series) close(width float64) {
	med := trimmedMean(s.openVals, &s.scratch)
	// The noise of single samples, from successive differences: a
	// difference of two independent samples has sqrt(2) times their
	// spread, and a slow trend hardly shows in it.
	sigma := 0.0
	if len(s.openDiffs) > 0 {
		sigma = 1.4826 * median(s.openDiffs, &s.scratch) / math.Sqrt2
	}
	s.buckets[s.head] = bucket{t: (s.openIdx + 0.5) * width, med: med, sigma: sigma, n: int32(len(s.openVals)), diffs: int32(len(s.openDiffs))}
	s.head = (s.head + 1) % len(s.buckets)
	if s.count < len(s.buckets) {
		s.count++
	}
	s.hasOpen = false
	s.updateNoise()
}

// at returns the k-th closed bucket counting back from the newest (0).
func (s *series) at(k int) *bucket {
	return &s.buckets[(s.head-1-k+2*len(s.buckets))%len(s.buckets)]
}

// level is the interquartile mean of the bucket levels whose time lies in
// [from, to], with its standard error from their spread.
func (s *series) level(from, to float64) (level, se float64) {
	s.scratch = s.scratch[:0]
	for k := 0; k < s.count; k++ {
		b := s.at(k)
		if b.t < from {
			break
		}
		if b.t <= to {
			s.scratch = append(s.scratch, b.med)
		}
	}
	n := len(s.scratch)
	if n == 0 {
		return 0, math.Inf(1)
	}
	level = trimmedMeanInPlace(s.scratch) // sorts
	for i, v := range s.scratch {
		s.scratch[i] = math.Abs(v - level)
	}
	spread := 1.4826 * medianInPlace(s.scratch)
	return level, 1.1 * spread / math.Sqrt(float64(n))
}

// point is a window's unit of fitting: consecutive buckets merged.
type point struct {
	t, y float64
	se   float64 // standard error of y from the samples' spread
}

const minPoints = 6

// points merges the buckets since from into at most maxPoints points, oldest
// first. The slice is reused by the next call.
func (s *series) points(from float64, maxPoints int, cfg *analyzerConfig) []point {
	n := 0
	for n < s.count && s.at(n).t >= from {
		n++
	}
	s.ptsBuf = s.ptsBuf[:0]
	if n == 0 {
		return s.ptsBuf
	}
	group := (n + maxPoints - 1) / maxPoints
	sigma := s.noise
	for end := n; end > 0; end -= group {
		start := max(end-group, 0)
		var tsum float64
		var samples int32
		s.scratch = s.scratch[:0]
		for k := start; k < end; k++ {
			b := s.at(k)
			tsum += b.t
			samples += b.n
			s.scratch = append(s.scratch, b.med)
		}
		y := trimmedMeanInPlace(s.scratch)
		// An interquartile mean has about 1.1 sigma/sqrt(n) of error on
		// normal noise; trimming twice (samples, then buckets) a bit more.
		se := 1.1 * sigma / math.Sqrt(float64(max(samples, 1)))
		if end-start > 2 {
			se *= 1.1
		}
		s.ptsBuf = append(s.ptsBuf, point{t: tsum / float64(end-start), y: y, se: se})
	}
	return s.ptsBuf
}

// noiseBuckets is how many recent buckets the sample noise is pooled over.
const noiseBuckets = 30

// updateNoise pools the sample noise as the median spread of the newest
// buckets that had one; it changes slowly, so once per bucket is enough.
func (s *series) updateNoise() {
	s.scratch = s.scratch[:0]
	for k := 0; k < s.count && k < noiseBuckets; k++ {
		if b := s.at(k); b.diffs > 0 {
			s.scratch = append(s.scratch, b.sigma)
		}
	}
	if len(s.scratch) > 0 {
		s.noise = medianInPlace(s.scratch)
	}
}

// regression is a robust line through points with its significance.
type regression struct {
	slope, intercept float64
	// z is the slope over its standard error, from the larger of the
	// robust residual spread and the points' own error.
	z float64
	// zRMS is the same from the plain root mean square of the residuals,
	// which a batch job's plateau or a burst inflates.
	zRMS float64
	// se is the slope's standard error behind z.
	se float64
}

func (r regression) at(t float64) float64 { return r.intercept + r.slope*t }

// fitPoints fits a Theil–Sen line (the median of the pairwise slopes, which
// a minority of outliers cannot drag) and scores the slope against the
// larger of the residual spread and the points' own standard error.
func fitPoints(pts []point) regression {
	var slopes [maxPairs]float64
	n := 0
	for i := range pts {
		for j := i + 1; j < len(pts) && n < maxPairs; j++ {
			if dt := pts[j].t - pts[i].t; dt > 0 {
				slopes[n] = (pts[j].y - pts[i].y) / dt
				n++
			}
		}
	}
	if n == 0 {
		return regression{}
	}
	slope := medianInPlace(slopes[:n])
	var resid [maxPointsCap]float64
	var tmean float64
	for i, p := range pts {
		resid[i] = p.y - slope*p.t
		tmean += p.t
	}
	tmean /= float64(len(pts))
	var work [maxPointsCap]float64
	copy(work[:], resid[:len(pts)])
	intercept := medianInPlace(work[:len(pts)])
	var sxx float64
	for i, p := range pts {
		resid[i] = math.Abs(resid[i] - intercept)
		sxx += (p.t - tmean) * (p.t - tmean)
		work[i] = p.se
	}
	ses := work[:len(pts)]
	var sumsq float64
	for i := range pts {
		sumsq += resid[i] * resid[i]
	}
	rms := math.Sqrt(sumsq / float64(max(len(pts)-2, 1)))
	spread := 1.4826 * medianInPlace(resid[:len(pts)])
	// Theil–Sen is about 10% less efficient than least squares on normal
	// noise, and a median of few residuals understates their spread.
	sigma := math.Max(spread, medianInPlace(ses)) * 1.1 * (1 + 2/float64(len(pts)))
	r := regression{slope: slope, intercept: intercept}
	if sxx == 0 {
		return r
	}
	r.se = sigma / math.Sqrt(sxx)
	r.z = zScore(slope, r.se)
	r.zRMS = zScore(slope, math.Max(rms, sigma)/math.Sqrt(sxx))
	return r
}

func zScore(slope, se float64) float64 {
	switch {
	case se > 0:
		return slope / se
	case slope > 0:
		return math.Inf(1)
	default:
		return 0
	}
}

const (
	maxPointsCap = 32
	maxPairs     = maxPointsCap * (maxPointsCap - 1) / 2
)

// trimmedMean returns the interquartile mean of vals (the mean of the
// middle half) without reordering them: nearly as efficient as the mean on
// normal noise, and a quarter of outliers on either side cannot move it.
func trimmedMean(vals []float64, scratch *[]float64) float64 {
	*scratch = append((*scratch)[:0], vals...)
	return trimmedMeanInPlace(*scratch)
}

// trimmedMeanInPlace sorts v and returns its interquartile mean.
func trimmedMeanInPlace(v []float64) float64 {
	switch len(v) {
	case 0:
		return 0
	case 1, 2:
		return (v[0] + v[len(v)-1]) / 2
	}
	slices.Sort(v)
	lo, hi := len(v)/4, len(v)-len(v)/4
	var sum float64
	for _, x := range v[lo:hi] {
		sum += x
	}
	return sum / float64(hi-lo)
}

// median returns the median of vals without reordering them.
func median(vals []float64, scratch *[]float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	*scratch = append((*scratch)[:0], vals...)
	return medianInPlace(*scratch)
}

// medianInPlace sorts v and returns its median.
func medianInPlace(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}
