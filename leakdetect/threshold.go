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
	th.rssBaseline, _ = rss.levelOver(from, from+bw)
	th.heapBaseline, _ = heap.levelOver(from, from+bw)
	th.baselineAt, th.baselineSet = from+bw/2, true
}

// threshold checks the fixed rule: RSS (its 30-minute level) more than the
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
		rssBase, baseSE = rssSig.levelOver(t-day-bw, t-day)
		heapBase, heapSE = heapSig.levelOver(t-day-bw, t-day)
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
	rss, se := rssSig.levelOver(t-lw, t)
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
	prev, _ := rssSig.levelOver(t-2*lw, t-lw)
	early, _ := rssSig.levelOver(t-lw, t-2*lw/3)
	recent, _ := rssSig.levelOver(t-lw/3, t)
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
		heap, heapSE := heapSig.levelOver(t-lw, t)
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
