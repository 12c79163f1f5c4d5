package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func tag(tags []struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}, key string) (any, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return nil, false
}

// checkStartup: the startup trace has one child span per phase, in order,
// each with memory before, after and delta.
func checkStartup(t *testing.T, tr jaegerTrace) {
	t.Helper()
	var rootID string
	type phase struct {
		name  string
		start int64
	}
	var phases []phase
	for _, s := range tr.Spans {
		if s.OperationName == "startup" {
			rootID = s.SpanID
		}
	}
	for _, s := range tr.Spans {
		if !strings.HasPrefix(s.OperationName, "After ") {
			continue
		}
		if len(s.References) == 0 || s.References[0].SpanID != rootID {
			t.Errorf("phase %q is not a child of startup", s.OperationName)
		}
		for _, k := range []string{"memwatch.operation.rss.before", "memwatch.operation.rss.after", "memwatch.operation.rss.delta", "memwatch.operation.heap_allocated"} {
			if _, ok := tag(s.Tags, k); !ok {
				t.Errorf("phase %q lacks %s", s.OperationName, k)
			}
		}
		phases = append(phases, phase{s.OperationName, s.StartTime})
	}
	slices.SortFunc(phases, func(a, b phase) int { return int(a.start - b.start) })
	var names []string
	for _, p := range phases {
		names = append(names, p.name)
	}
	want := []string{"After DB pool init", "After static cache init", "After process pool init"}
	if !slices.Equal(names, want) {
		t.Errorf("phases %v, want %v", names, want)
	}
}

// checkWorkerJoinsParent: the subprocess's span is in the parent's trace,
// a child of the job span, which carries the worker's peak RSS.
func checkWorkerJoinsParent(t *testing.T, tr jaegerTrace) {
	t.Helper()
	services := map[string]bool{}
	for _, p := range tr.Processes {
		services[p.ServiceName] = true
	}
	if !services["memwatch-workers"] || !services["memwatch-workers-parse"] {
		t.Fatalf("trace %s has services %v, want the parent's and the worker's", tr.TraceID, services)
	}
	jobs := map[string]bool{}
	for _, s := range tr.Spans {
		if strings.HasPrefix(s.OperationName, "parse replay ") {
			jobs[s.SpanID] = true
			if peak, ok := tag(s.Tags, "memwatch.worker.rss_peak"); !ok || fmt.Sprint(peak) == "0" {
				t.Errorf("job span %q lacks a peak RSS: %v", s.OperationName, s.Tags)
			}
		}
	}
	found := false
	for _, s := range tr.Spans {
		if s.OperationName == "parse" && len(s.References) > 0 {
			found = true
			if !jobs[s.References[0].SpanID] {
				t.Errorf("worker span's parent %s is not a job span %v", s.References[0].SpanID, jobs)
			}
		}
	}
	if !found {
		t.Error("no worker parse span in the parent's trace")
	}
}

// checkLeakEvents: the finding span has the suspected event with its
// attributes and the allocation site of the leaking cache, then the GC event.
// checkLeakEvents: the finding's two events arrived as log records with
// their attributes, correlated with the finding span of the trace (its
// trace and span IDs), and the span carries no span events (nothing twice).
func checkLeakEvents(t *testing.T, tr jaegerTrace, logs *logSink) {
	t.Helper()
	for _, s := range tr.Spans {
		if s.OperationName != "memwatch.leak" {
			continue
		}
		if len(s.Logs) != 0 {
			t.Errorf("the finding span has %d span events; with -log-events it must have none", len(s.Logs))
		}
		for _, name := range []string{"memwatch.leak.suspected", "memwatch.leak.gc"} {
			var rec *logRecord
			for _, r := range logs.events(name) {
				if r.traceID == s.TraceID && r.spanID == s.SpanID {
					rec = &r
				}
			}
			if rec == nil {
				t.Errorf("no %s log record with trace %s span %s; got %+v", name, s.TraceID, s.SpanID, logs.events(name))
				continue
			}
			switch name {
			case "memwatch.leak.suspected":
				for _, k := range []string{"memwatch.leak.signal", "memwatch.leak.reason", "memwatch.leak.growth", "memwatch.leak.rate_per_hour", "memwatch.leak.baseline", "memwatch.leak.current", "memwatch.leak.window_seconds"} {
					if _, ok := rec.attrs[k]; !ok {
						t.Errorf("suspected record lacks %s: %v", k, rec.attrs)
					}
				}
				if g := rec.attrs["memwatch.leak.grown_sites"]; !strings.Contains(g, "main.handle") {
					t.Errorf("grown sites %q do not name the leaking handler", g)
				}
			case "memwatch.leak.gc":
				if _, ok := rec.attrs["memwatch.forced_gc.heap_freed"]; !ok {
					t.Errorf("GC record lacks memwatch.forced_gc.heap_freed: %v", rec.attrs)
				}
			}
			if rec.body == "" {
				t.Errorf("%s record has no body", name)
			}
		}
		return
	}
	t.Error("no memwatch.leak span in the trace")
}

// checkOutage stops the Collector for 30 s under a running service: the
// service keeps working, its memory stays bounded, data resumes after.
func checkOutage(t *testing.T, b *backends, bin string, env []string) {
	svc := start(t, "outage", nil, append(env, "OTEL_SERVICE_NAME=memwatch-outage"),
		filepath.Join(bin, "leak"), "-leak=false", "-keep-running", "-duration", "4m")
	query := `process_memory_usage_bytes{job="memwatch-outage"}`
	eventually(t, "service metrics before the outage", time.Minute, func() error {
		_, err := promQuery(b.prometheus, query)
		return err
	})
	before := svc.rss(t)
	linesBefore := strings.Count(svc.output(t), "Periodic check")

	b.collector.stop()
	maxRSS := before
	for range 30 {
		time.Sleep(time.Second)
		if svc.exited() {
			t.Fatalf("the service exited while the Collector was down:\n%s", tail([]byte(svc.output(t)), 2000))
		}
		maxRSS = max(maxRSS, svc.rss(t))
	}
	b.startCollector(t)

	// Its own periodic line came every 5 s throughout: it never blocked.
	if n := strings.Count(svc.output(t), "Periodic check") - linesBefore; n < 4 {
		t.Errorf("%d periodic lines during the 30 s outage, want at least 4", n)
	}
	// Undeliverable telemetry is bounded by the SDK's queues: 64 MiB covers
	// them with room to spare.
	if grew := maxRSS - before; grew > 64<<20 {
		t.Errorf("RSS grew %d MiB while the exporter could not deliver", grew>>20)
	}
	restarted := time.Now()
	eventually(t, "data after the restart", 2*time.Minute, func() error {
		s, err := promQuery(b.prometheus, "timestamp("+query+")")
		if err != nil {
			return err
		}
		if ts := s[0].float(); ts < float64(restarted.Unix()) {
			return fmt.Errorf("newest sample at %v, before the restart at %v", time.Unix(int64(ts), 0), restarted)
		}
		return nil
	})
	svc.stop()
}
