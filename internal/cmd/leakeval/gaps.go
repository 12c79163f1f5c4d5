package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
	"github.com/memwatch/memwatch/leakdetect"
)

// gapLengths are the silences printGaps puts 24 hours into a series.
var gapLengths = []time.Duration{0, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 20 * time.Hour, 23*time.Hour + 50*time.Minute}

// printGaps shows what a silence does to the analyzer: for each gap
// length, a heap of 200 MB (4% noise plus 3% correlated over 2 minutes,
// GC every minute) that is silent from hour 24, on its own and with the
// level 60 MB higher after the gap (a redeploy), then either stays flat or
// leaks 30 MB/h from 10 minutes after the gap. It prints the median and
// slowest latency of the leaks and the findings on the flat twins.
func printGaps(w io.Writer, seeds, first int) {
	fmt.Fprintln(w, "| gap | level after | leak found | median | slowest | findings on flat |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, step := range []float64{0, 60 * scenario.MB} {
		for _, gap := range gapLengths {
			s := scenario.Scenario{Name: "gap", Duration: 72 * time.Hour, Interval: 10 * time.Second,
				HeapBase: 200 * scenario.MB, Noise: 0.04, CorrNoise: 0.03, CorrTime: 2 * time.Minute, GCPeriod: time.Minute,
				Goroutines: 200, GoroutineNoise: 0.03, RSSOverhead: 1.4,
				GapAt: 24 * time.Hour, GapDuration: gap}
			if step > 0 {
				s.Step, s.StepAt = step, 24*time.Hour+gap
			}
			flat, leak := s, s
			leak.LeakStart, leak.HeapLeak = 24*time.Hour+gap+10*time.Minute, 30*scenario.MB
			var lat []float64
			falseAlarms := 0
			for seed := uint64(first); seed < uint64(first+seeds); seed++ {
				if h, ok := firstHeapFinding(leak, seed); ok {
					lat = append(lat, h)
				}
				falseAlarms += countFindings(flat, seed)
			}
			slices.Sort(lat)
			med, slow := "-", "-"
			if len(lat) > 0 {
				med, slow = fmt.Sprintf("%.2f h", lat[len(lat)/2]), fmt.Sprintf("%.2f h", lat[len(lat)-1])
			}
			fmt.Fprintf(w, "| %v | +%.0f MB | %d/%d | %s | %s | %d |\n", gap, step/scenario.MB, len(lat), seeds, med, slow, falseAlarms)
		}
	}
}

// firstHeapFinding is the hours from the leak's start to its first
// heap_live finding.
func firstHeapFinding(s scenario.Scenario, seed uint64) (float64, bool) {
	a, _ := leakdetect.NewAnalyzer()
	for _, x := range s.Samples(seed) {
		for _, f := range a.Observe(leakdetect.Sample(x)) {
			if f.Signal == leakdetect.SignalHeapLive {
				return x.Time.Sub(scenario.Start.Add(s.LeakStart)).Hours(), true
			}
		}
	}
	return 0, false
}

func countFindings(s scenario.Scenario, seed uint64) int {
	a, _ := leakdetect.NewAnalyzer()
	n := 0
	for _, x := range s.Samples(seed) {
		n += len(a.Observe(leakdetect.Sample(x)))
	}
	return n
}
