package main

import (
	"math"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

func catalogCase(t *testing.T, name string) scenario.Case {
	t.Helper()
	for _, c := range scenario.Catalog() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no catalog case %q", name)
	return scenario.Case{}
}

// TestSumsSlope: the prefix sums give a line's exact slope in MB an hour,
// and refuse a window that a gap left with too few samples.
func TestSumsSlope(t *testing.T) {
	var samples []scenario.Sample
	for t := time.Duration(0); t <= 4*time.Hour; t += 10 * time.Second {
		if t > 2*time.Hour && t < 3*time.Hour {
			continue
		}
		samples = append(samples, scenario.Sample{Time: scenario.Start.Add(t), HeapLive: uint64(100e6 + 30e6*t.Hours())})
	}
	s := newSums(samples, signalValue("heap_live"), 4*time.Hour, 10*time.Second)
	if b, ok := s.slope(0, 60); !ok || math.Abs(b-30) > 1e-6 {
		t.Errorf("slope over the first 2 hours = %v, %v; want 30 MB/h", b, ok)
	}
	if _, ok := s.slope(55, 90); ok {
		t.Error("a window of 70 minutes holding 10 minutes of samples has a slope")
	}
	if b, ok := s.slope(45, 105); !ok || math.Abs(b-30) > 1e-6 {
		t.Errorf("slope across the gap = %v, %v; want 30 MB/h (half the window has samples)", b, ok)
	}
}

// TestTwinSpreadIsTheTrueError: on independent noise the twins' spread of
// the slope is the textbook standard error, sigma / sqrt(Sxx).
func TestTwinSpreadIsTheTrueError(t *testing.T) {
	c := scenario.Samplings()[2].Apply(catalogCase(t, "heap 20 MB/h")) // every 60 s
	se, _ := twinSpread(c, []int{60}, 1, 5)
	// 120 samples a minute apart, noise 2% of 200 MB.
	n := 120.0
	sxx := n * (n*n - 1) / 12 / 3600
	want := 0.02 * c.HeapBase / scenario.MB / math.Sqrt(sxx)
	if math.Abs(se[0]/want-1) > 0.05 {
		t.Errorf("2-hour slope error %.3f MB/h, want %.3f", se[0], want)
	}
}

// TestBoundFlagsNoTwin: a leak of rate 0 is its own twin, and the oracle's
// z* is the least that flags no twin: it must never flag; with the leak
// put back it finds every series.
func TestBoundFlagsNoTwin(t *testing.T) {
	c := scenario.Samplings()[0].Apply(catalogCase(t, "heap 5 MB/h"))
	var found tally
	boundSampling(c, 1, 5, &found)
	// 5 MB/h on 200 MB with 2% noise is about 7 errors of a 1-hour slope
	// and half of one of a 10-minute slope: found within 2 hours, by a
	// window of its own length.
	if last, ok := found.at(4); !ok || last > 2*time.Hour {
		t.Errorf("5 MB/h on 200 MB at 10 s: the oracle's latencies %v, want all within 2 hours", found.latencies)
	}
	c.HeapLeak = 0
	var none tally
	boundSampling(c, 1, 5, &none)
	if len(none.latencies) != 0 {
		t.Errorf("with no leak the oracle flagged %d of 5 series", len(none.latencies))
	}
}

// TestBoundHeldCorrelatedNoiseOutOfReach: the realistic 7%-noise leak's
// deadline is out of reach of any detector, which BENCHMARKS.md and the
// README state. If the generator changes so that the oracle meets it in
// every series, the criterion is reachable again and its known-miss note
// must go.
func TestBoundHeldCorrelatedNoiseOutOfReach(t *testing.T) {
	c := scenario.Realism{GCPeriod: 2 * time.Minute, CorrTime: 2 * time.Minute}.Apply(catalogCase(t, "heap 20 MB/h, 7% noise"))
	var found tally
	for _, sm := range scenario.Samplings() {
		boundSampling(sm.Apply(c), 1, 5, &found)
	}
	if found.detected == found.runs {
		t.Errorf("the oracle found all %d series within %v: the deadline is reachable", found.runs, c.Deadline)
	}
	if found.detected == 0 {
		t.Errorf("the oracle found none of %d series within %v: want some (22 to 63 of 100 at seeds 1-50 and 176-200)", found.runs, c.Deadline)
	}
	t.Logf("found %d of %d within %v", found.detected, found.runs, c.Deadline)
}

// TestOracleFlagsLookalikes: the oracle's rule, calibrated on flat twins,
// flags a one-time step of the same noise, and is not applied to
// never-flag cases of another noise.
func TestOracleFlagsLookalikes(t *testing.T) {
	leak := catalogCase(t, "heap 20 MB/h")
	var nevers []scenario.Case
	for _, c := range scenario.Catalog() {
		if c.Want == "" {
			nevers = append(nevers, c)
		}
	}
	sm := scenario.Samplings()[0]
	var oracle tally
	_, _, rule := boundSampling(sm.Apply(leak), 1, 2, &oracle)
	by := map[string]int{}
	looked := rule.flagNevers(leak, nevers, sm, 1, 2, by)
	if by["one-time step 50 MB"] != 2 {
		t.Errorf("the oracle flags %d of 2 one-time steps, want 2 (flagged: %v)", by["one-time step 50 MB"], by)
	}
	same := 0
	for _, n := range nevers {
		if sameNoise(leak.Scenario, n.Scenario) {
			same++
		}
	}
	if sameNoise(leak.Scenario, catalogCase(t, "flat 2 GB heap, 2% noise").Scenario) || same == 0 || looked != 2*same {
		t.Errorf("looked at %d series of %d cases of the same noise, want 2 each and not the 2 GB heap", looked, same)
	}
}
