package rtmetrics

import (
	"runtime/metrics"
	"testing"
)

// TestNamesExist: every name is one this Go's runtime/metrics supports,
// so none reads as a silent 0.
func TestNamesExist(t *testing.T) {
	names := []string{HeapLive, HeapObjects, HeapObjectBytes, HeapGoal, HeapAllocs, Stacks, Goroutines, GCCycles, GOMEMLIMIT}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	for _, s := range samples {
		if s.Value.Kind() != metrics.KindUint64 {
			t.Errorf("%s: kind %v, want uint64", s.Name, s.Value.Kind())
		}
	}
	if Uint(samples[6]) == 0 {
		t.Error("no goroutines counted")
	}
	if Uint(metrics.Sample{Name: "/no/such:metric"}) != 0 {
		t.Error("an unsupported metric must read 0")
	}
}
