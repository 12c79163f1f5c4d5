// This program must not compile on the lines marked WANT: each spans entry
// point takes only the options it honours.
package main

import (
	"context"
	"os/exec"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/memwatch/memwatch/spans"
)

func main() {
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	var p propagation.TraceContext

	spans.Track(ctx, "op", fn, spans.WithSampleInterval(time.Second)) // WANT
	spans.Track(ctx, "op", fn, spans.WithLogger(nil))                 // WANT
	spans.Start(ctx, "op", spans.WithSpanName("x"))                   // WANT
	spans.StartPhases(ctx, "startup", spans.WithPropagator(p))        // WANT
	spans.Checkpoint(ctx, "c", spans.WithAttributes())                // WANT
	spans.TrackCmd(ctx, exec.Command("true"), spans.WithMonitor(nil)) // WANT
	spans.ContextFromEnv(ctx, spans.WithTracerProvider(nil))          // WANT

	spans.Track(ctx, "op", fn, spans.WithTracerProvider(nil), spans.WithAttributes())
	spans.StartPhases(ctx, "startup", spans.WithMonitor(nil), spans.WithLogger(nil), spans.WithAttributes())
	spans.Checkpoint(ctx, "c", spans.WithMonitor(nil), spans.WithLogger(nil))
	spans.TrackCmd(ctx, exec.Command("true"), spans.WithSampleInterval(time.Second), spans.WithSpanName("x"), spans.WithPropagator(p), spans.WithAttributes())
	spans.ContextFromEnv(ctx, spans.WithPropagator(p))
}
