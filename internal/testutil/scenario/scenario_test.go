package scenario

import (
	"math"
	"testing"
	"time"
)

// TestShapes checks the generator makes what the names say, noise off.
func TestShapes(t *testing.T) {
	s := Scenario{
		Duration: 3 * time.Hour, Interval: time.Minute,
		HeapBase: 100 * MB, Goroutines: 10,
		LeakStart: time.Hour, HeapLeak: 30 * MB, GoroutineLeak: 60, RSSLeak: 10 * MB,
		Batch: 0.5, BatchHold: 12 * time.Minute, BatchOffset: 20 * time.Minute,
	}
	at := func(d time.Duration) Sample {
		for _, x := range s.Samples(1) {
			if x.Time.Equal(Start.Add(d)) {
				return x
			}
		}
		t.Fatalf("no sample at %v", d)
		return Sample{}
	}
	near := func(got uint64, want float64) bool { return math.Abs(float64(got)-want) < 1 }
	if x := at(30 * time.Minute); !near(x.HeapLive, 150*MB) {
		t.Errorf("heap during the batch = %d, want base + 50%%", x.HeapLive)
	}
	if x := at(2*time.Hour + 45*time.Minute); !near(x.HeapLive, 100*MB+1.75*30*MB) || x.Goroutines != 10+105 {
		t.Errorf("heap %d goroutines %d 1h45m into the leak", x.HeapLive, x.Goroutines)
	}
	if x := at(2*time.Hour + 45*time.Minute); !near(x.RSS, 1.4*(100*MB+1.75*30*MB)+1.75*10*MB) {
		t.Errorf("RSS %d, want 1.4x heap plus the off-heap leak", x.RSS)
	}
	// Seeds change the noise, not the shape; the same seed repeats.
	n := s
	n.Noise = 0.05
	a, b, c := n.Samples(1), n.Samples(1), n.Samples(2)
	if a[10] != b[10] || a[10] == c[10] {
		t.Error("series are not deterministic per seed")
	}
}

func TestJitterKeepsOrder(t *testing.T) {
	s := Scenario{Duration: time.Hour, Interval: 30 * time.Second, Jitter: 0.5, HeapBase: MB, Goroutines: 1}
	xs := s.Samples(3)
	for i := 1; i < len(xs); i++ {
		gap := xs[i].Time.Sub(xs[i-1].Time)
		if gap < 15*time.Second || gap > 45*time.Second {
			t.Fatalf("gap %v outside 30 s ± 50%%", gap)
		}
	}
}
