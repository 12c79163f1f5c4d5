package memread

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/bytefmt"
)

// Checkpoint is memory at a labelled point of a program, as a log line
// shows it.
type Checkpoint struct {
	Label    string
	RSS      uint64 // 0 when it could not be read
	HeapLive uint64
	// HasBaseline says Delta and HeapLiveDelta are growth over a baseline.
	HasBaseline   bool
	Delta         int64 // RSS over the baseline
	HeapLiveDelta int64
	Utilization   float64 // RSS over the limit; 0 when unknown
	Goroutines    uint64  // 0 when not read
	Err           error   // what failed to read, if anything
}

// Log writes the checkpoint line, "memory <rss> (delta <d>) - <label>",
// with its numbers as attributes (bytes as integers) and the trace and
// span IDs of the span in ctx, so the line and the trace find each other.
func (c Checkpoint) Log(ctx context.Context, l *slog.Logger, extra ...slog.Attr) {
	attrs := make([]slog.Attr, 0, 10+len(extra))
	attrs = append(attrs, slog.String("checkpoint", c.Label))
	msg := "memory checkpoint - " + c.Label
	if c.RSS > 0 {
		attrs = append(attrs, slog.Uint64("rss_bytes", c.RSS))
		msg = "memory " + bytefmt.Bytes(int64(c.RSS)) + " - " + c.Label
		if c.HasBaseline {
			msg = "memory " + bytefmt.Bytes(int64(c.RSS)) + " (delta " + bytefmt.Delta(c.Delta) + ") - " + c.Label
		}
	}
	if c.HasBaseline {
		attrs = append(attrs, slog.Int64("delta_bytes", c.Delta))
	}
	// The live heap is measured when a GC cycle ends: before the first,
	// 0 is no reading, and a line saying heap_live_bytes=0 reads as a bug.
	if c.HeapLive > 0 {
		attrs = append(attrs, slog.Uint64("heap_live_bytes", c.HeapLive))
		if c.HasBaseline {
			attrs = append(attrs, slog.Int64("heap_live_delta_bytes", c.HeapLiveDelta))
		}
	}
	if c.Utilization > 0 {
		attrs = append(attrs, slog.Float64("utilization", c.Utilization))
	}
	if c.Goroutines > 0 {
		attrs = append(attrs, slog.Uint64("goroutines", c.Goroutines))
	}
	if c.Err != nil {
		attrs = append(attrs, slog.String("error", c.Err.Error()))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	attrs = append(attrs, extra...)
	l.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
}
