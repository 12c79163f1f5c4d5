package leakdetect

import (
	"math"
	"sync"
	"time"
)

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
		a.signals[i].init(cfg.ringBuckets(), cfg.unitsCap(), i == idxRSS)
	}
	return a
}

// bufferPool holds the working buffers between calls (see buffers).
var bufferPool = sync.Pool{New: func() any {
	return &buffers{scratch: make([]float64, 0, maxBucketSamples)}
}}

// borrow lends the signals a set of working buffers for one call; the
// caller gives it back when the call is done.
func (a *Analyzer) borrow() *buffers {
	b := bufferPool.Get().(*buffers)
	for i := range a.signals {
		a.signals[i].buffers = b
	}
	return b
}

func (a *Analyzer) giveBack(b *buffers) {
	for i := range a.signals {
		a.signals[i].buffers = nil
	}
	bufferPool.Put(b)
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
		gap := s.Time.Sub(a.last)
		if gap < -restartBack || gap > restartAhead {
			return a.offTimeLine(s)
		}
		a.jump.n = 0 // back on the time line: a jump held was a stray
		if gap <= 0 {
			return nil
		}
	}
	if !a.started {
		a.started, a.start = true, s.Time
	}
	defer a.giveBack(a.borrow())
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

// jumpCandidate holds the samples off the time line seen in a row, up to
// one short of jumpConfirm.
type jumpCandidate struct {
	samples [jumpConfirm - 1]Sample
	n       int
}

// add takes a sample off the time line and reports whether it completes
// jumpConfirm in a row that follow each other; if not, it is held.
func (j *jumpCandidate) add(s Sample) bool {
	if j.n > 0 {
		if gap := s.Time.Sub(j.samples[j.n-1].Time); gap <= 0 || gap > restartAhead {
			j.n = 0 // not a continuation: a new candidate
		}
	}
	if j.n == len(j.samples) {
		return true
	}
	j.samples[j.n] = s
	j.n++
	return false
}

// offTimeLine holds a sample off the series' time line, and once
// jumpConfirm follow each other starts the series again from them.
func (a *Analyzer) offTimeLine(s Sample) []Finding {
	if !a.jump.add(s) {
		return nil
	}
	held := a.jump
	*a = *newAnalyzer(a.cfg)
	var out []Finding
	for _, x := range held.samples[:held.n] {
		out = append(out, a.Observe(x)...)
	}
	return append(out, a.Observe(s)...)
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
	a.settleRate(i)
	return a.signals[i].rate
}

// settleRate fits the rate gauge's window when the evaluation left its
// slope to be read: most buckets of a flat series decide without it, and
// the gauge is read far less often than buckets close. The points are
// those the evaluation saw: buckets closed since are left out.
func (a *Analyzer) settleRate(i int) {
	s := &a.signals[i]
	if !s.ratePending {
		return
	}
	s.ratePending = false
	if s.buffers == nil {
		defer a.giveBack(a.borrow())
	}
	w := a.cfg.windows[s.rateWindow]
	win := s.finePoints(s.noise.closed-s.rateClosed, s.rateAt-w.Hours(), a.cfg.maxPoints)
	s.rate, _ = theilSen(win.pts)
}

// The evaluation after a bucket closes runs in steps, one per Observe
// call: the signals' noise, then each signal's trend over its shortest,
// middle and longest windows, then the threshold rule. Spread out,
// no call pays for all of them.
const (
	trendParts    = 3
	thresholdStep = signalCount * trendParts // counted after the noise step
	stepCount     = 1 + thresholdStep + 1
)

// step runs one step of the evaluation after a bucket closed.
func (a *Analyzer) step(k int, now time.Time, t float64) []Finding {
	if k == 0 {
		// The signals' noise at every scale, once a bucket, which every
		// window reads. The noise of RSS buckets' own levels is read
		// only for the error of a level that grew past the threshold:
		// refreshed then (see pointVariance).
		for i := range a.signals {
			a.signals[i].noise.variances()
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
		s.rate, s.ratePending = f.rate, f.rateLater
		s.rateWindow, s.rateAt, s.rateClosed = f.rateWindow, t, s.noise.closed
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
	defer a.giveBack(a.borrow())
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
		rate *= max(1, rss/heap)
	}
	left := a.limit - rss
	if left <= 0 {
		return time.Nanosecond // already there: "now", not "unknown"
	}
	return time.Duration(min(left/rate*float64(time.Hour), math.MaxInt64))
}
