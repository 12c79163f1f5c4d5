// Package leakdetect tells, early and without false alarms, whether a Go
// process's memory is leaking, and explains the leak with span events any
// OTLP backend shows.
//
// The decision lives in Analyzer: no clock, goroutine or I/O, fed one
// Sample at a time, replayable over recordings. It watches three signals:
// the live heap (heap_live), resident memory (rss) and the goroutine count
// (goroutines). A trend finding needs steady growth over a window of 30
// minutes to 24 hours: a robust slope at least WithMinRate, WithSignificance
// standard errors above the noise, present in both halves of the window and
// fitting better than a one-time step, so warm-up, GC sawtooth, batch jobs
// that hold memory for a while, a table loaded once and goroutine bursts do
// not count. The seed's fixed rule (RSS more than 100 MB over the baseline
// taken when warm-up ends, WithThreshold) runs beside it, judged on a
// 30-minute robust level rather than one reading.
//
// Start runs it in the background: it samples every 10 s (runtime/metrics
// and /proc, never runtime.ReadMemStats), logs the seed's periodic line
// every 5 minutes, and for each finding
//
//   - starts a memwatch.leak span with a memwatch.leak.suspected event:
//     memwatch.leak.signal, .reason, .growth, .rate_per_hour, .baseline,
//     .current, .window_seconds, .significance, the top allocation sites now
//     (.top_sites), those that grew most since the baseline (.grown_sites,
//     tracemalloc's compare_to, from heap profiles), and for goroutines the
//     stacks where they pile up (.goroutine_stacks);
//   - forces a GC and records what it freed as a memwatch.leak.gc event;
//   - logs the seed's text report, and counts the finding.
//
// With WithProfileDir it also writes the baseline and finding heap
// profiles (mode 0600, bounded in count) and names them in the event, for
// go tool pprof -diff_base.
//
// Metrics for alerting (Prometheus names after OTLP translation):
//
//	memwatch_leak_suspected{memwatch_leak_signal}            1 while a leak is suspected
//	memwatch_leak_growth_rate_bytes_per_hour{...signal}      fitted rate of heap_live and rss
//	memwatch_leak_goroutine_growth_rate_per_hour             fitted rate of goroutines
//	memwatch_leak_findings_total{...signal, ...reason}       findings so far
//
// The detector never takes its host down: panics in its own work are
// recovered and reported to otel.Handle, profile work is bounded in size,
// time (10 s) and frequency (once per finding, at most once a minute), and
// Shutdown stops everything it started.
package leakdetect
