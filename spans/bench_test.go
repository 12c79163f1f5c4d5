package spans

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func empty(context.Context) error { return nil }

// withGlobalProvider installs tp as the global provider for one benchmark:
// Track without options is how services call it.
func withGlobalProvider(b *testing.B, tp trace.TracerProvider) {
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	b.Cleanup(func() { otel.SetTracerProvider(prev) })
}

// BenchmarkTrack compares Track around an empty function with its floor:
// a bare span with the same attributes and the same two memory reads
// (pread of /proc/self/statm, runtime/metrics.Read), through a
// BatchSpanProcessor whose exporter discards.
func BenchmarkTrack(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		tracer := tp.Tracer(ScopeName)
		var s sampler
		b.ReportAllocs()
		for b.Loop() {
			_, span := tracer.Start(ctx, "op")
			before := s.read()
			span.SetAttributes(beforeAttrs(before)...)
			_ = empty(ctx)
			span.SetAttributes(afterAttrs(before, s.read(), 0)...)
			span.End()
		}
	})
	b.Run("track", func(b *testing.B) {
		withGlobalProvider(b, tp)
		b.ReportAllocs()
		for b.Loop() {
			_ = Track(ctx, "op", empty)
		}
	})
}

// BenchmarkTrackNoop is Track with no SDK installed, against calling the
// function directly.
func BenchmarkTrackNoop(b *testing.B) {
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = empty(ctx)
		}
	})
	b.Run("track", func(b *testing.B) {
		withGlobalProvider(b, noop.NewTracerProvider())
		b.ReportAllocs()
		for b.Loop() {
			_ = Track(ctx, "op", empty)
		}
	})
	b.Run("track-kept-option", func(b *testing.B) {
		opts := []TrackOption{WithTracerProvider(noop.NewTracerProvider())}
		b.ReportAllocs()
		for b.Loop() {
			_ = Track(ctx, "op", empty, opts...)
		}
	})
}
