package spans

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/bytefmt"
	"github.com/memwatch/memwatch/otelmem"
)

// Phases turns a sequence of checkpoints, such as a service's startup, into
// a trace: a root span for the whole sequence and, for each checkpoint, a
// child span covering the phase from the previous checkpoint to this one,
// named by the checkpoint and carrying memory before, after and delta. In
// Jaeger or Tempo the startup's memory story then reads as a timeline.
type Phases struct {
	mu      sync.Mutex
	cfg     config
	ctx     context.Context
	root    trace.Span
	tracer  trace.Tracer
	first   memory
	last    memory
	lastAt  time.Time
	sampler sampler
	ended   bool
}

// StartPhases starts the root span named name and records memory at its
// start, the first "before". Invalid options are recorded on the root span
// as an error and otherwise ignored.
func StartPhases(ctx context.Context, name string, opts ...PhasesOption) (context.Context, *Phases) {
	cfg, err := newConfig(opts, PhasesOption.applyPhases)
	tracer := cfg.tracerFor(ctx)
	ctx, root := tracer.Start(ctx, name, cfg.startOptions()...)
	if err != nil {
		root.RecordError(err)
	}
	p := &Phases{cfg: cfg, ctx: ctx, root: root, tracer: tracer, lastAt: time.Now()}
	var snap *otelmem.Snapshot
	p.first, snap = p.cfg.readMemory(&p.sampler)
	p.last = p.first
	root.SetAttributes(beforeAttrs(p.first)...)
	logCheckpoint(ctx, &p.cfg, name, p.first, snap)
	return ctx, p
}

// Context returns the context carrying the root span.
func (p *Phases) Context() context.Context { return p.ctx }

// Checkpoint ends the phase that ran since the previous checkpoint (or the
// start): it becomes a span named label with memory before, after and delta.
// It also logs a line ("<rss> (delta <d>) - <label>") through
// log/slog. Checkpoints after End are ignored.
func (p *Phases) Checkpoint(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	now := time.Now()
	cur, snap := p.cfg.readMemory(&p.sampler)
	_, span := p.tracer.Start(p.ctx, label, trace.WithTimestamp(p.lastAt),
		trace.WithAttributes(attrCheckpoint.String(label)))
	span.SetAttributes(beforeAttrs(p.last)...)
	span.SetAttributes(afterAttrs(p.last, cur, 0)...)
	span.End(trace.WithTimestamp(now))
	logCheckpoint(p.ctx, &p.cfg, label, cur, snap)
	p.last, p.lastAt = cur, now
}

// End ends the root span with memory after the whole sequence.
func (p *Phases) End() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = true
	last, _ := p.cfg.readMemory(&p.sampler)
	p.root.SetAttributes(afterAttrs(p.first, last, 0)...)
	p.root.End()
}

// Checkpoint records memory at this point as a span event on the span in
// ctx, with the growth over the monitor's baseline when WithMonitor is
// given, and logs a "<rss> (delta <d>) - <label>" line through log/slog. It returns an error
// only for invalid options.
func Checkpoint(ctx context.Context, label string, opts ...CheckpointOption) error {
	cfg, err := newConfig(opts, CheckpointOption.applyCheckpoint)
	if err != nil {
		return err
	}
	var s sampler
	m, snap := cfg.readMemory(&s)
	attrs := []attribute.KeyValue{attrCheckpoint.String(label), attrCheckpointHeapLive.Int64(int64(m.heapLive))}
	if m.rssOK {
		attrs = append(attrs, attrCheckpointRSS.Int64(int64(m.rss)))
	}
	if snap != nil {
		attrs = append(attrs,
			attrRSSBaselineDelta.Int64(snap.Delta),
			attrHeapBaselineDelta.Int64(snap.HeapLiveDelta))
	}
	trace.SpanFromContext(ctx).AddEvent(eventCheckpoint, trace.WithAttributes(attrs...))
	logCheckpoint(ctx, &cfg, label, m, snap)
	return nil
}

// logCheckpoint writes the seed's checkpoint line; the delta is over the
// monitor's baseline when there is one.
func logCheckpoint(ctx context.Context, cfg *config, label string, m memory, snap *otelmem.Snapshot) {
	attrs := []slog.Attr{slog.String("checkpoint", label), slog.Uint64("heap_live_bytes", m.heapLive)}
	msg := "memory checkpoint - " + label
	if m.rssOK {
		attrs = append(attrs, slog.Uint64("rss_bytes", m.rss))
		msg = "memory " + bytefmt.Bytes(int64(m.rss)) + " - " + label
	}
	if snap != nil {
		attrs = append(attrs, slog.Int64("delta_bytes", snap.Delta))
		msg = "memory " + bytefmt.Bytes(int64(m.rss)) + " (delta " + bytefmt.Delta(snap.Delta) + ") - " + label
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	cfg.log().LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
}
