// Package leakdetect tells, early and without false alarms, whether a Go
// process's memory is leaking, and explains the leak in OpenTelemetry.
//
// The decision lives in Analyzer (NewAnalyzer, Observe): no clock,
// goroutine or I/O, fed one Sample at a time, replayable over recordings.
// It watches the live heap (heap_live), resident memory (rss) and the
// goroutine count (goroutines). A trend finding needs steady growth over a
// window of 30 minutes to 24 hours, fast in absolute and relative terms,
// WithSignificance standard errors above zero (errors measured from how
// the signal's own history wanders, so GC-held heaps and correlated noise
// do not pass), in both halves of the window and fitting better than a
// one-time step. A fixed rule (RSS 100 MB over the level when warm-up ends,
// WithThreshold) runs beside it. A Finding carries TimeToLimit when the
// memory limit is known.
//
// Start runs it in the background every 10 s (runtime/metrics and /proc,
// never runtime.ReadMemStats), logs a periodic memory line, and for each
// finding starts a memwatch.leak span with a memwatch.leak.suspected event
// (rate, growth, allocation sites now and grown since warm-up, goroutine
// pile-ups), forces a GC and records what it freed as a memwatch.leak.gc
// event, logs a text report and updates its metrics. WithEventsAsLogs
// emits the two events as OpenTelemetry log records instead; WithProfileDir
// keeps heap profiles for go tool pprof -diff_base. The README's
// "Telemetry names" lists every name.
//
// Panics in its own work are recovered and reported to otel.Handle;
// profile work is bounded in size, time and frequency.
//
// Options follow one rule in otelmem, spans and leakdetect: a nil
// provider (meter, tracer, logger provider) means the global one, as in
// OpenTelemetry's own packages; any other nil, empty or out-of-range value
// is a mistake, named with the option in an error. Start and NewAnalyzer return
// that error and start nothing.
package leakdetect
