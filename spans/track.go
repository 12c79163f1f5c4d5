package spans

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Operation is a tracked operation started with Start. End it once; later
// calls, and End of a zero or nil Operation, do nothing.
type Operation struct {
	span  trace.Span
	rec   *recording  // nil when the span is not recording
	ended atomic.Bool // End is idempotent and safe to call concurrently
}

// recording is the memory side of an operation, allocated only for spans
// that record.
type recording struct {
	before  memory
	overlap overlapToken
	sampler sampler
}

// Start begins a tracked operation for code that cannot pass a closure:
// it starts a span named name, records memory before, and returns a context
// carrying the span. Call End with the operation's error when it is done.
//
// Invalid options are recorded on the span as an error and otherwise
// ignored, so the caller's work is never refused.
func Start(ctx context.Context, name string, opts ...TrackOption) (context.Context, *Operation) {
	cfg, err := newConfig(opts, TrackOption.applyTrack)
	op := &Operation{}
	ctx = op.start(ctx, name, &cfg)
	if err != nil {
		op.span.RecordError(err)
	}
	return ctx, op
}

// start starts op's span and, if it records, reads memory before.
func (op *Operation) start(ctx context.Context, name string, cfg *config) context.Context {
	ctx, op.span = cfg.tracerFor(ctx).Start(ctx, name, cfg.startOptions()...)
	if !op.span.IsRecording() {
		return ctx // no SDK, or not sampled: skip the memory reads
	}
	r := &recording{overlap: beginOverlap()}
	r.before = r.sampler.read()
	op.span.SetAttributes(beforeAttrs(r.before)...)
	op.rec = r
	return ctx
}

// Span returns the operation's span: a non-recording one for a zero or
// nil Operation.
func (op *Operation) Span() trace.Span {
	if op == nil || op.span == nil {
		return trace.SpanFromContext(context.Background())
	}
	return op.span
}

// End records memory after the operation and the deltas, marks the span
// with err if it is not nil, and ends it. Calls after the first do nothing.
func (op *Operation) End(err error) {
	op.end(err, false)
}

func (op *Operation) end(err error, withStack bool) {
	if op == nil || op.span == nil || !op.ended.CompareAndSwap(false, true) {
		return
	}
	if r := op.rec; r != nil {
		after := r.sampler.read()
		op.span.SetAttributes(afterAttrs(r.before, after, r.overlap.end())...)
		if err != nil {
			op.span.RecordError(err, trace.WithStackTrace(withStack))
			op.span.SetStatus(codes.Error, err.Error())
		}
	}
	op.span.End()
}

// Track runs fn inside a span named name and records memory before and
// after it: RSS, live heap, bytes allocated on the heap during fn, GC cycles
// during fn, and how many other tracked operations overlapped it (see the
// package documentation on shared deltas). fn's error marks the span and is
// returned. A panic in fn is recorded on the span with its stack, the span
// is ended, and the panic continues.
//
// Invalid options or a nil fn return an error naming the problem without
// running fn.
func Track(ctx context.Context, name string, fn func(context.Context) error, opts ...TrackOption) (err error) {
	if fn == nil {
		return fmt.Errorf("spans: Track(%q): fn is nil", name)
	}
	cfg, err := newConfig(opts, TrackOption.applyTrack)
	if err != nil {
		return fmt.Errorf("spans: Track(%q): %w", name, err)
	}
	var op Operation // on the stack: Track allocates nothing of its own for unsampled spans
	ctx = op.start(ctx, name, &cfg)
	defer func() {
		if r := recover(); r != nil {
			op.end(panicError{r}, true)
			panic(r)
		}
		op.end(err, false)
	}()
	return fn(ctx)
}

// panicError records a recovered panic value as an error.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// Unwrap exposes a panicked error value to errors.Is and errors.As.
func (p panicError) Unwrap() error {
	err, _ := p.v.(error)
	return err
}
