package spans

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/memread"
	"github.com/memwatch/memwatch/otelmem"
)

// Phases turns a sequence of checkpoints, such as a service's startup, into
// a trace: a root span for the whole sequence and, under it, one span per
// phase, from the previous checkpoint (or the start) to the next. A phase's
// span is named by the checkpoint that closes it and carries memory before,
// after and delta. In Jaeger or Tempo the startup's memory story then reads
// as a timeline.
//
// The open phase's span is current in the context StartPhases and each
// Checkpoint return: pass that context to the phase's work and its spans
// are children of the phase they ran in.
type Phases struct {
	mu      sync.Mutex
	cfg     config
	rootCtx context.Context // carries the root span
	ctx     context.Context // carries the open phase's span
	root    trace.Span
	phase   trace.Span // the open phase
	tracer  trace.Tracer
	first   memory
	last    memory
	label   string // the last checkpoint's label
	sampler sampler
	ended   bool
}

// StartPhases starts the root span named name, records memory at its
// start (the first "before") and opens the first phase. The returned
// context carries that phase's span. Invalid options are recorded on the
// root span as an error and otherwise ignored.
func StartPhases(ctx context.Context, name string, opts ...PhasesOption) (context.Context, *Phases) {
	cfg, err := newConfig(opts, PhasesOption.applyPhases)
	tracer := cfg.tracerFor(ctx)
	rootCtx, root := tracer.Start(ctx, name, cfg.startOptions()...)
	if err != nil {
		root.RecordError(err)
	}
	p := &Phases{cfg: cfg, rootCtx: rootCtx, root: root, tracer: tracer}
	var snap *otelmem.Snapshot
	p.first, snap = p.cfg.readMemory(&p.sampler)
	p.last = p.first
	root.SetAttributes(beforeAttrs(p.first)...)
	logCheckpoint(rootCtx, &p.cfg, name, p.first, snap)
	p.open(time.Now(), name+": phase 1")
	return p.ctx, p
}

// open starts the next phase's span at now; its name is replaced by the
// checkpoint that closes it.
func (p *Phases) open(now time.Time, name string) {
	p.ctx, p.phase = p.tracer.Start(p.rootCtx, name, trace.WithTimestamp(now))
	p.phase.SetAttributes(beforeAttrs(p.last)...)
}

// close ends the open phase at now, named name, with memory cur.
func (p *Phases) close(now time.Time, name string, cur memory, attrs ...attribute.KeyValue) {
	p.phase.SetName(name)
	p.phase.SetAttributes(attrs...)
	p.phase.SetAttributes(afterAttrs(p.last, cur, 0)...)
	p.phase.End(trace.WithTimestamp(now))
}

// Context returns the context carrying the open phase's span (the root's
// after End).
func (p *Phases) Context() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return p.rootCtx
	}
	return p.ctx
}

// Checkpoint ends the phase that ran since the previous checkpoint (or the
// start): its span is named label and gets memory before, after and delta.
// It opens the next phase and returns the context carrying its span. It
// also logs a line ("<rss> (delta <d>) - <label>") through log/slog.
// Checkpoints after End do nothing and return the root's context.
func (p *Phases) Checkpoint(label string) context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return p.rootCtx
	}
	now := time.Now()
	cur, snap := p.cfg.readMemory(&p.sampler)
	p.close(now, label, cur, attrCheckpoint.String(label))
	logCheckpoint(p.ctx, &p.cfg, label, cur, snap)
	p.last, p.label = cur, label
	p.open(now, "after "+label)
	return p.ctx
}

// End ends the open phase (named "after <last label>") and the root span,
// which gets memory after the whole sequence.
func (p *Phases) End() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = true
	now := time.Now()
	last, _ := p.cfg.readMemory(&p.sampler)
	name := "after " + p.label
	if p.label == "" {
		name = "before the first checkpoint"
	}
	p.close(now, name, last)
	p.root.SetAttributes(afterAttrs(p.first, last, 0)...)
	p.root.End(trace.WithTimestamp(now))
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

// logCheckpoint writes the checkpoint line; the delta is over the
// monitor's baseline when there is one.
func logCheckpoint(ctx context.Context, cfg *config, label string, m memory, snap *otelmem.Snapshot) {
	c := memread.Checkpoint{Label: label, HeapLive: m.heapLive}
	if m.rssOK {
		c.RSS = m.rss
	}
	if snap != nil {
		c.HasBaseline, c.Delta, c.HeapLiveDelta = true, snap.Delta, snap.HeapLiveDelta
		c.Utilization, c.Goroutines = snap.Utilization, snap.Goroutines
	}
	c.Log(ctx, cfg.log())
}
