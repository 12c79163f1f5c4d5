package leakdetect

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// since agrees with a bisection over the bucket times, on rings with and
// without gaps, for spans that start anywhere around them.
func TestSinceIsTheBisection(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for trial := range 300 {
		s := &series{buffers: bufferPool.Get().(*buffers)}
		s.init(64, 0, false)
		tm, width := 0.0, 1.0/30
		for range 20 + r.IntN(100) {
			tm += width
			if trial%2 == 1 && r.IntN(10) == 0 {
				tm += float64(1+r.IntN(5)) * width // a gap of whole buckets
			}
			s.add(tm, 100+r.NormFloat64(), width)
		}
		for range 50 {
			skip := r.IntN(s.count + 1)
			from := tm - r.Float64()*float64(s.count+5)*width
			want := sort.Search(s.count-skip, func(n int) bool { return s.t(skip+n) < from })
			if got := s.since(skip, from); got != want {
				t.Fatalf("trial %d: since(%d, %v) = %d, want %d", trial, skip, from, got, want)
			}
		}
	}
}
