package leakdetect

import "math"

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
	cost := func(d float64) float64 { return min(math.Abs(d), bound) }
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
			lo, hi := min(ml, mr), max(ml, mr)
			if y := pts[k].y; y >= lo && y <= hi {
				return true
			}
		}
	}
	return false
}
