// Package spans turns operations, startup checkpoints and worker jobs,
// whose memory services often log as lines ("Memory before parse: 85.23 MB
// ... after parse: 112.45 MB (Delta +27.22 MB)"), into OpenTelemetry spans that Jaeger
// or Grafana Tempo show on a timeline, carrying the numbers as attributes.
//
//	err := spans.Track(ctx, "parse replay", func(ctx context.Context) error {
//		return parse(ctx, replay)
//	})
//
// Track (or Start and Operation.End, for code that cannot pass a closure)
// records memory before and after; StartPhases and Phases.Checkpoint turn a
// startup sequence into one span per phase (the context each returns
// carries the open phase's span, so work passed it joins that phase);
// Checkpoint marks a point on the
// current span; TrackCmd runs a subprocess worker as a span, and the worker
// continues the trace with ContextFromEnv. A pool of goroutine workers
// tracks each job with Track inside the goroutine (see the example).
//
// With no SDK installed, or when the span is not sampled, nothing is read:
// Track costs little more than calling fn.
//
// # Attributes
//
// Operation spans (Track, Start, TrackCmd, phase spans):
//
//	memwatch.operation.rss.before, .after, .delta        int  resident set size, bytes
//	memwatch.operation.heap_live.before, .after, .delta  int  live heap as of the last GC, bytes
//	memwatch.operation.heap_allocated                    int  heap bytes allocated during the operation
//	memwatch.operation.gc_cycles                         int  GC cycles completed during the operation
//	memwatch.operation.overlap                           int  other tracked operations that overlapped it
//
// Checkpoints (phase spans, memwatch.checkpoint.reached events):
//
//	memwatch.checkpoint.label             str  the checkpoint's label
//	memwatch.checkpoint.rss               int  RSS at the checkpoint (event only)
//	memwatch.checkpoint.heap_live         int  live heap at the checkpoint (event only)
//	memwatch.checkpoint.rss_growth        int  RSS over the otelmem baseline (WithMonitor)
//	memwatch.checkpoint.heap_live_growth  int  live heap over the otelmem baseline (WithMonitor)
//
// Workers (TrackCmd's span, memwatch.worker.rss_sample events):
//
//	memwatch.worker.rss              int  a sample of the worker's RSS (event)
//	memwatch.worker.rss_peak         int  the worker's peak RSS from the kernel's rusage
//	memwatch.worker.rss_sampled_max  int  highest sampled worker RSS
//	memwatch.worker.rss_samples      int  number of samples taken
//	memwatch.worker.signal           str  signal that killed the worker
//	process.pid, process.exit.code, process.executable.name   (semantic conventions)
//
// Events: memwatch.checkpoint.reached (Checkpoint) and
// memwatch.worker.rss_sample (each worker sample, at most 100 per span). No
// name is both a value and a namespace of others.
//
// # Honest deltas
//
// RSS, live heap and allocations are process-wide: an operation's delta
// includes whatever else the process did meanwhile. memwatch.operation.overlap counts
// the tracked operations that ran at the same time (in flight when it
// started, or started before it ended). 0 means the delta is this
// operation's alone, as far as tracked work goes; more means the numbers
// are shared and should be read as an upper bound. The live heap only
// changes when a GC completes, so for short operations
// memwatch.operation.heap_allocated and memwatch.operation.rss.delta say
// more than memwatch.operation.heap_live.delta.
package spans
