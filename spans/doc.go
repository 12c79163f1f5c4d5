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
// Each entry point takes only the options it honours (TrackOption,
// PhasesOption, CheckpointOption, CmdOption, EnvOption); the compiler
// refuses the others.
//
// Operation spans carry memwatch.operation.rss.before, .after and .delta,
// memwatch.operation.heap_live.*, .heap_allocated, .gc_cycles and
// .overlap; checkpoints memwatch.checkpoint.*; worker spans
// memwatch.worker.* (memwatch.worker.oom_killed when the OOM killer took
// the worker) and the semantic conventions' process.pid,
// process.exit.code and process.executable.name. Every name is listed in
// the README's "Telemetry names".
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
