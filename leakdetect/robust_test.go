package leakdetect

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSelectMatchesSort: the quickselect-based median and interquartile
// mean agree with sorting, on ties, runs and random values.
func TestSelectMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 80; n++ {
		for trial := range 20 {
			v := make([]float64, n)
			for i := range v {
				switch trial % 3 {
				case 0:
					v[i] = rng.NormFloat64()
				case 1:
					v[i] = float64(rng.IntN(3)) // ties
				default:
					v[i] = float64(i) // sorted
				}
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			m := len(sorted) / 2
			wantMed := sorted[m]
			if n%2 == 0 {
				wantMed = (sorted[m-1] + sorted[m]) / 2
			}
			if got := medianInPlace(slices.Clone(v)); got != wantMed {
				t.Fatalf("median of %v = %v, want %v", v, got, wantMed)
			}
			if n >= 3 {
				lo, hi := n/4, n-n/4
				var sum float64
				for _, x := range sorted[lo:hi] {
					sum += x
				}
				if got, want := trimmedMeanInPlace(slices.Clone(v)), sum/float64(hi-lo); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Fatalf("interquartile mean of %v = %v, want %v", v, got, want)
				}
			}
		}
	}
}

// spreadOfSorted gives exactly what two selections give, at every length
// and with ties.
func TestSpreadOfSortedIsTwoMedians(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 70; n++ {
		for range 50 {
			v := make([]float64, n)
			for i := range v {
				v[i] = math.Round(r.NormFloat64() * 4) // ties are common
			}
			w := slices.Clone(v)
			wantMed := medianInPlace(w)
			for i, x := range w {
				w[i] = math.Abs(x - wantMed)
			}
			wantMAD := medianInPlace(w)
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			med, mad := spreadOfSorted(sorted)
			if med != wantMed || mad != wantMAD {
				t.Fatalf("%v: median and spread %v, %v; want %v, %v", v, med, mad, wantMed, wantMAD)
			}
		}
	}
}

// slopeBelow, which stops counting once the answer is known, agrees with
// counting every pair, and never calls a median well above lb below it;
// of times that do not strictly increase it says false (the caller fits).
func TestSlopeBelowStopsEarlyAndAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 2; n <= maxPointsCap; n++ {
		for range 200 {
			pts := make([]point, n)
			trend := r.NormFloat64()
			for i := range pts {
				pts[i] = point{t: float64(i) + r.Float64()*0.5, y: trend*float64(i) + r.NormFloat64()}
			}
			if r.IntN(4) == 0 {
				pts[r.IntN(n)].t = pts[0].t // times that repeat
			}
			med, ok := theilSen(pts)
			if !ok {
				continue
			}
			for _, lb := range []float64{med - 1e-6, med + 1e-6, med - 0.5, med + 0.5, trend} {
				got, all := slopeBelow(pts, lb), slopeBelowAll(pts, lb)
				if !increasing(pts) {
					all = false
				}
				if got != all {
					t.Fatalf("%d points, lb %v: slopeBelow %v, counting every pair %v", n, lb, got, all)
				}
				// Below says the median is below; a median well above is
				// never called below.
				if lb == med-0.5 && got {
					t.Fatalf("%d points: slopeBelow(%v) = %v with the median slope at %v", n, lb, got, med)
				}
			}
		}
	}
}

// slopeBelowAll is the reference slopeBelow is held to: every pair of
// distinct times counted, then the median's side read from the count.
func slopeBelowAll(pts []point, lb float64) bool {
	n, above := 0, 0
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			if dt := pts[j].t - pts[i].t; dt > 0 {
				if pts[j].y-pts[i].y >= lb*dt {
					above++
				}
				n++
			}
		}
	}
	return n > 0 && above < n-n/2
}
