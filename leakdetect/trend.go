package leakdetect

import "math"

// fit is the outcome of the trend rule for one signal.
type fit struct {
	leak       bool
	rate       float64 // per hour
	recentRate float64 // per hour, over the newer half of the window
	window     float64 // hours
	startLevel float64
	z          float64
	// rateLater: the window (of buckets) was not fitted, its slope not
	// needed for the decision; the rate gauge fits it when read (see
	// settleRate).
	rateLater  bool
	rateWindow int
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
		if g := int(a.cfg.refits[wi]); g > 1 && (a.closes+wi)%g != 0 && (part != 0 || first.window != 0) {
			continue
		}
		wh := w.Hours()
		win := s.points(now-wh, a.cfg.maxPoints, wi >= a.cfg.coarseFrom)
		pts, group, n := win.pts, win.group, win.n
		if len(pts) < minPoints || pts[0].t > now-wh*0.9 {
			break // not enough history for this window or any longer one
		}
		if i == idxHeap && s.windowReadings(&win) < minReadings {
			continue // too few GC cycles in the window; a longer one may hold enough
		}
		pv, ok := s.noise.pointVariance(group, n)
		if !ok {
			break // the noise is not known yet
		}
		// A fit is only read for a leak: skip it when its slope cannot
		// reach the least a leak needs (see leastSlope). The shortest
		// window's slope is the rate gauge, fitted when read.
		if fitHook == nil && slopeBelow(pts, a.leastSlope(i, pts, pv, wh)) {
			if part == 0 && first.window == 0 {
				first = fit{window: pts[len(pts)-1].t - pts[0].t, rateWindow: wi, rateLater: win.units == 0}
				if !first.rateLater {
					first.rate, _ = theilSen(pts)
				}
			}
			continue
		}
		r := fitPoints(pts, pv)
		if fitHook != nil {
			fitHook(i, r)
		}
		f := fit{rate: r.slope, window: pts[len(pts)-1].t - pts[0].t, startLevel: startLevel(pts, r), z: r.z}
		if first.window == 0 {
			first = f
		}
		recent, ok := a.isLeak(i, r, &win, now, wh)
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
	return max(r.at(pts[0].t), minLevel(pts))
}

func minLevel(pts []point) float64 {
	// On sort keys: an integer min takes no branch and waits on no
	// float unit (see sortKey).
	m := sortKey(pts[0].y)
	for _, p := range pts[1:] {
		m = min(m, sortKey(p.y))
	}
	return fromSortKey(m)
}

// isLeak applies the decision rule to a window's fit. With a leak it also
// returns the rate now: the larger of the window's and its newer half's,
// since a window that begins before the leak did underrates it.
func (a *Analyzer) isLeak(i int, r regression, win *window, now, wh float64) (recent float64, leak bool) {
	c := &a.cfg
	pts := win.pts
	// Bytes must grow fast in absolute terms and relative to their level:
	// a 4 GB heap gaining 1 MB an hour is fragmentation or a cache, a
	// 60 MB heap gaining it is 40% bigger by the next day. The level is
	// where the window's line starts, what the growth is a share of: a
	// long window's mean is raised by the leak itself, and would hold a
	// slow leak to a rate its own growth keeps putting out of reach.
	level := startLevel(pts, r)
	minRate, minGrowth := a.leastRate(i, level), c.minGrowth[i]
	if i != idxGoroutines {
		minGrowth = max(minGrowth, c.minRelGrowth*floorBase(level))
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
		if alt, g := s.regroup(win); len(alt) >= minPoints {
			pv, _ := s.noise.pointVariance(g, win.n)
			if ar := fitPoints(alt, pv); ar.z < c.significance || ar.zRMS < c.significance {
				return 0, false
			}
		}
		// RSS that grows with the live heap is the heap's leak, reported
		// as heap_live; rss is for growth the heap does not explain.
		h := &a.signals[idxHeap]
		hw := h.points(now-wh, c.maxPoints, win.units > 0)
		if len(hw.pts) >= minPoints {
			pv, _ := h.noise.pointVariance(hw.group, hw.n)
			if h := fitPoints(hw.pts, pv); h.slope+2*h.se > heapExplainsRSS*r.slope {
				return 0, false
			}
		}
	}
	return max(r.slope, second.slope), true
}

// leastRate is the least rate per hour a leak of signal i from level
// must show (before the standard errors it must clear that by). It never
// falls as the level rises, so the lowest level a window shows gives a
// bound for any line through it.
func (a *Analyzer) leastRate(i int, level float64) float64 {
	c := &a.cfg
	if i == idxGoroutines {
		return c.minRate[i]
	}
	return max(c.minRate[i], c.minRelRate*floorBase(level))
}

// leastSlope is a slope below which a window's fit through pts cannot be
// a leak, known before fitting it: isLeak wants the slope at least
// floorZ standard errors over the least rate and significance errors
// over zero, and the error is at least what the point variance pv
// implies (see fitPoints). On a flat series most windows' slopes are far
// under it, and counting pairwise slopes against it is several times
// cheaper than the fit. It is shaded down by a part in 10^9 so that
// rounding cannot skip a fit that would have passed.
func (a *Analyzer) leastSlope(i int, pts []point, pv, wh float64) float64 {
	// One pass over the times less the first, so that their squares
	// cancel no digits that matter: rounding stays far under the
	// shading.
	t0 := pts[0].t
	var su, suu float64
	for _, p := range pts {
		u := p.t - t0
		su, suu = su+u, suu+u*u
	}
	sxx := suu - su*su/float64(len(pts))
	lb := a.leastRate(i, minLevel(pts))
	if sxx > 0 {
		se := math.Sqrt(pv) * 1.1 / math.Sqrt(sxx)
		lb = max(lb+a.cfg.floorZ(wh)*se, a.cfg.significance*se)
	}
	return lb * (1 - 1e-9)
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
	return min(level, math.Sqrt(max(level, 0)*floorKnee))
}

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
