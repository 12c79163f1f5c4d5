package leakdetect

import (
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// TestStepInsideAPoint: a 50 MB step that fell inside one 4-minute point
// (a live heap held between GC cycles every 5 minutes, AR(1) noise; the
// points of a false alarm the first step test let through) is a step, not
// a line; a line with the same noise is not a step.
func TestStepInsideAPoint(t *testing.T) {
	levels := []float64{182.5, 189.2, 197.3, 193.9, 212.7, 233.8, 225.1, 241.2, 242.0, 239.8, 243.2}
	var step, line []point
	for i, y := range levels {
		tm := 4.767 + float64(i)/15
		step = append(step, point{t: tm, y: y * scenario.MB})
		noise := []float64{0, 4, -3, 1, -4, 3, -2, 2, 0, -3, 4}[i]
		line = append(line, point{t: tm, y: (180 + 100*(tm-4.767) + noise) * scenario.MB})
	}
	if !fitsStep(step, fitPoints(step, 0)) {
		t.Error("a step inside the fifth point passes for a line")
	}
	if fitsStep(line, fitPoints(line, 0)) {
		t.Error("a noisy line passes for a step")
	}
}

// TestStepCostBoundsPlateaus: a batch job's 12-minute plateau each hour,
// 100 MB up, in a 20 MB/h leak (the 100-minute window's 8-minute points,
// seed 2 at 60-s sampling, 2h30 in; the plateau before and the one under
// way at the end). Counted in full, the plateau points' residuals cost
// the line and a step split before the last two points alike and swamp
// the difference the other points show: the leak passed for a step, and
// at 60-s sampling the hourly batch leak went unfound for 2h30. Each
// residual counts at most stepCostBound deviations of a point's noise. A
// real step under the same plateaus is still a step.
func TestStepCostBoundsPlateaus(t *testing.T) {
	leak := []point{{0.9000, 198.47}, {1.0333, 200.27}, {1.1667, 201.77}, {1.3000, 205.92}, {1.4333, 308.56}, {1.5667, 212.61},
		{1.7000, 212.05}, {1.8333, 215.60}, {1.9667, 215.73}, {2.1000, 220.68}, {2.2333, 226.88}, {2.3667, 327.18}, {2.4667, 328.36}}
	step := make([]point, len(leak))
	for i, p := range leak {
		// the leak's noise around its line, on two levels 25 MB apart
		y := p.y - (200 + 20*(p.t-0.9))
		if i >= 6 {
			y += 25
		}
		step[i] = point{t: p.t, y: (200 + y) * scenario.MB}
		leak[i].y *= scenario.MB
	}
	pv := 5.45 * 5.45 * scenario.MB * scenario.MB // the history's noise then
	if fitsStep(leak, fitPoints(leak, pv)) {
		t.Error("a 20 MB/h leak under batch plateaus passes for a step")
	}
	if !fitsStep(step, fitPoints(step, pv)) {
		t.Error("a 25 MB step under batch plateaus passes for a line")
	}
}

// TestStepUnderGCHeldHeapNotFlagged replays the series on which that
// false alarm was raised (seed 8, 20-s ± 50% sampling with a gap).
func TestStepUnderGCHeldHeapNotFlagged(t *testing.T) {
	for _, c := range scenario.Catalog() {
		if !strings.HasPrefix(c.Name, "one-time step") {
			continue
		}
		c = scenario.Realism{GCPeriod: 5 * time.Minute, CorrTime: time.Minute}.Apply(c)
		c = scenario.Sampling{Interval: 20 * time.Second, Jitter: 0.5, Gap: 20 * time.Minute}.Apply(c)
		if r := scenario.Evaluate(c, 8, detector(t)); r.FalseAlarms > 0 {
			t.Errorf("%s seed 8: %d false alarms", c.Name, r.FalseAlarms)
		}
		return
	}
	t.Fatal("no one-time step case in the catalog")
}

// TestBatchLeakNotTakenForAStep: with the plateaus held out of the noise,
// the step test was what kept the hourly batch leak unfound (1h50m30 at
// 10-s sampling for seeds 2 to 5, 2h30 at 60 s for seeds 2, 3 and 6): the
// plateaus' residuals drowned the line's advantage over a step.
func TestBatchLeakNotTakenForAStep(t *testing.T) {
	for _, c := range []struct {
		sm     scenario.Sampling
		seeds  []uint64
		within time.Duration
	}{
		{scenario.Sampling{Interval: 10 * time.Second}, []uint64{2, 3, 4, 5}, 75 * time.Minute},
		{scenario.Sampling{Interval: time.Minute}, []uint64{2, 3, 6}, 2 * time.Hour},
	} {
		for _, seed := range c.seeds {
			r := replay(t, scenario.Catalog(), "heap 20 MB/h, hourly batch", c.sm, seed)
			if r.Latency < 0 || r.Latency > c.within || r.FalseAlarms > 0 {
				t.Errorf("%+v seed %d: latency %v (-1ns: never), %d false alarms; want found within %v, none", c.sm, seed, r.Latency, r.FalseAlarms, c.within)
			}
		}
	}
}
