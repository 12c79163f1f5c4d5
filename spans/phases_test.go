package spans

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/memwatch/memwatch/otelmem"
)

// TestPhasesMakeOneSpanPerPhaseInOrder replays a service's startup: each
// checkpoint closes a child span of the sequence covering the time since
// the previous checkpoint, memory allocated in a phase shows in that
// phase's delta, and work done with the context a checkpoint returns is a
// child of the phase it ran in.
func TestPhasesMakeOneSpanPerPhaseInOrder(t *testing.T) {
	rec, tp := newRecorder(t)
	var logs bytes.Buffer
	ctx, p := StartPhases(context.Background(), "startup", WithTracerProvider(tp),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	releaseFreeMemory()
	work := func(ctx context.Context, name string) {
		_ = Track(ctx, name, func(context.Context) error { return nil })
	}
	work(ctx, "open pool")
	ctx = p.Checkpoint("After DB pool init")
	cache := touchedBytes(16 * mib)
	work(ctx, "load cache")
	p.Checkpoint("After static cache init")
	p.Checkpoint("After process pool init")
	p.End()
	p.Checkpoint("ignored after End")
	runtime.KeepAlive(cache)

	byName := map[string]sdktrace.ReadOnlySpan{}
	var phases []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		byName[s.Name()] = s
		if v, ok := attr(s.Attributes(), attrCheckpoint); ok && v.AsString() == s.Name() {
			phases = append(phases, s)
		}
	}
	root, trailing := byName["startup"], byName["after After process pool init"]
	if len(rec.Ended()) != 7 || root == nil || trailing == nil || len(phases) != 3 {
		t.Fatalf("spans %v, want the root, 3 phases, the trailing phase and 2 works", names(rec.Ended()))
	}
	for work, phase := range map[string]string{"open pool": "After DB pool init", "load cache": "After static cache init"} {
		if byName[work].Parent().SpanID() != byName[phase].SpanContext().SpanID() {
			t.Errorf("%q is not a child of the phase %q it ran in", work, phase)
		}
	}
	if trailing.Parent().SpanID() != root.SpanContext().SpanID() || !trailing.EndTime().Equal(root.EndTime()) {
		t.Errorf("the trailing phase does not end with the root")
	}
	ended := phases
	names := []string{"After DB pool init", "After static cache init", "After process pool init"}
	for i, s := range ended[:3] {
		if s.Name() != names[i] {
			t.Errorf("phase %d is %q, want %q", i, s.Name(), names[i])
		}
		if s.Parent().SpanID() != root.SpanContext().SpanID() {
			t.Errorf("phase %q is not a child of the root", s.Name())
		}
		if v, _ := attr(s.Attributes(), attrCheckpoint); v.AsString() != names[i] {
			t.Errorf("phase %q lacks its checkpoint attribute", s.Name())
		}
		if i > 0 && !s.StartTime().Equal(ended[i-1].EndTime()) {
			t.Errorf("phase %q starts at %v, not where %q ended (%v)", s.Name(), s.StartTime(), ended[i-1].Name(), ended[i-1].EndTime())
		}
		a := s.Attributes()
		if intAttr(t, a, attrRSSAfter)-intAttr(t, a, attrRSSBefore) != intAttr(t, a, attrRSSDelta) {
			t.Errorf("phase %q: before/after/delta disagree", s.Name())
		}
		if i > 0 && intAttr(t, a, attrRSSBefore) != intAttr(t, ended[i-1].Attributes(), attrRSSAfter) {
			t.Errorf("phase %q does not start from the previous phase's memory", s.Name())
		}
	}
	if got := intAttr(t, ended[1].Attributes(), attrHeapAllocated); got < 16*mib {
		t.Errorf("the cache phase allocated %d, want at least 16 MiB", got)
	}
	if got := intAttr(t, ended[1].Attributes(), attrRSSDelta); got < 14*mib {
		t.Errorf("the cache phase grew RSS by %d, want about 16 MiB", got)
	}
	if ended[0].StartTime().Before(root.StartTime()) {
		t.Errorf("the first phase starts before the root")
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 4 {
		t.Errorf("%d log lines, want 4 (start and three checkpoints):\n%s", lines, logs.String())
	}
	if !strings.Contains(logs.String(), `- After static cache init","checkpoint":"After static cache init"`) {
		t.Errorf("log lacks the classic memory line:\n%s", logs.String())
	}
}

// TestCheckpointEvent: a one-shot checkpoint adds an event on the current
// span with the delta over the monitor's baseline, and logs it with the
// trace ID so logs and traces join.
func TestCheckpointEvent(t *testing.T) {
	rec, tp := newRecorder(t)
	releaseFreeMemory()
	mp := sdkmetric.NewMeterProvider()
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	mon, err := otelmem.Start(otelmem.WithMeterProvider(mp), otelmem.WithoutRuntimeInstrumentation())
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Shutdown(context.Background())
	keep := touchedBytes(8 * mib)

	var logs bytes.Buffer
	ctx, op := Start(context.Background(), "request", WithTracerProvider(tp))
	if err := Checkpoint(ctx, "After DB pool init", WithMonitor(mon), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))); err != nil {
		t.Fatal(err)
	}
	op.End(nil)
	runtime.KeepAlive(keep)

	ev := rec.Ended()[0].Events()
	if len(ev) != 1 || ev[0].Name != eventCheckpoint {
		t.Fatalf("events %v, want one %s", ev, eventCheckpoint)
	}
	a := ev[0].Attributes
	if v, _ := attr(a, attrCheckpoint); v.AsString() != "After DB pool init" {
		t.Errorf("label missing: %v", a)
	}
	// Half the 8 MiB kept, not all of it: RSS is process-wide, and the
	// scavenger or other tests' goroutines may return pages to the OS
	// between the baseline and the checkpoint (seen: 6.5 MiB under -race
	// on a loaded machine).
	if d := intAttr(t, a, attrRSSBaselineDelta); d < 4*mib {
		t.Errorf("baseline delta %d, want at least 4 MiB after keeping 8 MiB", d)
	}
	intAttr(t, a, attrCheckpointRSS)
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line["trace_id"] != rec.Ended()[0].SpanContext().TraceID().String() {
		t.Errorf("log line %v lacks the trace ID", line)
	}
	if _, ok := line["delta_bytes"]; !ok {
		t.Errorf("log line %v lacks delta_bytes", line)
	}
	if err := Checkpoint(ctx, "x", WithLogger(nil)); err == nil {
		t.Error("Checkpoint accepted a nil logger")
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}
