package baseline

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// TestFirstVersionAsPublished holds the frozen analyzer to the leak rows
// of the first version's published scorecard (BENCHMARKS.md at 538bb09:
// seeds 1-10, every 10 s, 30 s ± 50% and 60 s; detected, and the median
// and largest latency over the series found, as it counted then). If the
// copy or the scenario generator drifts, the latency table leakeval
// prints beside it no longer measures against the first version.
func TestFirstVersionAsPublished(t *testing.T) {
	published := map[string]string{
		"heap 60 MB/h":                           "30/30 22m0s / 30m0s",
		"heap 60 MB/h from start":                "30/30 30m0s / 32m0s",
		"heap 20 MB/h":                           "30/30 46m0s / 58m0s",
		"heap 20 MB/h, 7% noise":                 "29/30 1h14m0s / 1h58m0s",
		"heap 20 MB/h, GC churn RSS 1-3x":        "30/30 46m0s / 58m0s",
		"heap 20 MB/h, hourly batch +50% 12 min": "30/30 1h22m0s / 2h50m0s",
		"heap 20 MB/h after 10 h flat":           "30/30 48m0s / 54m0s",
		"heap 5 MB/h":                            "30/30 3h12m0s / 3h40m0s",
		"2 GB heap, 2% noise, 80 MB/h":           "30/30 1h4m0s / 1h30m0s",
		"RSS 30 MB/h, live heap flat":            "30/30 50m0s / 55m0s",
		"goroutines 150/h":                       "30/30 22m0s / 24m0s",
	}
	seen := 0
	for _, c := range scenario.Catalog() {
		want, ok := published[c.Name]
		if !ok {
			continue
		}
		seen++
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			var lats []time.Duration
			detected := 0
			for _, sm := range scenario.Samplings()[:3] {
				ci := sm.Apply(c)
				for seed := uint64(1); seed <= 10; seed++ {
					r := scenario.Evaluate(ci, seed, Detector())
					if r.Detected {
						detected++
					}
					if r.Latency >= 0 {
						lats = append(lats, r.Latency)
					}
				}
			}
			slices.Sort(lats)
			got := fmt.Sprintf("%d/30", detected)
			if len(lats) > 0 {
				got += fmt.Sprintf(" %v / %v", lats[len(lats)/2].Round(time.Minute), lats[len(lats)-1].Round(time.Minute))
			}
			if got != want {
				t.Errorf("got %s, published %s", got, want)
			}
		})
	}
	if seen != len(published) {
		t.Fatalf("%d of the %d published cases are in the catalog", seen, len(published))
	}
}
