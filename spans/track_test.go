package spans

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/memwatch/memwatch/internal/testutil/compilecheck"
)

// TestTrackRecordsTheOperationsMemory keeps 32 MiB live inside the
// operation. Its heap allocation is exact up to allocator rounding (+2 MiB);
// its RSS delta at least 7/8 of it (every page written) and at most 3x (4x
// under the race detector, whose shadow memory adds its own pages).
func TestTrackRecordsTheOperationsMemory(t *testing.T) {
	rec, tp := newRecorder(t)
	var keep []byte
	releaseFreeMemory()
	err := Track(context.Background(), "parse replay", func(context.Context) error {
		keep = touchedBytes(32 * mib)
		return nil
	}, WithTracerProvider(tp), WithAttributes(attribute.String("replay.hash", "abc123")))
	runtime.KeepAlive(keep)
	if err != nil {
		t.Fatalf("Track: %v", err)
	}
	ended := rec.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1", len(ended))
	}
	s := ended[0]
	if s.Name() != "parse replay" || s.InstrumentationScope().Name != ScopeName {
		t.Errorf("span %q scope %q", s.Name(), s.InstrumentationScope().Name)
	}
	a := s.Attributes()
	if v, _ := attr(a, "replay.hash"); v.AsString() != "abc123" {
		t.Errorf("WithAttributes lost: %v", a)
	}
	const size = 32 * mib
	maxRSS := int64(3 * size)
	if raceEnabled {
		maxRSS = 4 * size
	}
	delta := intAttr(t, a, attrRSSDelta)
	if delta < size*7/8 || delta > maxRSS {
		t.Errorf("%s = %d MiB, want about 32", attrRSSDelta, delta/mib)
	}
	if got := intAttr(t, a, attrRSSAfter) - intAttr(t, a, attrRSSBefore); got != delta {
		t.Errorf("after - before = %d, delta = %d", got, delta)
	}
	if alloc := intAttr(t, a, attrHeapAllocated); alloc < size || alloc > size+2*mib {
		t.Errorf("%s = %d, want 32 MiB (+2 MiB)", attrHeapAllocated, alloc)
	}
	for _, k := range []attribute.Key{attrHeapLiveBefore, attrHeapLiveAfter, attrHeapLiveDelta, attrGCCycles} {
		intAttr(t, a, k)
	}
	if n := intAttr(t, a, attrOverlap); n != 0 {
		t.Errorf("%s = %d for a lone operation, want 0", attrOverlap, n)
	}
	if s.Status().Code != codes.Unset {
		t.Errorf("status %v, want unset", s.Status())
	}
}

func TestNestedOperationIsAChildSpan(t *testing.T) {
	rec, tp := newRecorder(t)
	err := Track(context.Background(), "refresh", func(ctx context.Context) error {
		// No WithTracerProvider: the inner operation uses the provider of
		// the span in ctx, as otelhttp does.
		return Track(ctx, "query", func(context.Context) error { return nil })
	}, WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	ended := rec.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans, want 2", len(ended))
	}
	inner, outer := ended[0], ended[1]
	if inner.Name() != "query" || outer.Name() != "refresh" {
		t.Fatalf("spans %q, %q", inner.Name(), outer.Name())
	}
	if inner.Parent().SpanID() != outer.SpanContext().SpanID() || inner.SpanContext().TraceID() != outer.SpanContext().TraceID() {
		t.Errorf("inner span is not a child of the outer one")
	}
	// The outer operation was in flight when the inner started, and vice versa.
	if intAttr(t, inner.Attributes(), attrOverlap) != 1 || intAttr(t, outer.Attributes(), attrOverlap) != 1 {
		t.Errorf("overlap inner %v outer %v, want 1 and 1", inner.Attributes(), outer.Attributes())
	}
}

func TestGlobalProviderIsTheDefault(t *testing.T) {
	rec, tp := newRecorder(t)
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	if err := Track(context.Background(), "op", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rec.Ended()) != 1 {
		t.Errorf("the global provider recorded %d spans, want 1", len(rec.Ended()))
	}
}

// TestRemoteParentUsesTheGlobalProvider: a worker's context from
// ContextFromEnv holds only a remote span context, whose provider is a
// no-op; the span must come from the global provider, as a child of it.
func TestRemoteParentUsesTheGlobalProvider(t *testing.T) {
	rec, tp := newRecorder(t)
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	t.Setenv("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx := ContextFromEnv(context.Background())
	if err := Track(ctx, "parse", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ended := rec.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans recorded under a remote parent, want 1", len(ended))
	}
	if ended[0].Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("parent %v, want the remote span", ended[0].Parent())
	}
}

func TestErrorMarksTheSpan(t *testing.T) {
	rec, tp := newRecorder(t)
	want := errors.New("replay corrupt")
	err := Track(context.Background(), "parse", func(context.Context) error { return want }, WithTracerProvider(tp))
	if !errors.Is(err, want) {
		t.Fatalf("Track returned %v, want %v", err, want)
	}
	s := rec.Ended()[0]
	if s.Status().Code != codes.Error || s.Status().Description != "replay corrupt" {
		t.Errorf("status %+v", s.Status())
	}
	if len(s.Events()) != 1 || s.Events()[0].Name != "exception" {
		t.Errorf("events %v, want one exception", s.Events())
	}
}

func TestPanicIsRecordedAndReraised(t *testing.T) {
	rec, tp := newRecorder(t)
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_ = Track(context.Background(), "parse", func(context.Context) error { panic("bad replay") }, WithTracerProvider(tp))
	}()
	if recovered != "bad replay" {
		t.Fatalf("recovered %v, want the original panic value", recovered)
	}
	ended := rec.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1: the span must end on panic", len(ended))
	}
	s := ended[0]
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "bad replay") {
		t.Errorf("status %+v", s.Status())
	}
	ev := s.Events()
	if len(ev) != 1 {
		t.Fatalf("events %v", ev)
	}
	if st, _ := attr(ev[0].Attributes, "exception.stacktrace"); !strings.Contains(st.AsString(), "TestPanicIsRecordedAndReraised") {
		t.Errorf("exception event has no stack naming the test: %v", ev[0].Attributes)
	}
	intAttr(t, s.Attributes(), attrRSSAfter)
}

// TestNotRecordingSkipsReads: with a no-op or never-sampling provider fn
// runs, its error comes back, and no memory is read (the overlap sequence,
// advanced by every read operation, stays put).
func TestNotRecordingSkipsReads(t *testing.T) {
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	t.Cleanup(func() { _ = never.Shutdown(context.Background()) })
	for name, opt := range map[string]TrackOption{
		"noop":         WithTracerProvider(noop.NewTracerProvider()),
		"never-sample": WithTracerProvider(never),
	} {
		t.Run(name, func(t *testing.T) {
			before := opsStarted.Load()
			ran := false
			want := errors.New("x")
			err := Track(context.Background(), "op", func(context.Context) error { ran = true; return want }, opt)
			if !ran || !errors.Is(err, want) {
				t.Errorf("ran=%v err=%v", ran, err)
			}
			if opsStarted.Load() != before {
				t.Error("memory was read for a span that is not recording")
			}
		})
	}
}

func TestOverlapCountsConcurrentOperations(t *testing.T) {
	rec, tp := newRecorder(t)
	ctx := context.Background()
	_, a := Start(ctx, "a", WithTracerProvider(tp))
	_, b := Start(ctx, "b", WithTracerProvider(tp))
	b.End(nil)
	_, c := Start(ctx, "c", WithTracerProvider(tp)) // starts while a runs
	c.End(nil)
	a.End(nil)
	a.End(errors.New("ignored: End runs once"))
	_, d := Start(ctx, "d", WithTracerProvider(tp)) // alone
	d.End(nil)
	want := map[string]int64{"a": 2, "b": 1, "c": 1, "d": 0}
	for _, s := range rec.Ended() {
		if got := intAttr(t, s.Attributes(), attrOverlap); got != want[s.Name()] {
			t.Errorf("%s overlap = %d, want %d", s.Name(), got, want[s.Name()])
		}
		if s.Status().Code == codes.Error {
			t.Errorf("%s: a second End changed the span", s.Name())
		}
	}
	if len(rec.Ended()) != 4 {
		t.Errorf("%d spans ended, want 4", len(rec.Ended()))
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	if err := Track(ctx, "op", nil); err == nil || !strings.Contains(err.Error(), "fn is nil") {
		t.Errorf("nil fn: %v", err)
	}
	ran := false
	err := Track(ctx, "op", func(context.Context) error { ran = true; return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "nil option") || ran {
		t.Errorf("nil option: err=%v ran=%v", err, ran)
	}
	for _, tt := range []struct {
		opt  CmdOption
		want string
	}{
		{nil, "spans: nil option"},
		{WithPropagator(nil), "WithPropagator: propagator is nil"},
		{WithSpanName(""), `WithSpanName("")`},
		{WithSampleInterval(-1), "WithSampleInterval(-1ns): interval must be at least"},
		{WithSampleInterval(time.Nanosecond), "WithSampleInterval(1ns)"},
	} {
		if err := TrackCmd(ctx, exec.Command("true"), tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TrackCmd error %v, want one containing %q", err, tt.want)
		}
	}
	for _, tt := range []struct {
		opt  CheckpointOption
		want string
	}{
		{nil, "spans: nil option"},
		{WithLogger(nil), "WithLogger: logger is nil"},
		{WithMonitor(nil), "WithMonitor: monitor is nil"},
	} {
		if err := Checkpoint(ctx, "c", tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Checkpoint error %v, want one containing %q", err, tt.want)
		}
	}
	// Start never refuses work: the bad option is recorded on the span.
	rec, tp := newRecorder(t)
	_, op := Start(ctx, "op", WithTracerProvider(tp), nil)
	op.End(nil)
	ev := rec.Ended()[0].Events()
	if len(ev) != 1 {
		t.Fatalf("events %v, want the option error", ev)
	}
	if msg, _ := attr(ev[0].Attributes, "exception.message"); !strings.Contains(msg.AsString(), "nil option") {
		t.Errorf("bad option not recorded on the span: %v", ev)
	}
}

// TestEndTwiceConcurrently: End is idempotent and safe from two goroutines
// (run under -race): one span ended once, and the overlap count back to
// zero.
func TestEndTwiceConcurrently(t *testing.T) {
	rec, tp := newRecorder(t)
	for range 50 {
		_, op := Start(context.Background(), "op", WithTracerProvider(tp))
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				op.End(nil)
			}()
		}
		wg.Wait()
	}
	if n := len(rec.Ended()); n != 50 {
		t.Errorf("%d spans ended, want 50", n)
	}
	_, op := Start(context.Background(), "after", WithTracerProvider(tp))
	op.End(nil)
	if v, _ := attr(rec.Ended()[50].Attributes(), "memwatch.operation.overlap"); v.AsInt64() != 0 {
		t.Errorf("overlap %d after every operation ended twice, want 0", v.AsInt64())
	}
}

// TestOptionsScopedToEntryPoints: an option an entry point does not honour
// does not compile there (testdata/wrongoption); the ones it honours do.
func TestOptionsScopedToEntryPoints(t *testing.T) {
	compilecheck.Want(t, "testdata/wrongoption")
}

// TestZeroOperation: End and Span of a zero or nil Operation do nothing
// and do not panic.
func TestZeroOperation(t *testing.T) {
	var zero Operation
	zero.End(errors.New("x"))
	zero.End(nil)
	var nilOp *Operation
	nilOp.End(nil)
	if zero.Span() == nil || zero.Span().IsRecording() || nilOp.Span() == nil {
		t.Errorf("Span of a zero Operation: %v, want a non-recording span", zero.Span())
	}
}
