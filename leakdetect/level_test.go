package leakdetect

import (
	"math"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// TestSawtoothBucketLevel: a 2-minute bucket of 10-s samples of a 90-s
// sawtooth from 200 to 600 MB holds 1⅓ periods, so which phases it holds
// twice depends on where it starts. The middle of the full range is 378 MB
// (its sampled trough and peak) at every start; the middle of the
// second-lowest and second-highest moved between 356 and 400 MB, a wave
// three buckets long that the fit read as noise (the real suite: RSS 30 MB/h
// under such a sawtooth was found after 2h09).
func TestSawtoothBucketLevel(t *testing.T) {
	for start := 0; start < 9; start++ {
		var s series
		s.init(4, 0, true)
		s.buffers = new(buffers)
		for i := range 12 {
			phase := float64((start+i)%9) / 9
			s.add(float64(i)*10/3600, (200+400*phase)*scenario.MB, 2.0/60)
		}
		s.close(2.0 / 60)
		if got := s.level(0) / scenario.MB; math.Abs(got-377.8) > 0.5 {
			t.Errorf("bucket starting at phase %d/9: level %.1f MB, want 377.8", start, got)
		}
	}
	// Noise that jumps from sample to sample is not a sawtooth: its level
	// is the middle of the second extremes, which one wild sample cannot
	// move.
	var s series
	s.init(4, 0, true)
	s.buffers = new(buffers)
	vals := make([]float64, 12)
	for i := range vals {
		vals[i] = 400*scenario.MB + float64((i%2)*2-1)*float64(1+i%3)*8*scenario.MB
		s.add(float64(i)*10/3600, vals[i], 2.0/60)
	}
	s.close(2.0 / 60)
	if got, want := s.level(0), midrange2(vals); got != want {
		t.Errorf("noisy bucket: level %.0f, want the middle of the second extremes %.0f", got, want)
	}
}

// TestSparseSawtoothLevels: sampled every 60 s, a 90-s sawtooth from 200
// to 600 MB puts two phases in each 2-minute bucket, the same three pairs
// in turn; their means were 333, 267 and 400 MB, a 6-minute wave that hid
// an RSS leak of 30 MB/h for more than 2 hours (the real suite). With the newest
// samples of the buckets before, every level sees all three phases. After
// a gap, samples from before it are not pooled.
func TestSparseSawtoothLevels(t *testing.T) {
	const width = 2.0 / 60
	var s series
	s.init(64, 0, true)
	s.buffers = new(buffers)
	sawtooth := func(i int) float64 { return (200 + 400*float64(i%3)/3) * scenario.MB }
	for i := range 40 {
		s.add(float64(i)/60, sawtooth(i), width)
	}
	for k := range s.count - 3 {
		if got := s.level(k) / scenario.MB; math.Abs(got-333.3) > 0.5 {
			t.Errorf("bucket %d back: level %.1f MB, want 333.3 at every bucket", k, got)
		}
	}
	// The threshold rule's levels stay the buckets' own: a plateau must
	// not spread into the buckets after it.
	for k := range s.count {
		// Closed buckets keep their levels to float32 precision.
		want := float64(float32((sawtooth(2*(s.count-k)-1) + sawtooth(2*(s.count-k)-2)) / 2))
		if got := s.own(k); got != want {
			t.Errorf("bucket %d back: own level %.1f MB, want the mean of its own two samples, %.1f", k, got/scenario.MB, want/scenario.MB)
		}
	}
	// An hour later, at 1 GB: the first bucket's level is its own two
	// samples', not pulled down by the 200-600 MB samples before the gap.
	s.add(2, 1000*scenario.MB, width)
	s.add(2+1.0/60, 1000*scenario.MB, width)
	s.add(2+2.0/60, 1000*scenario.MB, width) // closes the 2-hour bucket
	if got := s.level(0) / scenario.MB; got != 1000 {
		t.Errorf("first bucket after a gap: level %.1f MB, want 1000", got)
	}
}

// TestFewGCCyclesAreFewReadings: a live heap read at the end of GC cycles
// 20 minutes apart (GOGC=off under a far GOMEMLIMIT) has three or four
// readings in an hour, however often it is sampled. A flat one drew a
// trend finding 1h19 in (seed 8 at 60 s) from a 56-minute window of
// them; a window now needs minReadings readings. A slow leak under the
// same cycles is still found, by longer windows.
func TestFewGCCyclesAreFewReadings(t *testing.T) {
	realism := scenario.Realism{GCPeriod: 20 * time.Minute, CorrTime: 2 * time.Minute}
	samplings := []scenario.Sampling{{Interval: 10 * time.Second}, {Interval: time.Minute}}
	for _, c := range scenario.Catalog() {
		switch c.Name {
		case "flat, 8% noise":
			c.Duration = 12 * time.Hour
		case "heap 5 MB/h":
		default:
			continue
		}
		c = realism.Apply(c)
		for _, sm := range samplings {
			c := sm.Apply(c)
			for seed := uint64(1); seed <= 8; seed++ {
				r := scenario.Evaluate(c, seed, detector(t))
				if r.FalseAlarms > 0 || (c.Want != "" && !r.Detected) {
					t.Errorf("%s seed %d: %d false alarms, found in time %v (after %v)", c.Name, seed, r.FalseAlarms, r.Detected, r.Latency)
				}
			}
		}
	}
}
