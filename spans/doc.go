// Package spans turns operations, startup checkpoints and worker jobs into
// OpenTelemetry spans carrying their memory: before, after and delta.
//
//	err := spans.Track(ctx, "parse replay", func(ctx context.Context) error {
//		return parse(ctx, replay)
//	})
//
// Track (or Start and Operation.End) records memory around an operation;
// StartPhases and Phases.Checkpoint make a startup one span per phase (the
// context each returns carries the open phase's span); Checkpoint marks a
// point on the current span; TrackCmd runs a subprocess worker as a span,
// which the worker continues with ContextFromEnv. With no SDK, or an
// unsampled span, nothing is read. Each entry point takes only the options
// it honours; the compiler refuses the others.
//
// Options follow one rule in otelmem, spans and leakdetect: a nil
// provider (meter, tracer, logger provider) means the global one, as in
// OpenTelemetry's own packages; any other nil, empty or out-of-range value
// is a mistake, named with the option in an error. An entry point that returns an error
// (Track, TrackCmd, Checkpoint) returns it and does nothing else; Start and
// StartPhases, which cannot, record it on the span they make and go on
// with the defaults, so the caller's work is never refused; ContextFromEnv,
// which has neither, uses the defaults.
//
// Operation spans carry memwatch.operation.rss.*, .heap_live.*,
// .heap_allocated, .gc_cycles and .overlap; checkpoints
// memwatch.checkpoint.*; worker spans memwatch.worker.* (and .oom_killed
// when the OOM killer took the worker). The README's "Telemetry names"
// lists them all.
//
// Deltas are process-wide: memwatch.operation.overlap counts the tracked
// operations that ran at the same time, 0 meaning the delta is this
// operation's alone. The live heap changes only when a GC completes, so
// for short operations heap_allocated and rss.delta say more than
// heap_live.delta.
package spans
