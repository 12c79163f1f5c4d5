package main

import (
	"testing"
	"time"

	"github.com/memwatch/memwatch/leakdetect"
)

// TestThinnedIsBoundedAndEven: two million samples keep at most
// maxPlotSamples, evenly spaced, from the first to near the last.
func TestThinnedIsBoundedAndEven(t *testing.T) {
	var th thinned
	t0 := time.Unix(1764547200, 0)
	const n = 2_000_000
	for i := range n {
		th.add(leakdetect.Sample{Time: t0.Add(time.Duration(i) * time.Second)})
	}
	if len(th.kept) > maxPlotSamples || len(th.kept) < maxPlotSamples/2 {
		t.Fatalf("kept %d samples, want %d to %d", len(th.kept), maxPlotSamples/2, maxPlotSamples)
	}
	if cap(th.kept) > 2*maxPlotSamples {
		t.Errorf("buffer capacity %d, want at most %d", cap(th.kept), 2*maxPlotSamples)
	}
	gap := th.kept[1].Time.Sub(th.kept[0].Time)
	for i := 1; i < len(th.kept); i++ {
		if d := th.kept[i].Time.Sub(th.kept[i-1].Time); d != gap {
			t.Fatalf("gap %v between kept samples %d and %d, want %v throughout", d, i-1, i, gap)
		}
	}
	if !th.kept[0].Time.Equal(t0) || t0.Add(n*time.Second).Sub(th.kept[len(th.kept)-1].Time) > gap {
		t.Errorf("kept %v to %v, want the whole stream", th.kept[0].Time, th.kept[len(th.kept)-1].Time)
	}
}
