package leakdetect

import (
	"math"
	"slices"
	"time"
)

// Sample is one reading of the process's memory. A signal's zero is a
// reading not made or failed (the live heap before the first GC, a series
// missing from a scrape): that signal skips the sample.
type Sample struct {
	Time       time.Time
	HeapLive   uint64 // bytes of live heap marked by the most recent GC (/gc/heap/live:bytes)
	RSS        uint64 // resident set size, bytes
	Goroutines int64
	// Limit is the memory limit that applies to the process (cgroup,
	// GOMEMLIMIT or host memory), bytes; 0 when unknown. It gives a
	// finding its TimeToLimit. 2^62 and above (cgroup v1's "unlimited",
	// 9223372036854771712) is no limit.
	Limit uint64
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
	// the baseline taken when warm-up ended (a fixed rule, judged on a
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
	// the start of Window for a trend; for a threshold the level when
	// warm-up ended, or a day before once the process has run that long.
	Baseline int64
	// Current is the robust level now.
	Current int64
	// Window is the span of history the finding rests on.
	Window time.Duration
	// Significance is how many standard errors the fitted rate is above
	// zero (trend findings; 0 for threshold findings).
	Significance float64
	// TimeToLimit is when, at Rate, memory reaches Sample.Limit: for rss
	// from its current level, for heap_live from RSS growing as many times
	// faster as RSS is larger than the live heap. 0 when the limit is
	// unknown or the signal is goroutines.
	TimeToLimit time.Duration
}

// Analyzer decides, sample by sample, whether memory is leaking. It has no
// clock, goroutine or I/O: feed it samples in time order (from a live
// process or a recording) and it returns what each one raises. It is not
// safe for concurrent use.
//
// How it decides: each signal's samples are reduced to a level per
// 2-minute bucket (the interquartile mean; for RSS the middle of the
// range, which a GC sawtooth does not alias). Over windows from 30 minutes
// to 24 hours it fits a robust (Theil–Sen) slope through those levels and
// calls it a leak when the slope is fast enough (WithMinRate, and for heap
// and RSS DefaultMinRelativeRate of the level the window starts from,
// cleared by 2 standard errors, 3 in windows under 8 hours),
// WithSignificance standard errors above zero, and present in both halves
// of the window: a warm-up that levels off, a one-time step, a batch job's
// plateau and a burst of goroutines grow in one half only. The standard
// error is not computed as if samples were independent: the live heap
// holds between GC cycles and load-driven noise is correlated over
// minutes, so it comes from how much the signal's own history wanders at
// time scales from the window's points up to its length. RSS growth that
// the live heap explains is left to the heap_live signal, and RSS racing
// to a known limit to the MemoryNearLimit alert. Beside the trend, the
// fixed threshold (WithThreshold) compares the 30-minute level of RSS
// with the one taken when warm-up ends, or a day before once there is
// one.
type Analyzer struct {
	cfg      analyzerConfig
	limit    float64 // the latest known memory limit, bytes
	started  bool
	start    time.Time
	last     time.Time
	jump     jumpCandidate // samples off the series' time line, not yet believed
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

// NewAnalyzer returns an Analyzer with the defaults, tuned by opts.
func NewAnalyzer(opts ...AnalyzerOption) (*Analyzer, error) {
	cfg, err := newAnalyzerConfig(opts)
	if err != nil {
		return nil, err
	}
	return newAnalyzer(cfg), nil
}

func newAnalyzer(cfg analyzerConfig) *Analyzer {
	a := &Analyzer{cfg: cfg, nextStep: stepCount}
	for i := range a.signals {
		a.signals[i].init(cfg.historyBuckets())
	}
	a.signals[idxRSS].sawtooth = true
	return a
}

// Observe takes the next sample and returns the findings it raises; none
// most of the time.
//
// Samples must come in time order. Observe ignores a sample with the zero
// time and one not later than the previous sample by up to an hour (a
// retry, a clock stepped back a little). A sample more than an hour
// earlier than the previous one, or more than restartAhead later, is off
// the series' time line: a stray (one stale sample, one wrong clock) is
// ignored, and only when the next samples follow it (jumpConfirm in a
// row, each shortly after the one before) does the series start again
// from them, as after a restart: history, suspicions and the threshold
// baseline are dropped. So one bad sample can neither erase the history
// nor stop detection for good, and a long silence (the process stopped,
// the host slept) restarts the noise estimate instead of leaving it to
// mix the levels before and after.
func (a *Analyzer) Observe(s Sample) []Finding {
	if s.Time.IsZero() {
		return nil
	}
	if a.started {
		switch gap := s.Time.Sub(a.last); {
		case gap < -restartBack || gap > restartAhead:
			if !a.jump.add(s) {
				return nil
			}
			held := a.jump
			*a = *newAnalyzer(a.cfg)
			var out []Finding
			for _, x := range held.samples[:held.n] {
				out = append(out, a.Observe(x)...)
			}
			return out
		case gap <= 0:
			a.jump.n = 0 // back on the time line: the jump was a stray
			return nil
		}
		a.jump.n = 0
	}
	if !a.started {
		a.started, a.start = true, s.Time
	}
	a.last = s.Time
	if s.Limit > 0 && s.Limit < noLimit {
		a.limit = float64(s.Limit)
	}
	t := s.Time.Sub(a.start).Hours()
	vals := [signalCount]float64{float64(s.HeapLive), float64(s.RSS), float64(s.Goroutines)}
	closed := false
	for i := range a.signals {
		// Zero is a reading that failed or has not been made (the live
		// heap before the first GC, a series missing from a scrape), not
		// memory that emptied: it would pass for a drop and, at warm-up,
		// for the baseline all later RSS has grown over.
		if vals[i] <= 0 {
			continue
		}
		if a.signals[i].add(t, vals[i], a.cfg.bucket.Hours()) {
			closed = true
		}
	}
	var out []Finding
	if closed {
		// Samples so sparse that a bucket closed before the last one's
		// steps ran: finish those first. Otherwise closing the buckets
		// is this call's work, and the steps start with the next.
		dense := a.nextStep >= stepCount
		for ; a.nextStep < stepCount; a.nextStep++ {
			out = append(out, a.step(a.nextStep, s.Time, t)...)
		}
		a.closes++
		a.nextStep = 0
		if dense {
			return out
		}
	}
	if a.closes > 0 && a.nextStep < stepCount {
		out = append(out, a.step(a.nextStep, s.Time, t)...)
		a.nextStep++
	}
	return out
}

// A sample this much earlier than the previous one, or later, is off the
// series' time line; jumpConfirm such samples in a row, each following
// the one before within restartAhead, restart the series. restartAhead is
// 6 hours: after a longer silence the process has most likely restarted
// or been redeployed, and levels from before it are no baseline for the
// ones after (measured in BENCHMARKS.md, "Gaps").
const (
	restartBack  = time.Hour
	restartAhead = 6 * time.Hour
	jumpConfirm  = 3
)

// jumpCandidate holds the samples off the time line seen in a row.
type jumpCandidate struct {
	samples [jumpConfirm]Sample
	n       int
}

// add takes a sample off the time line and reports whether it completes
// jumpConfirm in a row that follow each other.
func (j *jumpCandidate) add(s Sample) bool {
	if j.n > 0 {
		if gap := s.Time.Sub(j.samples[j.n-1].Time); gap <= 0 || gap > restartAhead {
			j.n = 0 // not a continuation: a new candidate
		}
	}
	j.samples[j.n] = s
	j.n++
	return j.n == jumpConfirm
}

// Suspected reports whether a leak of signal is suspected now: a finding
// was raised and the growth has not stopped since.
func (a *Analyzer) Suspected(signal string) bool {
	i := signalIndex(signal)
	return i >= 0 && a.signals[i].suspected
}

// Rate returns the growth rate per hour last fitted for signal over the
// shortest window with enough history, 0 before there is any.
func (a *Analyzer) Rate(signal string) float64 {
	i := signalIndex(signal)
	if i < 0 {
		return 0
	}
	return a.signals[i].rate
}

func signalIndex(signal string) int {
	for i, n := range signalNames {
		if n == signal {
			return i
		}
	}
	return -1
}

// step runs one step of the evaluation after a bucket closed.
func (a *Analyzer) step(k int, now time.Time, t float64) []Finding {
	if k == 0 {
		// The signals' noise at every scale, once a bucket.
		for i := range a.signals {
			s := &a.signals[i]
			s.noise.variances(&s.scratch)
			if s.pooling {
				s.ownNoise.variances(&s.scratch)
			}
		}
		return nil
	}
	k--
	if k == thresholdStep {
		// The threshold rule speaks for growth the trend has not already
		// reported: a leak found early should not raise a second alarm
		// when it later crosses 100 MB.
		f, ok := a.threshold(now, t)
		if !ok {
			return nil
		}
		s := &a.signals[signalIndex(f.Signal)]
		if s.suspected {
			return nil
		}
		// Suspected until the trend rule has seen no growth for clearAfter,
		// so the alerting gauge says what the finding said.
		s.suspected, s.lastActive = true, t
		s.leakRate = float64(f.Rate)
		return []Finding{f}
	}
	i, part := k/trendParts, k%trendParts
	s := &a.signals[i]
	if part == 0 {
		s.leakSeen = false
	} else if s.leakSeen {
		return nil // the shorter windows already showed it
	}
	f := a.trend(i, t, part)
	if part == 0 && f.window > 0 {
		s.rate = f.rate
	}
	if !f.leak {
		if part == trendParts-1 && s.suspected && t-s.lastActive >= a.cfg.clearAfter.Hours() {
			s.suspected = false
		}
		return nil
	}
	s.leakSeen = true
	s.lastActive = t
	s.suspected = true
	s.leakRate = f.recentRate
	if s.hasFinding && t-s.lastFinding < a.cfg.cooldown.Hours() {
		return nil
	}
	s.hasFinding, s.lastFinding = true, t
	return []Finding{{
		Signal:       signalNames[i],
		Time:         now,
		Reason:       ReasonTrend,
		Rate:         saturate(f.rate),
		Growth:       saturate(f.rate * f.window),
		Baseline:     saturate(f.startLevel),
		Current:      saturate(f.startLevel + f.rate*f.window),
		Window:       time.Duration(f.window * float64(time.Hour)),
		Significance: f.z,
		TimeToLimit:  a.timeToLimit(i, f.recentRate),
	}}
}

// TimeToLimit returns when, at the rate last fitted, signal reaches the
// memory limit, while a leak of it is suspected; 0 otherwise (see
// Finding.TimeToLimit).
func (a *Analyzer) TimeToLimit(signal string) time.Duration {
	i := signalIndex(signal)
	if i < 0 || !a.signals[i].suspected {
		return 0
	}
	return a.timeToLimit(i, a.signals[i].leakRate)
}

// timeToLimit projects the newest levels at rate (per hour) to the limit.
func (a *Analyzer) timeToLimit(i int, rate float64) time.Duration {
	if a.limit <= 0 || rate <= 0 || i == idxGoroutines {
		return 0
	}
	rss, heap := a.signals[idxRSS].newest(), a.signals[idxHeap].newest()
	if i == idxHeap && heap > 0 {
		// RSS carries the heap's growth times its overhead over it.
		rate *= math.Max(1, rss/heap)
	}
	left := a.limit - rss
	if left <= 0 {
		return time.Nanosecond // already there: "now", not "unknown"
	}
	return time.Duration(min(left/rate*float64(time.Hour), math.MaxInt64))
}

// saturate rounds f to an int64, the largest or smallest one when it is
// beyond them: a level of 2^63 bytes or more (a broken exporter) must not
// wrap to a negative one.
func saturate(f float64) int64 {
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(math.Round(f))
}

// noLimit is where a limit stops being one: cgroup v1 writes "no limit"
// as 2^63 rounded down to a page (9223372036854771712), and no machine
// has 2^62 bytes.
const noLimit = 1 << 62

// The evaluation after a bucket closes runs in steps, one per Observe
// call: the signals' noise, then each signal's trend over its shortest,
// middle and longest windows, then the threshold rule. Spread out,
// no call pays for all of them.
const (
	trendParts    = 3
	thresholdStep = signalCount * trendParts // counted after the noise step
	stepCount     = 1 + thresholdStep + 1
)

// fit is the outcome of the trend rule for one signal.
type fit struct {
	leak       bool
	rate       float64 // per hour
	recentRate float64 // per hour, over the newer half of the window
	window     float64 // hours
	startLevel float64
	z          float64
}

// trend tries the windows of one part (0: the shortest third, 2: the longest)
// from the shortest and returns the first that shows a leak, or the
// shortest evaluated fit when none does.
func (a *Analyzer) trend(i int, now float64, part int) fit {
	s := &a.signals[i]
	var first fit
	nw := len(a.cfg.windows)
	lo, hi := part*nw/trendParts, (part+1)*nw/trendParts
	for wi := lo; wi < hi; wi++ {
		w := a.cfg.windows[wi]
		if w < a.cfg.minWindow[i] {
			continue
		}
		// A window of n buckets fits n/maxPoints buckets to a point; it
		// has news only once a point's worth of buckets arrived, so it is
		// fitted then, each window at its own turn to spread the work. The
		// shorter windows' first fit is always made: it is the rate gauge.
		if g := int(w/a.cfg.bucket+1) / a.cfg.maxPoints; g > 1 && (a.closes+wi)%g != 0 && (part != 0 || first.window != 0) {
			continue
		}
		wh := w.Hours()
		pts, group, n := s.points(now-wh, a.cfg.maxPoints)
		if len(pts) < minPoints || pts[0].t > now-wh*0.9 {
			break // not enough history for this window or any longer one
		}
		if i == idxHeap && s.readings(n) < minReadings {
			continue // too few GC cycles in the window; a longer one may hold enough
		}
		pv, ok := s.noise.pointVariance(group, n, &s.scratch)
		if !ok {
			break // the noise is not known yet
		}
		r := fitPoints(pts, pv)
		if fitHook != nil {
			fitHook(i, r)
		}
		f := fit{rate: r.slope, window: pts[len(pts)-1].t - pts[0].t, startLevel: startLevel(pts, r), z: r.z}
		if first.window == 0 {
			first = f
		}
		recent, ok := a.isLeak(i, r, pts, n, now, wh)
		if !ok {
			continue
		}
		f.leak, f.recentRate = true, recent
		return f
	}
	return first
}

// fitHook, when set by a test, sees every window's fit.
var fitHook func(signal int, r regression)

// startLevel is the fitted level where the window starts, not below the
// lowest level seen: a line through a live heap that jumps at each GC can
// start below zero.
func startLevel(pts []point, r regression) float64 {
	return math.Max(r.at(pts[0].t), minLevel(pts))
}

func minLevel(pts []point) float64 {
	m := pts[0].y
	for _, p := range pts[1:] {
		m = math.Min(m, p.y)
	}
	return m
}

// isLeak applies the decision rule to a window's fit. With a leak it also
// returns the rate now: the larger of the window's and its newer half's,
// since a window that begins before the leak did underrates it.
func (a *Analyzer) isLeak(i int, r regression, pts []point, n int, now, wh float64) (recent float64, leak bool) {
	c := &a.cfg
	// Bytes must grow fast in absolute terms and relative to their level:
	// a 4 GB heap gaining 1 MB an hour is fragmentation or a cache, a
	// 60 MB heap gaining it is 40% bigger by the next day. The level is
	// where the window's line starts, what the growth is a share of: a
	// long window's mean is raised by the leak itself, and would hold a
	// slow leak to a rate its own growth keeps putting out of reach.
	level := floorBase(startLevel(pts, r))
	minRate, minGrowth := c.minRate[i], c.minGrowth[i]
	if i != idxGoroutines {
		minRate = math.Max(minRate, c.minRelRate*level)
		minGrowth = math.Max(minGrowth, c.minRelGrowth*level)
	}
	// The rate must clear the minimum by floorZ standard errors, so slow
	// benign growth just under it is not flagged on a lucky fit.
	if r.slope-c.floorZ(wh)*r.se < minRate || r.z < c.significance {
		return 0, false
	}
	if growth := r.slope * (pts[len(pts)-1].t - pts[0].t); growth < minGrowth {
		return 0, false
	}
	// A leak grows in both halves of the window; a warm-up, a step, a batch
	// job's plateau or a burst in one.
	half := len(pts) / 2
	first, second := fitPoints(pts[:half], 0), fitPoints(pts[half:], 0)
	if first.slope < c.halfFraction*r.slope || second.slope < c.halfFraction*r.slope {
		return 0, false
	}
	// A step (a table loaded once, warm-up ending, a batch plateau) fits two
	// flat levels at least as well as a line; a leak fits the line better.
	if fitsStep(pts, r) {
		return 0, false
	}
	if i == idxRSS {
		// RSS swings with GC; a sawtooth whose period beats against the
		// buckets leaves slow waves in their levels that the robust
		// spread ignores and the plain one does not.
		if r.zRMS < c.significance {
			return 0, false
		}
		if a.racingToLimit(r.at(pts[len(pts)-1].t), r.slope, wh) {
			return 0, false
		}
		// A sawtooth whose period is near a multiple of the points'
		// length beats with them into a wave hours long, which one window
		// reads as growth. Points one bucket longer beat differently (or
		// not at all): a leak shows in both groupings, a beat in one.
		// (They reuse the buffer pts is in: pts is not read after this.)
		s := &a.signals[i]
		g := (n+c.maxPoints-1)/c.maxPoints + 1
		if alt := s.grouped(n, g); len(alt) >= minPoints {
			pv, _ := s.noise.pointVariance(g, n, &s.scratch)
			if ar := fitPoints(alt, pv); ar.z < c.significance || ar.zRMS < c.significance {
				return 0, false
			}
		}
		// RSS that grows with the live heap is the heap's leak, reported
		// as heap_live; rss is for growth the heap does not explain.
		h := &a.signals[idxHeap]
		hp, group, hn := h.points(now-wh, c.maxPoints)
		if len(hp) >= minPoints {
			pv, _ := h.noise.pointVariance(group, hn, &h.scratch)
			if h := fitPoints(hp, pv); h.slope+2*h.se > heapExplainsRSS*r.slope {
				return 0, false
			}
		}
	}
	return math.Max(r.slope, second.slope), true
}

// floorZ is how many standard errors a window of wh hours must show its
// rate over the minimum by: 2, and 3 in windows shorter than steadyWindow
// (8 hours). Growth just under the minimum (a cache filling at 0.9% an
// hour) is measured by every window for days, and the short ones, the
// least sure and refitted most often, are where its rate wanders
// furthest: at 1.5 errors a 60 MB cache growing 0.55 MB/h was flagged in 4
// of 200 three-day series, by 6- and 8-hour windows that had wandered 2.7
// to 4 errors up. Growth that close to the minimum is slow, with 16 hours
// to be found; a fast leak clears the minimum by far more than 3 errors.
func (c *analyzerConfig) floorZ(wh float64) float64 {
	if wh < c.steadyWindow.Hours() {
		return 3
	}
	return 2
}

// floorBase is what the relative minimum rate is a share of: the level
// up to floorKnee, beyond it the geometric mean of the two. Growth under
// 1 MB/h and under 1% of the level an hour must never be flagged, growth
// of 1 MB/h and 1.5% must be: under 100 MB the first bound is the 1%,
// above it 1 MB/h, while the second keeps growing with the level. The
// minimum sits between them on a log scale: 1.2% of 60 MB (0.72 MB/h),
// 0.6% of 400 MB (2.4 MB/h), 0.19% of 4 GB (7.6 MB/h). At 1.2% of 400 MB
// the floor was 4.8 MB/h, a 6 MB/h leak's error 16 hours in was 0.7 MB/h,
// and finding it on time took a lucky fit.
func floorBase(level float64) float64 {
	return math.Min(level, math.Sqrt(math.Max(level, 0)*floorKnee))
}

// floorKnee: see floorBase.
const floorKnee = 100e6

// racingToLimit reports whether RSS at level, growing at rate per hour,
// is within nearLimit of a known limit or would reach it within horizon
// hours. That is the runtime filling the room it was given (GOGC=off with
// GOMEMLIMIT), or an emergency the MemoryNearLimit alert speaks for; a
// leak worth a finding takes longer.
func (a *Analyzer) racingToLimit(level, rate, horizon float64) bool {
	if a.limit <= 0 {
		return false
	}
	return level >= nearLimit*a.limit || (rate > 0 && (a.limit-level)/rate < horizon)
}

// nearLimit: RSS within this fraction of its limit is left to the
// MemoryNearLimit alert.
const nearLimit = 0.85

// stepCostBound: see fitsStep.
const stepCostBound = 3.0

// stepFitRatio: the line must leave clearly less residual than the best
// single step for the growth to count as a trend.
const stepFitRatio = 0.9

// fitsStep reports whether a two-level step fits pts about as well as the
// line r (by the sum of absolute residuals), over every split leaving at
// least two points on each side. A step that falls inside a point's span
// leaves that point anywhere between the two levels (it averages buckets
// from both sides), so a split may also pass through one point; that
// point is then left out of both costs, the line's as well, so neither
// model is favoured by the point it does not have to fit.
//
// A residual counts at most stepCostBound times a point's noise (the
// fit's sigma). A batch job's plateau, 100 MB up in a point or two each
// hour, is as far from the line as from either level of a step: counted
// in full, those few residuals swamped the difference the other points
// showed, and a 20 MB/h leak under hourly plateaus passed for a step
// until 2h30 at 60-s sampling. A real step still leaves the line's
// residuals large, out to the bound, and the step's small.
func fitsStep(pts []point, r regression) bool {
	bound := math.Inf(1)
	if r.sigma > 0 {
		bound = stepCostBound * r.sigma
	}
	cost := func(d float64) float64 { return math.Min(math.Abs(d), bound) }
	var buf [maxPointsCap]float64
	var line float64
	resid := buf[:0]
	for _, p := range pts {
		resid = append(resid, cost(p.y-r.at(p.t)))
		line += resid[len(resid)-1]
	}
	var vals [maxPointsCap]float64
	level := func(side []point) (median, c float64) {
		v := vals[:0]
		for _, p := range side {
			v = append(v, p.y)
		}
		median = medianInPlace(v)
		for _, p := range side {
			c += cost(p.y - median)
		}
		return median, c
	}
	for k := 2; k <= len(pts)-2; k++ {
		ml, cl := level(pts[:k])
		if _, cr := level(pts[k:]); line >= stepFitRatio*(cl+cr) {
			return true
		}
		if k+1 > len(pts)-2 {
			continue
		}
		// pts[k] holds the step.
		mr, cr := level(pts[k+1:])
		if line-resid[k] >= stepFitRatio*(cl+cr) {
			lo, hi := math.Min(ml, mr), math.Max(ml, mr)
			if y := pts[k].y; y >= lo && y <= hi {
				return true
			}
		}
	}
	return false
}

// heapExplainsRSS: RSS runs at 1 to 3 times the live heap, so RSS growth
// with live heap growth of at least a quarter of it is the heap's.
const heapExplainsRSS = 0.25

// thresholdState is the seed's fixed-threshold rule on a robust level.
type thresholdState struct {
	baselineSet  bool
	rssBaseline  float64
	heapBaseline float64 // 0 when the heap was not measured then
	baselineAt   float64 // the middle of the baseline's window
	fired        bool
	lastFired    float64
}

// setBaseline takes the levels from from to from+bw as the baseline.
func (th *thresholdState) setBaseline(rss, heap *series, from, bw float64) {
	th.rssBaseline, _ = rss.level(from, from+bw)
	th.heapBaseline, _ = heap.level(from, from+bw)
	th.baselineAt, th.baselineSet = from+bw/2, true
}

// baselineWindows is how many level windows the threshold's baseline
// spans: an hour. The level now is compared with it at every bucket for
// a day, so a baseline that landed in a dip meets every peak after it.
// Over one level window, a flat 800 MB heap with 8% noise correlated over
// 10 minutes drew threshold findings in 29 of 4000 series over 3 days
// (seeds 1-1000, 2h08 to 6h36 in), over an hour in 13; a flat 1 GB
// process with RSS 1.3-1.8x its heap was flagged 7h38 in (seed 149, 30-s
// sampling) over a baseline 105 MB under RSS's usual level.
const baselineWindows = 2

// threshold checks the seed's rule: RSS (its 30-minute level) more than the
// threshold over the baseline, its level in the hour after warm-up ended,
// or over its level a day before once there is one.
func (a *Analyzer) threshold(now time.Time, t float64) (Finding, bool) {
	if a.cfg.threshold <= 0 {
		return Finding{}, false
	}
	th := &a.thresh
	warm := a.cfg.warmup.Hours()
	lw := a.cfg.levelWindow.Hours()
	bw := baselineWindows * lw
	rssSig, heapSig := &a.signals[idxRSS], &a.signals[idxHeap]
	switch {
	case !th.baselineSet:
		if t < warm+bw {
			return Finding{}, false
		}
		// The hour after warm-up, or, when RSS was not measured through
		// it, the first hour since that it was.
		from := warm
		if !rssSig.covers(from, from+bw) {
			if from = t - bw; !rssSig.covers(from, t) {
				return Finding{}, false
			}
		}
		th.setBaseline(rssSig, heapSig, from, bw)
	case th.heapBaseline == 0 && heapSig.covers(t-bw, t) && rssSig.covers(t-bw, t):
		// The heap was not read at the baseline but is now: the baseline
		// moves to its first hour, or RSS growth that the heap explains
		// would be blamed on memory outside it.
		th.setBaseline(rssSig, heapSig, t-bw, bw)
	}
	// Once the process has run a day past warm-up, the baseline is the
	// level a day before: growth under the threshold a day is slow
	// growth, which the trend rule judges against the minimum rate (a
	// cache filling at 1 MB/h crosses 100 MB in four days, and must
	// never be flagged).
	rssBase, heapBase, since := th.rssBaseline, th.heapBaseline, t-th.baselineAt
	if day := a.cfg.windows[len(a.cfg.windows)-1].Hours(); t-day-bw >= warm {
		var baseSE, heapSE float64
		rssBase, baseSE = rssSig.level(t-day-bw, t-day)
		heapBase, heapSE = heapSig.level(t-day-bw, t-day)
		since = day
		if math.IsInf(baseSE, 1) {
			return Finding{}, false // a gap a day ago: no level to compare
		}
		// A heap measured now but not a day ago cannot be ruled out,
		// and an RSS finding would blame memory outside the heap.
		if math.IsInf(heapSE, 1) && heapSig.covers(t-lw, t) {
			return Finding{}, false
		}
	}
	rss, se := rssSig.level(t-lw, t)
	growth := rss - rssBase
	// The level must be over the threshold and the growth beyond doubt: a
	// GC sawtooth makes even a 30-minute level wander.
	if growth < float64(a.cfg.threshold) || growth < thresholdZ*math.Sqrt2*se {
		return Finding{}, false
	}
	if th.fired && t-th.lastFired < a.cfg.cooldown.Hours() {
		return Finding{}, false
	}
	// The newest few buckets against the level window before, and
	// against the oldest few of the level window, to see whether RSS is
	// racing to its limit. A fill that began within the last half hour
	// rises faster than the first rate says: a level window before it
	// that was flat halves that rate.
	prev, _ := rssSig.level(t-2*lw, t-lw)
	early, _ := rssSig.level(t-lw, t-2*lw/3)
	recent, _ := rssSig.level(t-lw/3, t)
	rate := math.Max((recent-prev)/(lw*4/3), (recent-early)/(lw*2/3))
	if a.racingToLimit(recent, rate, 3*lw) {
		return Finding{}, false
	}
	f := Finding{
		Signal:   SignalRSS,
		Time:     now,
		Reason:   ReasonThreshold,
		Rate:     saturate(growth / since),
		Growth:   saturate(growth),
		Baseline: saturate(rssBase),
		Current:  saturate(rss),
		Window:   time.Duration(since * float64(time.Hour)),
	}
	f.TimeToLimit = a.timeToLimit(idxRSS, growth/since)
	// RSS runs at some multiple of the live heap; when the heap's growth
	// times that multiple explains at least half of RSS's, the heap leaks.
	// When the heap's level is too uncertain to tell (a large heap held
	// between GC cycles, with correlated noise), the finding waits: RSS
	// keeps growing and the answer gets clearer, where a guess now would
	// name the wrong signal.
	// Without a heap level at the baseline, RSS speaks for itself.
	if heapBase > 0 {
		heap, heapSE := heapSig.level(t-lw, t)
		ratio := math.Max(1, rssBase/heapBase)
		explained := (heap - heapBase) * ratio
		switch doubt := attributionZ * math.Sqrt2 * heapSE * ratio; {
		case explained >= 0.5*growth:
			f.Signal = SignalHeapLive
		case explained+doubt >= 0.5*growth:
			return Finding{}, false
		}
	}
	th.fired, th.lastFired = true, t
	return f, true
}

// attributionZ: the heap's growth explains RSS's, or does not, when that
// holds by this many standard errors of the heap's level. One: a 2 GB
// heap held between GC cycles has a 30-minute level ±57 MB, and waiting
// for two left off-heap RSS steps under it unnamed (their own level grows
// uncertain once the step is in its history).
const attributionZ = 1

// thresholdZ is how many standard errors the threshold rule's growth must
// be beyond zero.
const thresholdZ = 4

// series is one signal's history: the open bucket, a ring of closed ones,
// and its noise at several time scales.
type series struct {
	// open bucket
	openIdx  float64 // grid index of the open bucket
	openVals []float64
	prevVals []float64 // RSS: the newest samples of the buckets before (see openLevel)
	pooled   []float64
	hasOpen  bool
	openNew  int     // the open bucket's readings (see reads)
	last     float64 // the newest sample
	sawtooth bool    // levels by the middle of the range (RSS)
	width    float64 // bucket width, hours

	buckets []bucket // ring
	// reads[i] counts the samples of buckets[i] that differ from the one
	// before (up to 255): for a live heap held between GC cycles, the
	// cycles that ended in it. A byte beside the ring, not a field of
	// bucket, which it would grow by a quarter.
	reads []uint8
	head  int // next write
	count int

	noise    noiseScales // of the levels
	ownNoise noiseScales // of the buckets' own levels, kept once pooling
	pooling  bool        // RSS: a bucket's level pooled the buckets' before

	suspected   bool
	leakSeen    bool // this bucket's shorter windows showed a leak
	lastActive  float64
	hasFinding  bool
	lastFinding float64
	rate        float64
	leakRate    float64 // the rate now of the last leak seen, per hour

	scratch []float64
	ptsBuf  []point
}

// bucket is a closed bucket: the level of its samples at its mid time
// (hours since the first sample).
type bucket struct {
	t     float64
	level float64 // see openLevel
	// own is the level of the bucket's own samples: level, unless RSS
	// pooled the samples of the buckets before (openLevel). The threshold
	// rule's 30-minute medians use it, which a batch job's 12-minute
	// plateau must not reach by spreading into the buckets after it.
	own float64
}

const maxBucketSamples = 64

func (s *series) init(history int) {
	s.buckets = make([]bucket, history)
	s.reads = make([]uint8, history)
	s.openVals = make([]float64, 0, maxBucketSamples)
	s.prevVals = make([]float64, 0, sawtoothSamples)
	s.pooled = make([]float64, 0, 2*sawtoothSamples)
	s.scratch = make([]float64, 0, 2*maxBucketSamples)
}

// add puts a value in the open bucket and reports whether that closed the
// previous one. Buckets sit on a fixed grid of width hours, so a periodic
// signal (GC sawtooth) is cut the same way in every bucket.
func (s *series) add(t, v, width float64) bool {
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
	s.buckets[s.head] = bucket{t: (s.openIdx + 0.5) * width, level: level, own: own}
	s.reads[s.head] = uint8(min(s.openNew, math.MaxUint8))
	s.openNew = 0
	s.head = (s.head + 1) % len(s.buckets)
	if s.count < len(s.buckets) {
		s.count++
	}
	s.hasOpen = false
	s.keepNewest()
	if !s.pooling && own != level {
		// Until now every bucket's own level was its level: the noise of
		// the own levels so far is the noise measured so far.
		s.pooling, s.ownNoise = true, s.noise
	}
	s.noise.push(s, trendLevel)
	if s.pooling {
		s.ownNoise.push(s, ownLevel)
	}
}

// newest is the level of the newest closed buckets (up to 5), 0 before
// any.
func (s *series) newest() float64 {
	s.scratch = s.scratch[:0]
	for k := 0; k < min(s.count, 5); k++ {
		s.scratch = append(s.scratch, s.at(k).level)
	}
	return trimmedMeanInPlace(s.scratch)
}

// midrange2 is the middle of the second-lowest and second-highest of v
// (at least two values).
func midrange2(v []float64) float64 {
	lo1, lo2 := math.Inf(1), math.Inf(1)
	hi1, hi2 := math.Inf(-1), math.Inf(-1)
	for _, x := range v {
		if x < lo1 {
			lo1, lo2 = x, lo1
		} else if x < lo2 {
			lo2 = x
		}
		if x > hi1 {
			hi1, hi2 = x, hi1
		} else if x > hi2 {
			hi2 = x
		}
	}
	return (lo2 + hi2) / 2
}

// openLevel is the open bucket's level, and the level of its own samples
// (the two differ only for a sparse RSS bucket): the interquartile mean of
// its samples, or for RSS the middle of their range (of fewer than six,
// the mean of six with the buckets' before). A GC sawtooth fills a bucket
// evenly between its trough and peak, however many periods and part of one
// the bucket holds; the middle of the range finds
// its centre where a mean would depend on where the bucket cut the last
// period. When the samples climb in small steps between drops, the
// sawtooth is sampled finely enough that its extremes are its trough and
// peak, and the middle of the full range is exact; otherwise the
// second-lowest and second-highest keep one noisy sample from moving it.
func (s *series) openLevel() (level, own float64) {
	if !s.sawtooth {
		level = trimmedMean(s.openVals, &s.scratch)
		return level, level
	}
	vals := s.openVals
	if len(vals) < sawtoothSamples {
		own = trimmedMean(s.openVals, &s.scratch)
		// Sampled sparsely, a bucket holds a few phases of the sawtooth,
		// and which ones repeats with the sampling: every 60 s, a 90-s
		// sawtooth gives two phases a bucket, the same three pairs in
		// turn, a wave in the levels. The newest samples of the buckets
		// before make up the six, so that they cover the phases, and the
		// level is their mean: a sawtooth sampled this sparsely has no
		// trough and peak to find, and of six samples at random phases
		// (or with noise) the mean is the surer estimate of the centre
		// (its error 0.118 of the swing, the second extremes' 0.133).
		vals = append(s.pooled[:0], s.prevVals[max(0, len(s.prevVals)+len(vals)-sawtoothSamples):]...)
		vals = append(vals, s.openVals...)
		s.pooled = vals
		if len(vals) < sawtoothSamples {
			return own, own
		}
		var sum float64
		for _, v := range vals {
			sum += v
		}
		return sum / float64(len(vals)), own
	}
	if lo, hi, step := rangeAndStep(vals, &s.scratch); step < sawtoothSmooth*(hi-lo) {
		level = (lo + hi) / 2
	} else {
		level = midrange2(vals)
	}
	return level, level
}

// sawtoothSamples: the fewest samples an RSS level is read from.
const sawtoothSamples = 6

// keepNewest keeps the newest samples of the bucket just closed (and of
// those before when it held fewer) for the next bucket's level.
func (s *series) keepNewest() {
	if !s.sawtooth {
		return
	}
	n := len(s.openVals)
	if n >= sawtoothSamples-1 {
		s.prevVals = append(s.prevVals[:0], s.openVals[n-(sawtoothSamples-1):]...)
		return
	}
	keep := min(len(s.prevVals), sawtoothSamples-1-n)
	s.prevVals = append(s.prevVals[:0], s.prevVals[len(s.prevVals)-keep:]...)
	s.prevVals = append(s.prevVals, s.openVals...)
}

// sawtoothSmooth: a bucket whose median step between successive samples
// is under this fraction of its range climbs in small steps (a sawtooth
// sampled several times a period). Independent noise, or a sawtooth
// sampled at random phases, steps about 0.3 of the range; in about one
// bucket of sixteen it steps less, and the middle of its range is then a
// fair level too.
const sawtoothSmooth = 1.0 / 6

// rangeAndStep returns the lowest and highest of v (in time order) and
// the median absolute difference between successive values.
func rangeAndStep(v []float64, scratch *[]float64) (lo, hi, step float64) {
	lo, hi = v[0], v[0]
	d := (*scratch)[:0]
	for i := 1; i < len(v); i++ {
		lo, hi = math.Min(lo, v[i]), math.Max(hi, v[i])
		d = append(d, math.Abs(v[i]-v[i-1]))
	}
	*scratch = d
	return lo, hi, medianInPlace(d)
}

// at returns the k-th closed bucket counting back from the newest (0).
func (s *series) at(k int) *bucket {
	return &s.buckets[s.ring(k)]
}

// ring is the index in the ring of the k-th newest closed bucket.
func (s *series) ring(k int) int {
	return (s.head - 1 - k + 2*len(s.buckets)) % len(s.buckets)
}

// covers reports whether closed buckets stand for the span from to to.
func (s *series) covers(from, to float64) bool {
	n := len(s.ownLevels(from, to))
	return n > 0 && s.fills(n, from, to)
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
	for k := 0; k < s.count && s.at(k).t >= from; k++ {
		if b := s.at(k); b.t <= to {
			s.scratch = append(s.scratch, b.own)
		}
	}
	return s.scratch
}

// level is the median of the buckets' own levels whose time lies in
// [from, to], with its standard error from the signal's noise at that
// scale (see noiseScales); the error is infinite until that scale has been
// measured, not extrapolated.
func (s *series) level(from, to float64) (level, se float64) {
	own := s.ownLevels(from, to)
	n := len(own)
	if n == 0 {
		return 0, math.Inf(1)
	}
	// The median: a batch job holding memory for 12 of the 30 minutes
	// moves an interquartile mean, not a median.
	level = medianInPlace(own)
	if !s.fills(n, from, to) {
		return level, math.Inf(1) // a gap: too few buckets to stand for the span
	}
	// Hours may lie between two levels compared: every scale counts, the
	// single bucket's too. A median does not average: a GC sawtooth of
	// twice the bucket's width makes every other bucket's level high, and
	// the median of an odd count of them is the high or the low level in
	// turn, a jump that blocks of several buckets average away and only
	// the noise of single buckets shows. The noise is that of the levels
	// compared: RSS levels that pool the buckets before wander less than
	// the buckets' own.
	noise := &s.noise
	if s.pooling {
		noise = &s.ownNoise
	}
	v, ok := noise.pointVariance(1, math.MaxInt32, &s.scratch)
	if !ok || !noise.measured(n) {
		return level, math.Inf(1)
	}
	return level, 1.25 * math.Sqrt(v/float64(n)) // a median of normal noise: sqrt(pi/2) the error of a mean
}

func trendLevel(b *bucket) float64 { return b.level }
func ownLevel(b *bucket) float64   { return b.own }

// point is a window's unit of fitting: consecutive buckets merged.
type point struct {
	t, y float64
}

const minPoints = 6

// points merges the n buckets since from into at most maxPoints points of
// group buckets each, oldest first. The slice is reused by the next call.
func (s *series) points(from float64, maxPoints int) (pts []point, group, n int) {
	n = s.since(from)
	group = max((n+maxPoints-1)/maxPoints, 1)
	return s.grouped(n, group), group, n
}

// readings counts the distinct readings in the newest n buckets.
func (s *series) readings(n int) int {
	r := 0
	for k := range n {
		r += int(s.reads[s.ring(k)])
	}
	return r
}

// minReadings is how many distinct readings a window of the live heap
// needs, as it needs minPoints points. The live heap is read at the end
// of each GC cycle and holds between them; however many samples a
// window has, it has one reading per cycle. The runtime forces a cycle
// every 2 minutes, but not with GOGC=off, where a quiet service under a
// far GOMEMLIMIT can go 20 minutes between cycles: a window then holds
// three or four stairs, and with few differences between held samples
// the noise reads quiet. With cycles every 20 minutes (± 40%), AR(1)
// noise over 2 minutes, at 10- and 60-s sampling, seeds 1-8, every case
// of the catalog but the warm-up drew a false alarm in its first hours,
// the same draw in each (seed 8 at 60 s: a 56-minute window 1h19 in,
// significance 6.0); with this, none, and with cycles every 5 minutes no
// case changed.
const minReadings = minPoints

// since counts the closed buckets whose time is from or later.
func (s *series) since(from float64) int {
	n := 0
	for n < s.count && s.at(n).t >= from {
		n++
	}
	return n
}

// grouped merges the newest n buckets into points of group buckets each
// (the newest may hold fewer), oldest first, into the series' one point
// buffer: points from an earlier call are overwritten. A window usually
// spans one bucket more than a multiple of its group, so its newest point
// is often a single bucket. Sharing the buckets out evenly instead was
// measured (BENCHMARKS.md): no false alarm fewer, slow leaks found later.
func (s *series) grouped(n, group int) []point {
	s.ptsBuf = s.ptsBuf[:0]
	for end := n; end > 0; end -= group {
		start := max(end-group, 0)
		var tsum float64
		s.scratch = s.scratch[:0]
		for k := start; k < end; k++ {
			b := s.at(k)
			tsum += b.t
			s.scratch = append(s.scratch, b.level)
		}
		y := trimmedMeanInPlace(s.scratch)
		s.ptsBuf = append(s.ptsBuf, point{t: tsum / float64(end-start), y: y})
	}
	return s.ptsBuf
}

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
	clipped [1 << (noiseScaleCount - 1)]float64 // ring of clipped levels, by closed
	holding bool                                // far levels are held since one jumped out

	cache      [noiseScaleCount]float64 // variance of a block mean, by scale
	cacheValid [noiseScaleCount]bool
	unwidened  [noiseScaleCount]float64 // the same as a mean's, not widened for few blocks
	dirty      bool
}

const (
	noiseScaleCount = 7  // blocks of 1 to 64 buckets
	noiseRingCap    = 48 // block means kept per scale
	noiseMinDiffs   = 6  // second differences needed for an estimate
)

type noiseRing struct {
	vals  [noiseRingCap]float64
	head  int
	count int
}

func (r *noiseRing) push(v float64) {
	r.vals[r.head] = v
	r.head = (r.head + 1) % noiseRingCap
	r.count = min(r.count+1, noiseRingCap)
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
// up, in every hour's 16-minute blocks: a 20 MB/h leak under it was found
// within 3 hours in 26 of 100 series. A slow wave (a GC sawtooth beating
// with the buckets) or a live heap that jumps at each GC moves that far
// from bucket to bucket all the time: its levels are noise and only
// clipped. So is a dip or a peak just past the bound: in the first hour,
// with few buckets to judge by, holding one such level of 8% correlated
// noise left the noise looking quiet enough for a false trend finding.
func (n *noiseScales) push(s *series, level func(*bucket) float64) {
	n.closed++
	k := min(s.count, clipBuckets)
	s.scratch = s.scratch[:0]
	for i := range k {
		s.scratch = append(s.scratch, level(s.at(i)))
	}
	med := medianInPlace(s.scratch)
	for i, v := range s.scratch {
		s.scratch[i] = math.Abs(v - med)
	}
	spread := 3 * madSD * medianInPlace(s.scratch)
	v := level(s.at(0))
	dev := math.Abs(v - med)
	afterGap := s.count < 2 || s.at(0).t-s.at(1).t > 1.5*s.width
	switch {
	case dev <= spread:
		n.holding = false
	case dev > 2*spread && !afterGap && (n.holding || s.jumped(k, spread, level)):
		n.holding = true
		v = n.clipped[(n.closed-1)%len(n.clipped)]
	default:
		n.holding = false
		v = math.Min(math.Max(v, med-spread), med+spread)
	}
	n.clipped[n.closed%len(n.clipped)] = v
	for l := range noiseScaleCount {
		size := 1 << l
		if n.closed%size != 0 || n.closed < size {
			continue
		}
		s.scratch = s.scratch[:0]
		for i := range size {
			s.scratch = append(s.scratch, n.clipped[(n.closed-i)%len(n.clipped)])
		}
		n.rings[l].push(trimmedMeanInPlace(s.scratch))
		n.dirty = true
	}
}

// jumped reports whether the newest level moved from the one before by
// more than spread and more than 3 standard deviations of the moves
// between neighbouring levels of the newest k buckets.
func (s *series) jumped(k int, spread float64, level func(*bucket) float64) bool {
	move := math.Abs(level(s.at(0)) - level(s.at(1)))
	if move <= spread {
		return false
	}
	s.scratch = s.scratch[:0]
	for i := 1; i < k; i++ {
		s.scratch = append(s.scratch, math.Abs(level(s.at(i-1))-level(s.at(i))))
	}
	return move > 3*madSD*medianInPlace(s.scratch)
}

// madSD is a normal's standard deviation over its median absolute
// deviation.
const madSD = 1.4826

// clipBuckets is the hour of bucket levels that clipping is judged by.
const clipBuckets = 31

// variances refreshes the variance of a block mean at each scale.
func (n *noiseScales) variances(scratch *[]float64) {
	if !n.dirty {
		return
	}
	n.dirty = false
	for l := range n.rings {
		r := &n.rings[l]
		n.cacheValid[l] = false
		if r.count < noiseMinDiffs+2 {
			continue
		}
		d := (*scratch)[:0]
		// oldest first
		first := (r.head - r.count + noiseRingCap) % noiseRingCap
		for i := 2; i < r.count; i++ {
			a := r.vals[(first+i-2)%noiseRingCap]
			b := r.vals[(first+i-1)%noiseRingCap]
			c := r.vals[(first+i)%noiseRingCap]
			d = append(d, math.Abs(c-2*b+a))
		}
		*scratch = d
		// A second difference of independent block means has 6 times
		// their variance. The mean square of all but the largest tenth
		// (over 0.623, what that trimming leaves of a normal's): a leak
		// that starts or a step leaves one large difference per scale
		// that would otherwise count as noise, while a median would miss
		// the jumps of a live heap held between GC cycles. Few blocks give
		// a rough estimate: it is widened so that a low draw does not pass
		// for quiet noise (second differences overlap, so they hold fewer
		// independent values than they number).
		keep, trim := d, 1.0
		if drop := len(d) / 10; drop > 0 {
			keep, trim = d[:len(d)-drop], 0.623
			selectNth(d, len(keep)) // the largest tenth after keep
		}
		var sum float64
		for _, x := range keep {
			sum += x * x
		}
		variance := sum / float64(len(keep)) / trim / 6
		n.cache[l], n.cacheValid[l] = variance*(1+4/float64(len(d))), true
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

// iqmVariance is the variance of the interquartile mean of 4 or more
// independent normal values over that of their mean (1.19, measured).
const iqmVariance = 1.19

// measured reports whether blocks of about g buckets have been measured.
func (n *noiseScales) measured(g int) bool {
	l := 0
	for l+1 < noiseScaleCount && 1<<(l+1) <= g {
		l++
	}
	return n.cacheValid[l]
}

// pointVariance returns the variance of a mean over g buckets. Noise
// correlated over longer than g buckets makes neighbouring points agree
// and a fitted slope look surer than it is; the larger scales show it, so
// the variance is the largest that blocks from g buckets to the
// window's span imply (each scaled to g buckets). Scales the history is
// still too short for are extrapolated (see extrapolate), and the 8- and
// 16-minute scales' first estimates are held up towards what the scales
// beneath them implied. ok is false before two scales are measured.
func (n *noiseScales) pointVariance(g, span int, scratch *[]float64) (v float64, ok bool) {
	n.variances(scratch)
	lo := 0
	for lo+1 < noiseScaleCount && 1<<(lo+1) <= g {
		lo++
	}
	// density[l]: variance times block length, the long-run variance per
	// bucket that scale l measures.
	top := -1
	var density [noiseScaleCount]float64
	for l := range noiseScaleCount {
		if n.cacheValid[l] {
			density[l], top = n.cache[l]*float64(int(1)<<l), l
		}
	}
	if top < 1 {
		return 0, false // one scale cannot tell how the noise is correlated
	}
	n.extrapolate(&density, top)
	// A scale first measured from few blocks can read far below what it
	// will (second differences of 6 blocks of noise correlated over 10
	// minutes read under a seventh of its variance now and then), and
	// it then takes over from an extrapolation that had it right. Flat
	// 800 MB heaps with such noise drew more than half their false alarms
	// of the first 2h30 just after the 8- or 16-minute scale was first
	// measured.
	// So those scales' first estimates are held up to what the scales
	// beneath them implied, by a weight that fades out as their
	// differences reach freshDiffs. Later scales are not: held, they made
	// leaks of about 1 MB/h found later in their longest windows.
	if d := n.rings[top].count - 2; d < freshDiffs[top] {
		// extrapolate overwrites every scale above the top it is given.
		below := density
		n.extrapolate(&below, top-1)
		w := float64(freshDiffs[top]-d) / float64(freshDiffs[top]-noiseMinDiffs)
		if held := w * below[top]; held > density[top] {
			density[top] = held
			n.extrapolate(&density, top)
		}
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
		if n.cacheValid[l] || l > top {
			v = math.Max(v, density[l]/float64(g))
		}
	}
	return v, true
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
		growth = math.Min(math.Max(math.Sqrt(4*n.unwidened[2]/n.unwidened[0]), 1), 2)
		most = 3
	case top > 2 && n.unwidened[top-1] > 0:
		growth = math.Min(math.Max(2*n.unwidened[top]/n.unwidened[top-1], 1), 2)
		most = 3
	}
	base := 0.0
	for l := range top + 1 {
		base = math.Max(base, density[l])
	}
	for l := top + 1; l < noiseScaleCount; l++ {
		density[l] = math.Min(math.Max(density[l-1], base)*growth, most*base)
	}
}

// freshDiffs: a scale measured from fewer second differences than this is
// held up towards what the scales beneath it implied (see pointVariance),
// by a weight falling from 1 at its first estimate (noiseMinDiffs) to 0
// here: the 8-minute scale for 10 differences, the 16-minute one for 30,
// no other (0: a measured scale has at least noiseMinDiffs).
// The 16-minute scale's hold ends sooner, with the 32-minute scale's
// first estimate (its own 14th difference, 4h16 in), its weight still
// two thirds. From 2h08 to 4h16 a flat 800 MB heap with 8% noise
// correlated over 10 minutes drew most of its false alarms, trend and
// threshold alike: a rough 16-minute estimate read low, and the growth
// carried past it too. Over seeds 1-1000 (4000 series of 3 days), with
// the threshold's baseline over an hour: 33 series flagged with this
// scale held for 10 differences, 20 for 30, 15 held fully until 4h16;
// but then a 60 MB/h leak under a heap held between GC cycles every 5
// minutes was found within 45 minutes in 20 of 100 series, 41 before
// (30 of 100 with 30 differences).
var freshDiffs = [noiseScaleCount]int{2: 10, 3: 30}

// youngMost bounds how far the first hour's two measured scales are
// extrapolated: the long-run variance assumed is at most this many times
// the largest they show. Noise correlated over 10 minutes (load that
// wanders) hides most of its variance from second differences of 2- and
// 4-minute blocks; at 6 a flat 800 MB heap with 8% such noise drew trend
// findings at significance 6.0-6.4 in 3 of 100 first hours.
const youngMost = 10.0

// regression is a robust line through points with its significance.
type regression struct {
	slope, intercept float64
	// z is the slope over its standard error se.
	z, se float64
	// zRMS is the same from the plain root mean square of the residuals,
	// which a batch job's plateau, a burst or a slow wave inflates.
	zRMS float64
	// sigma is the noise of a point that se was computed from.
	sigma float64
}

func (r regression) at(t float64) float64 { return r.intercept + r.slope*t }

// fitPoints fits a Theil–Sen line (the median of the pairwise slopes, which
// a minority of outliers cannot drag) and scores the slope against the
// larger of two errors: one from the residuals, inflated by their
// autocorrelation, and one from pointVar, the variance of a point that the
// signal's history implies at this scale (0 when unknown).
func fitPoints(pts []point, pointVar float64) regression {
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
	var resid, work [maxPointsCap]float64
	var tmean float64
	for i, p := range pts {
		resid[i] = p.y - slope*p.t
		tmean += p.t
	}
	tmean /= float64(len(pts))
	copy(work[:], resid[:len(pts)])
	intercept := medianInPlace(work[:len(pts)])
	var sxx, sumsq float64
	for i, p := range pts {
		resid[i] -= intercept
		sxx += (p.t - tmean) * (p.t - tmean)
		sumsq += resid[i] * resid[i]
		work[i] = math.Abs(resid[i])
	}
	r := regression{slope: slope, intercept: intercept}
	if sxx == 0 {
		return r
	}
	np := float64(len(pts))
	rms := math.Sqrt(sumsq / math.Max(np-2, 1))
	spread := madSD * medianInPlace(work[:len(pts)])
	// Without the history's measure of the noise, residuals that follow
	// each other (slow waves, correlated noise) hold fewer independent
	// points than they number: their lag-1 autocorrelation inflates the
	// error like an AR(1) process would. With it, the history measured
	// the correlation already, and what follows each other here is the
	// line's misfit (a leak that began inside the window), not noise.
	inflate := 1.0
	if pointVar == 0 {
		inflate = autocorrelationInflation(resid[:len(pts)], spread)
	}
	// Theil–Sen is about 10% less efficient than least squares on normal
	// noise, and a median of few residuals understates their spread.
	small := 1.1 * (1 + 2/np)
	hist := math.Sqrt(pointVar) * 1.1
	sigma := math.Max(spread*small*inflate, hist)
	r.se, r.sigma = sigma/math.Sqrt(sxx), sigma
	r.z = zScore(slope, r.se)
	r.zRMS = zScore(slope, math.Max(rms*inflate, sigma)/math.Sqrt(sxx))
	return r
}

// autocorrelationInflation is sqrt((1+rho)/(1-rho)) for the lag-1
// autocorrelation rho of resid: of residuals clipped to 3 spreads (so a
// batch job's few adjacent points do not make it), corrected for its
// downward bias in short series, and kept within [0, 0.8].
func autocorrelationInflation(resid []float64, spread float64) float64 {
	clip := func(x float64) float64 { return math.Min(math.Max(x, -3*spread), 3*spread) }
	var lag1, sumsq float64
	for i, r := range resid {
		c := clip(r)
		sumsq += c * c
		if i > 0 {
			lag1 += c * clip(resid[i-1])
		}
	}
	rho := 0.0
	if sumsq > 0 {
		rho = lag1/sumsq + 1.5/float64(len(resid))
	}
	rho = math.Min(math.Max(rho, 0), 0.8)
	return math.Sqrt((1 + rho) / (1 - rho))
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

// trimmedMeanInPlace reorders v and returns its interquartile mean.
func trimmedMeanInPlace(v []float64) float64 {
	switch len(v) {
	case 0:
		return 0
	case 1, 2:
		return (v[0] + v[len(v)-1]) / 2
	}
	lo, hi := len(v)/4, len(v)-len(v)/4
	// After these two, v[lo:hi] holds the order statistics lo..hi-1.
	selectNth(v, lo)
	selectNth(v[lo:], hi-1-lo)
	var sum float64
	for _, x := range v[lo:hi] {
		sum += x
	}
	return sum / float64(hi-lo)
}

// medianInPlace reorders v and returns its median.
func medianInPlace(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := len(v) / 2
	selectNth(v, m)
	if len(v)%2 == 1 {
		return v[m]
	}
	return (slices.Max(v[:m]) + v[m]) / 2
}

// selectNth reorders v so that v[k] is the value a sort would put there,
// with nothing larger before it and nothing smaller after it (Hoare's
// quickselect: linear on average, where a sort is n log n; the evaluation
// takes many medians).
func selectNth(v []float64, k int) {
	lo, hi := 0, len(v)-1
	for lo < hi {
		// Median of three as the pivot keeps sorted runs linear.
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for pivot < v[j] {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}
