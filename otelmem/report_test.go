package otelmem

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

func TestReport(t *testing.T) {
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation())
	keep := make([][]byte, 16)
	for i := range keep {
		keep[i] = make([]byte, mib)
	}
	runtime.GC()
	runtime.GC()
	text, err := m.Report(3)
	runtime.KeepAlive(keep)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	for _, want := range []string{"MEMORY USAGE REPORT", "Current RSS:", "Virtual Memory:", "Utilization:", "Baseline:", "Delta:", "Top 3 Allocations", "TestReport (", "report_test.go:"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if _, err := m.Report(-2); err == nil || !strings.Contains(err.Error(), "-2") {
		t.Errorf("Report(-2) error = %v, want one naming -2", err)
	}
	plain, err := m.Report(0)
	if err != nil || strings.Contains(plain, "Allocations") {
		t.Errorf("Report(0) = %q, %v; want no allocation section", plain, err)
	}
}

// TestWriteHeapProfile parses what WriteHeapProfile wrote with the pprof
// library `go tool pprof` uses, and finds this test's allocation in it.
func TestWriteHeapProfile(t *testing.T) {
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation())
	keep := make([]byte, 8*mib)
	runtime.GC()
	runtime.GC()
	var buf bytes.Buffer
	if err := m.WriteHeapProfile(&buf); err != nil {
		t.Fatalf("WriteHeapProfile: %v", err)
	}
	runtime.KeepAlive(keep)
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatalf("parse profile: %v", err)
	}
	var types []string
	for _, st := range p.SampleType {
		types = append(types, st.Type)
	}
	if !strings.Contains(strings.Join(types, ","), "inuse_space") {
		t.Errorf("sample types %v lack inuse_space", types)
	}
	found := false
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if strings.HasSuffix(line.Function.Name, ".TestWriteHeapProfile") {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error("the profile has no sample allocated by TestWriteHeapProfile")
	}
}

func TestLogCheckpoint(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation(), WithLogger(logger))
	s, err := m.LogCheckpoint(context.Background(), "After DB pool init", slog.Int("pool_size", 10))
	if err != nil {
		t.Fatalf("LogCheckpoint: %v", err)
	}
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", out.String(), err)
	}
	if line["checkpoint"] != "After DB pool init" || line["level"] != "INFO" {
		t.Errorf("log line %v lacks the checkpoint label at INFO", line)
	}
	if rss, _ := line["rss_bytes"].(float64); uint64(rss) != s.RSS || rss == 0 {
		t.Errorf("rss_bytes = %v, want the snapshot's %d", line["rss_bytes"], s.RSS)
	}
	for _, key := range []string{"delta_bytes", "heap_live_bytes", "goroutines", "utilization", "pool_size"} {
		if _, ok := line[key]; !ok {
			t.Errorf("log line lacks %s: %v", key, line)
		}
	}
	if msg, _ := line["msg"].(string); !strings.HasSuffix(msg, "- After DB pool init") || !strings.Contains(msg, "MiB (delta ") {
		t.Errorf("msg = %q, want the classic \"<rss> (delta <d>) - <label>\"", msg)
	}
}
