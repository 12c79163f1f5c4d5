package leakdetect

import (
	"math"
	"time"
)

// thresholdState is the fixed-threshold rule's state: RSS growth over a
// baseline level, judged on robust levels.
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
	th.rssBaseline, _ = rss.levelKnown(from, from+bw)
	th.heapBaseline, _ = heap.levelKnown(from, from+bw)
	th.baselineAt, th.baselineSet = from+bw/2, true
}

// threshold checks the fixed rule: RSS (its 30-minute level) more than the
// threshold over the baseline, its level in the hour after warm-up ended,
// or over its level a day before once there is one. Three parts: the
// baseline (chooseBaseline), the growth over it (thresholdGrowth), and
// which signal it names (attribute).
func (a *Analyzer) threshold(now time.Time, t float64) (Finding, bool) {
	if a.cfg.threshold <= 0 {
		return Finding{}, false
	}
	base, ok := a.chooseBaseline(t)
	if !ok {
		return Finding{}, false
	}
	f, growth, ok := a.thresholdGrowth(now, t, base)
	if !ok {
		return Finding{}, false
	}
	if f.Signal, ok = a.attribute(t, base, growth); !ok {
		return Finding{}, false
	}
	a.thresh.fired, a.thresh.lastFired = true, t
	return f, true
}

// thresholdBase is what growth is measured from: RSS's and the heap's
// levels (the heap's 0 when it was not measured then) and the hours
// since.
type thresholdBase struct {
	rss, heap, since float64
}

// chooseBaseline sets the baseline once warm-up has ended (or moves it
// where the heap is first read) and returns the one to measure from now:
// once the process has run a day past warm-up, the level a day before.
// Growth under the threshold a day is slow growth, which the trend rule
// judges against the minimum rate (a cache filling at 1 MB/h crosses
// 100 MB in four days, and must never be flagged). ok is false when there
// is nothing to measure from yet.
func (a *Analyzer) chooseBaseline(t float64) (base thresholdBase, ok bool) {
	th := &a.thresh
	warm := a.cfg.warmup.Hours()
	lw := a.cfg.levelWindow.Hours()
	bw := baselineWindows * lw
	rssSig, heapSig := &a.signals[idxRSS], &a.signals[idxHeap]
	switch {
	case !th.baselineSet:
		if t < warm+bw {
			return base, false
		}
		// The hour after warm-up, or, when RSS was not measured through
		// it, the first hour since that it was.
		from := warm
		if !rssSig.covers(from, from+bw) {
			if from = t - bw; !rssSig.covers(from, t) {
				return base, false
			}
		}
		th.setBaseline(rssSig, heapSig, from, bw)
	case th.heapBaseline == 0 && heapSig.covers(t-bw, t) && rssSig.covers(t-bw, t):
		// The heap was not read at the baseline but is now: the baseline
		// moves to its first hour, or RSS growth that the heap explains
		// would be blamed on memory outside it.
		th.setBaseline(rssSig, heapSig, t-bw, bw)
	}
	base = thresholdBase{rss: th.rssBaseline, heap: th.heapBaseline, since: t - th.baselineAt}
	if day := a.cfg.windows[len(a.cfg.windows)-1].Hours(); t-day-bw >= warm {
		var rssKnown, heapKnown bool
		base.rss, rssKnown = rssSig.levelKnown(t-day-bw, t-day)
		base.heap, heapKnown = heapSig.levelKnown(t-day-bw, t-day)
		base.since = day
		if !rssKnown {
			return base, false // a gap a day ago: no level to compare
		}
		// A heap measured now but not a day ago cannot be ruled out,
		// and an RSS finding would blame memory outside the heap.
		if !heapKnown && heapSig.covers(t-lw, t) {
			return base, false
		}
	}
	return base, true
}

// thresholdGrowth is the finding when RSS's level now is over the
// threshold above base, beyond doubt, out of its cooldown, and not racing
// to its limit (the MemoryNearLimit alert's case), and the growth. It
// names rss; attribute decides.
func (a *Analyzer) thresholdGrowth(now time.Time, t float64, base thresholdBase) (f Finding, growth float64, ok bool) {
	lw := a.cfg.levelWindow.Hours()
	rssSig := &a.signals[idxRSS]
	rss, n, ok := rssSig.medianOver(t-lw, t)
	growth = rss - base.rss
	// The level must be over the threshold and the growth beyond doubt: a
	// GC sawtooth makes even a 30-minute level wander. (The error is
	// taken last: most buckets of most series end at the threshold.)
	if growth < float64(a.cfg.threshold) || !ok || growth < thresholdZ*math.Sqrt2*rssSig.levelError(n) {
		return f, 0, false
	}
	if a.thresh.fired && t-a.thresh.lastFired < a.cfg.cooldown.Hours() {
		return f, 0, false
	}
	// The newest few buckets against the level window before, and
	// against the oldest few of the level window, to see whether RSS is
	// racing to its limit. A fill that began within the last half hour
	// rises faster than the first rate says: a level window before it
	// that was flat halves that rate.
	prev, _ := rssSig.levelKnown(t-2*lw, t-lw)
	early, _ := rssSig.levelKnown(t-lw, t-2*lw/3)
	recent, _ := rssSig.levelKnown(t-lw/3, t)
	rate := max((recent-prev)/(lw*4/3), (recent-early)/(lw*2/3))
	if a.racingToLimit(recent, rate, 3*lw) {
		return f, 0, false
	}
	f = Finding{
		Signal:   SignalRSS,
		Time:     now,
		Reason:   ReasonThreshold,
		Rate:     saturate(growth / base.since),
		Growth:   saturate(growth),
		Baseline: saturate(base.rss),
		Current:  saturate(rss),
		Window:   time.Duration(base.since * float64(time.Hour)),
	}
	f.TimeToLimit = a.timeToLimit(idxRSS, growth/base.since)
	return f, growth, true
}

// attribute names the signal RSS's growth belongs to. RSS runs at some
// multiple of the live heap; when the heap's growth times that multiple
// explains at least half of RSS's, the heap leaks. When the heap's level
// is too uncertain to tell (a large heap held between GC cycles, with
// correlated noise), ok is false and the finding waits: RSS keeps growing
// and the answer gets clearer, where a guess now would name the wrong
// signal. Without a heap level at the baseline, RSS speaks for itself.
func (a *Analyzer) attribute(t float64, base thresholdBase, growth float64) (signal string, ok bool) {
	if base.heap <= 0 {
		return SignalRSS, true
	}
	heap, heapSE := a.signals[idxHeap].levelOver(t-a.cfg.levelWindow.Hours(), t)
	ratio := max(1, base.rss/base.heap)
	explained := (heap - base.heap) * ratio
	switch doubt := attributionZ * math.Sqrt2 * heapSE * ratio; {
	case explained >= 0.5*growth:
		return SignalHeapLive, true
	case explained+doubt >= 0.5*growth:
		return "", false
	}
	return SignalRSS, true
}
