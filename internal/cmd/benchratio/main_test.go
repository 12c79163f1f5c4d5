package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkSnapshot/baseline-2   	  500000	      2000 ns/op	       0 B/op	       0 allocs/op
BenchmarkSnapshot/baseline-2   	  500000	      2200 ns/op	       0 B/op	       0 allocs/op
BenchmarkSnapshot/baseline-2   	  500000	      9000 ns/op	       0 B/op	       0 allocs/op
BenchmarkSnapshot/snapshot-2   	  500000	      2400 ns/op	       0 B/op	       0 allocs/op
BenchmarkSnapshot/snapshot-2   	  500000	      2420 ns/op	       0 B/op	       0 allocs/op
BenchmarkSnapshot/snapshot-2   	  500000	      2440 ns/op	       0 B/op	       0 allocs/op
BenchmarkOther-2                	  100	      10 ns/op
PASS
`

func TestReportRatiosOfMedians(t *testing.T) {
	var out strings.Builder
	ok, err := report(strings.NewReader(sample), &out, limits{"BenchmarkSnapshot/snapshot": 1.25})
	if err != nil || !ok {
		t.Fatalf("report = %v, %v\n%s", ok, err, out.String())
	}
	// Medians 2200 and 2420: the 9000 outlier does not count.
	if !strings.Contains(out.String(), "| BenchmarkSnapshot/snapshot | 3 | 2420 | 0 | 0 | 1.10x | ≤ 1.25x |") {
		t.Errorf("unexpected report:\n%s", out.String())
	}
}

func TestReportFailsOverLimit(t *testing.T) {
	var out strings.Builder
	ok, err := report(strings.NewReader(sample), &out, limits{"BenchmarkSnapshot/snapshot": 1.05})
	if err != nil || ok {
		t.Fatalf("report = %v, %v; want a failure over 1.05x", ok, err)
	}
	if !strings.Contains(out.String(), "FAIL") {
		t.Errorf("report does not mark the failure:\n%s", out.String())
	}
}

func TestLimitsRejectBadValues(t *testing.T) {
	for _, s := range []string{"x", "x=", "x=-1", "x=abc"} {
		if err := (limits{}).Set(s); err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("Set(%q) = %v, want an error naming it", s, err)
		}
	}
	if _, err := report(strings.NewReader(sample), &strings.Builder{}, limits{"BenchmarkNope/x": 2}); err == nil {
		t.Error("a -max for a missing benchmark was accepted")
	}
}
