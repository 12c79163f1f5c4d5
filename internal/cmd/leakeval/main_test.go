package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// writeCSV records a scenario's series as the replay format.
func writeCSV(t *testing.T, s scenario.Scenario) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("time,heap_live,rss,goroutines,limit\n")
	for _, x := range s.Samples(1) {
		fmt.Fprintf(&b, "%s,%d,%d,%d,%d\n", x.Time.Format(time.RFC3339), x.HeapLive, x.RSS, x.Goroutines, x.Limit)
	}
	path := filepath.Join(t.TempDir(), "series.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplayFindsTheRecordedLeak(t *testing.T) {
	leak := scenario.Scenario{Duration: 4 * time.Hour, Interval: 10 * time.Second, HeapBase: 200e6, Noise: 0.02,
		Goroutines: 50, LeakStart: time.Hour, HeapLeak: 40e6, Limit: 2e9}
	var out bytes.Buffer
	n, err := replayCSV(writeCSV(t, leak), &out)
	if err != nil || n == 0 {
		t.Fatalf("replay: %d findings, %v\n%s", n, err, out.String())
	}
	if !strings.Contains(out.String(), "heap_live trend") || !strings.Contains(out.String(), "limit in") {
		t.Errorf("output lacks the heap_live trend and its time to limit:\n%s", out.String())
	}
	flat := leak
	flat.HeapLeak = 0
	out.Reset()
	if n, err := replayCSV(writeCSV(t, flat), &out); err != nil || n != 0 {
		t.Errorf("flat series: %d findings, %v\n%s", n, err, out.String())
	}
}

func TestReplayNamesTheBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(path, []byte("time,rss\n1767571200,100\n1767571210,lots\n"), 0o600)
	_, err := replayCSV(path, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %v, want one naming line 3", err)
	}
}

// TestLatencyCountsMisses: a case found in a quarter of its runs has no
// median latency; the runs never flagged count as later than any found.
func TestLatencyCountsMisses(t *testing.T) {
	var few, most tally
	for i := range 4 {
		r := scenario.Result{Latency: -1}
		if i == 0 {
			r.Latency = time.Hour
		}
		few.add(r)
		r.Latency = time.Duration(i+1) * time.Hour
		if i == 3 {
			r.Latency = -1
		}
		most.add(r)
	}
	if got := few.latency(); got != "never / never" {
		t.Errorf("found in 1 of 4: latency %q, want never / never", got)
	}
	if got := most.latency(); got != "3h0m0s / never" {
		t.Errorf("found in 3 of 4 (1h, 2h, 3h): latency %q, want 3h0m0s / never", got)
	}
}

// TestChangeAgainstFirstVersion: the median change is signed minutes
// when both medians exist and says which side never found the leak
// otherwise.
func TestChangeAgainstFirstVersion(t *testing.T) {
	tallyOf := func(latencies ...time.Duration) *tally {
		var t tally
		for _, l := range latencies {
			t.add(scenario.Result{Latency: l})
		}
		return &t
	}
	never := time.Duration(-1)
	for _, c := range []struct {
		now, v0 *tally
		want    string
	}{
		{tallyOf(time.Hour, 90*time.Minute, 2*time.Hour), tallyOf(time.Hour, 70*time.Minute, 3*time.Hour), "+20 min"},
		{tallyOf(30*time.Minute, 40*time.Minute), tallyOf(50*time.Minute, 55*time.Minute), "-15 min"},
		{tallyOf(time.Hour, never, never), tallyOf(time.Hour, time.Hour, time.Hour), "never, v0 found"},
		{tallyOf(time.Hour, time.Hour), tallyOf(never, never), "found, v0 never"},
	} {
		if got := change(c.now, c.v0); got != c.want {
			t.Errorf("change = %q, want %q", got, c.want)
		}
	}
}

// TestScaleDeadlines: a leak's deadline doubles and its series runs as
// much longer; a case that must never be flagged is left alone.
func TestScaleDeadlines(t *testing.T) {
	cases := scenario.Catalog()
	leak, never := -1, -1
	for i, c := range cases {
		if c.Name == "heap 20 MB/h" {
			leak = i
		}
		if c.Want == "" && never < 0 {
			never = i
		}
	}
	before := cases[leak]
	flat := cases[never]
	scaleDeadlines(cases, 2)
	if got := cases[leak]; got.Deadline != 2*before.Deadline || got.Duration != before.Duration+before.Deadline {
		t.Errorf("deadline %v, duration %v; want %v and %v", got.Deadline, got.Duration, 2*before.Deadline, before.Duration+before.Deadline)
	}
	if got := cases[never]; got.Duration != flat.Duration || got.Deadline != flat.Deadline {
		t.Errorf("a never-flag case changed: duration %v -> %v", flat.Duration, got.Duration)
	}
}
