package leakdetect

import "math"

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
	slope, ok := theilSen(pts)
	if !ok {
		return regression{}
	}
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
	rms := math.Sqrt(sumsq / max(np-2, 1))
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
	hist := math.Sqrt(pointVar) * 1.1 // leastSlope reads the same bound
	sigma := max(spread*small*inflate, hist)
	r.se, r.sigma = sigma/math.Sqrt(sxx), sigma
	r.z = zScore(slope, r.se)
	r.zRMS = zScore(slope, max(rms*inflate, sigma)/math.Sqrt(sxx))
	return r
}

// theilSen is the median of the pairwise slopes of pts (up to maxPairs);
// ok is false when no two points differ in time.
func theilSen(pts []point) (slope float64, ok bool) {
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
		return 0, false
	}
	return medianInPlace(slopes[:n]), true
}

// slopeBelow reports whether the slope fitPoints would fit through pts
// (the median of the pairwise slopes) is below lb, by counting the
// slopes at or above it instead of selecting the median: most windows of
// a flat series are nowhere near a leak's rate, and this is several times
// cheaper than the fit. A pair is compared by multiplying, not dividing:
// the two differ by a rounding, which the callers' lb is shaded for. A
// window has at most maxPointsCap points, so theilSen takes every pair
// too. It counts points whose times strictly increase, as a window's
// do; of others it says false, not known to be below, and the caller
// fits them.
func slopeBelow(pts []point, lb float64) bool {
	if len(pts) < 2 || !increasing(pts) {
		return false
	}
	// The median is at or above lb once need of the slopes are, and
	// below it once too few are left to get there: rows are checked as
	// they end, so a flat series stops about halfway. (Sorted, the median
	// is the middle slope, or the mean of the two middle ones: at or
	// above lb only if the total-total/2 largest are.)
	total := len(pts) * (len(pts) - 1) / 2
	need := total - total/2
	above, left := 0, total
	for i, p := range pts {
		rest := pts[i+1:]
		for _, q := range rest {
			// a >= b is a-b's sign bit clear (for finite values:
			// rounding cannot take a difference across zero), counted
			// without a branch, which noise would mispredict.
			above += int(math.Float64bits((q.y-p.y)-lb*(q.t-p.t))>>63) ^ 1
		}
		left -= len(rest)
		if above >= need {
			return false
		}
		if above+left < need {
			return true
		}
	}
	return false
}

// increasing reports whether the points' times strictly increase.
func increasing(pts []point) bool {
	for i := 1; i < len(pts); i++ {
		if pts[i].t <= pts[i-1].t {
			return false
		}
	}
	return true
}

// autocorrelationInflation is sqrt((1+rho)/(1-rho)) for the lag-1
// autocorrelation rho of resid: of residuals clipped to 3 spreads (so a
// batch job's few adjacent points do not make it), corrected for its
// downward bias in short series, and kept within [0, 0.8].
func autocorrelationInflation(resid []float64, spread float64) float64 {
	clip := func(x float64) float64 { return min(max(x, -3*spread), 3*spread) }
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
	rho = min(max(rho, 0), 0.8)
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
