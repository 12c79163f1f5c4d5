package leakdetect

import (
	"math/rand/v2"
	"testing"
)

// TestWhiteNoiseGrowthNotOverstated: before the larger scales are measured, their
// noise is extrapolated from how it grew between the largest two measured.
// On independent noise it does not grow, and the extrapolation must not
// read growth into the widening that fewer blocks get or into what the
// interquartile mean costs blocks of four. Over 300 series, the variance
// a 2-hour window's points of 4 buckets are judged by is on average 3.37
// times the true one after 2.8 hours and 2.83 after 6.7 (the early hours
// assume the worst on purpose: 3.15 after 2.8 hours before the 16-minute
// scale was held up for 30 differences, see freshDiffs); reading those
// as growth made it 3.53 (before that hold) and 3.03.
func TestWhiteNoiseGrowthNotOverstated(t *testing.T) {
	for _, tt := range []struct {
		buckets int
		most    float64
	}{{84, 3.5}, {200, 2.95}} {
		buckets := tt.buckets
		var sum float64
		const runs = 300
		for run := range runs {
			rng := rand.New(rand.NewPCG(uint64(run), 7))
			var s series
			s.init(720)
			for b := range buckets + 1 {
				s.add((float64(b)+0.5)/30, 100+rng.NormFloat64(), 1.0/30)
			}
			v, ok := s.noise.pointVariance(4, 60, &s.scratch)
			if !ok {
				t.Fatalf("%d buckets: no noise estimate", buckets)
			}
			// Points of 4 buckets are interquartile means: 1.19/4 is
			// their true variance.
			sum += v / (iqmVariance / 4)
		}
		if mean := sum / runs; mean > tt.most {
			t.Errorf("after %d buckets of white noise, points are judged by %.2f times their true variance; want at most %.2f", buckets, mean, tt.most)
		}
	}
}
