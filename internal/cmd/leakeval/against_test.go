package main

import (
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// tallyOf makes a tally of runs: a latency in minutes, or -1 for never,
// each found by the deadline when within deadline minutes.
func tallyOf(deadline int, minutes ...int) *tally {
	t := &tally{}
	for _, m := range minutes {
		lat := time.Duration(m) * time.Minute
		if m < 0 {
			lat = -1
		}
		t.add(scenario.Result{Detected: m >= 0 && m <= deadline, Latency: lat})
	}
	return t
}

func TestAgainstOracle(t *testing.T) {
	sure := tallyOf(60, 10, 20, 20, 30)
	for _, tt := range []struct {
		name       string
		mw, oracle *tally
		want       string // "" holds, else a part of why not
	}{
		{"within both ratios", tallyOf(60, 20, 24, 26, 60), sure, ""},
		{"median over 1.3x", tallyOf(60, 20, 27, 27, 30), sure, "median 27m0s, over 1.3x the oracle's 20m0s"},
		{"slowest over 2x", tallyOf(60, 10, 20, 20, 61), sure, "slowest 1h1m0s, over 2x the oracle's 30m0s"},
		{"a series never found", tallyOf(60, 10, 20, 20, -1), sure, "slowest never"},
		{"oracle unsure, enough found", tallyOf(60, 50, 55, -1, -1), tallyOf(60, 40, 50, 70, -1), ""},
		{"oracle unsure, too few found", tallyOf(60, 50, 70, -1, -1), tallyOf(60, 40, 50, 70, -1), "found 1 by the deadline, under 80% of the oracle's 2"},
	} {
		got := againstOracle(tt.mw, tt.oracle)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
