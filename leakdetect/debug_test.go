package leakdetect

import (
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/scenario"
)

func TestDebugFit(t *testing.T) {
	for _, c0 := range scenario.Catalog() {
		for _, iv := range []time.Duration{10 * time.Second, 30 * time.Second, time.Minute} {
			c := c0.WithInterval(iv, map[time.Duration]float64{30 * time.Second: 0.5}[iv])
			for seed := uint64(1); seed <= 2; seed++ {
				a, _ := NewAnalyzer()
				for _, s := range c.Samples(seed) {
					for _, f := range a.Observe(Sample(s)) {
						if c.Want != "" && f.Signal == c.Want && !f.Time.Before(scenario.Start.Add(c.LeakStart)) {
							continue
						}
						t.Logf("%s s%d: at %v %s %s rate=%.1f growth=%.1f base=%.1f window=%v z=%.1f", c.Name, seed, f.Time.Sub(scenario.Start), f.Signal, f.Reason, float64(f.Rate)/1e6, float64(f.Growth)/1e6, float64(f.Baseline)/1e6, f.Window.Round(time.Minute), f.Significance)
					}
				}
			}
		}
	}
}
