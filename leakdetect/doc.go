// Package leakdetect tells, early and without false alarms, whether a Go
// process's memory is leaking, and explains the leak with span events any
// OTLP backend shows.
//
// The decision lives in Analyzer: no clock, goroutine or I/O, fed one
// Sample at a time, replayable over recordings. It watches three signals:
// the live heap (heap_live), resident memory (rss) and the goroutine count
// (goroutines). A trend finding needs steady growth over a window of 30
// minutes to 24 hours: a robust slope at least WithMinRate (and 1.2% of
// the level an hour), WithSignificance standard errors above zero, present
// in both halves of the window and fitting better than a one-time step, so
// warm-up, GC sawtooth, batch jobs that hold memory for a while, a table
// loaded once and goroutine bursts do not count. The standard error comes
// from how much the signal's own history wanders at the time scales that
// matter, so a live heap held between GC cycles and noise correlated over
// minutes do not pass for significance. A fixed rule (RSS more than 100 MB
// over the level when warm-up ends, WithThreshold) runs beside it, judged
// on 30-minute levels rather than one reading. Each Finding carries
// TimeToLimit when the memory limit is known (Sample.Limit).
//
// Start runs it in the background: it samples every 10 s (runtime/metrics
// and /proc, never runtime.ReadMemStats), logs a periodic memory line
// every 5 minutes, and for each finding
//
//   - starts a memwatch.leak span with a memwatch.leak.suspected event:
//     memwatch.leak.signal, .reason, .growth, .rate_per_hour, .baseline,
//     .current, .window_seconds, .significance, .time_to_limit_seconds,
//     the top allocation sites now
//     (.top_sites), those that grew most since the baseline (.grown_sites,
//     tracemalloc's compare_to, from heap profiles), and for goroutines the
//     stacks where they pile up (.goroutine_stacks);
//   - forces a GC and records what it freed as a memwatch.leak.gc event;
//   - logs a text report (memory now, the top allocation sites), and
//     counts the finding.
//
// With WithProfileDir it also writes the baseline and finding heap
// profiles (mode 0600, renamed into place, bounded in count and bytes) and
// names them in the event, for
// go tool pprof -diff_base.
//
// Metrics for alerting (Prometheus names after OTLP translation):
//
//	memwatch_leak_suspected{memwatch_leak_signal}            1 while a leak is suspected
//	memwatch_leak_growth_rate_bytes_per_hour{...signal}      fitted rate of heap_live and rss
//	memwatch_leak_goroutine_growth_rate_per_hour             fitted rate of goroutines
//	memwatch_leak_findings_total{...signal, ...reason}       findings so far
//	memwatch_leak_time_to_limit_seconds{...signal}           when a suspected leak reaches the limit
//
// The detector never takes its host down: panics in its own work are
// recovered and reported to otel.Handle, profile work is bounded in size,
// time (10 s) and frequency (once per finding, at most once a minute), and
// Shutdown stops everything it started.
package leakdetect
