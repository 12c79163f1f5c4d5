package leakdetect

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// A comparison network sorts every input once it sorts every input of
// zeros and ones; sort8 and sort12 are checked on all of those, and on
// random levels with ties, signs and zeros against slices.Sort.
func TestSortNetworksSort(t *testing.T) {
	for _, tt := range []struct {
		n    int
		sort func([]float64)
	}{{8, sort8}, {12, sort12}} {
		v := make([]float64, tt.n)
		for bits := range 1 << tt.n {
			for i := range v {
				v[i] = float64(bits >> i & 1)
			}
			tt.sort(v)
			if !slices.IsSorted(v) {
				t.Fatalf("sort%d of the bits %b: %v", tt.n, bits, v)
			}
		}
		r := rand.New(rand.NewPCG(5, 6))
		for range 2000 {
			for i := range v {
				v[i] = math.Round(r.NormFloat64()*4) * 1e7
				if r.IntN(3) == 0 {
					v[i] = 2e8 + r.NormFloat64()
				}
			}
			want := slices.Clone(v)
			slices.Sort(want)
			tt.sort(v)
			if !slices.Equal(v, want) {
				t.Fatalf("sort%d: %v, want %v", tt.n, v, want)
			}
		}
	}
}

// sortKey orders as the floats do, and fromSortKey returns them.
func TestSortKeyOrders(t *testing.T) {
	vals := []float64{math.Inf(-1), -1e300, -2, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1, 2, 1e300, math.Inf(1)}
	for i, x := range vals {
		if got := fromSortKey(sortKey(x)); got != x {
			t.Errorf("fromSortKey(sortKey(%v)) = %v", x, got)
		}
		if i > 0 && sortKey(vals[i-1]) >= sortKey(x) {
			t.Errorf("sortKey(%v) >= sortKey(%v)", vals[i-1], x)
		}
	}
}
