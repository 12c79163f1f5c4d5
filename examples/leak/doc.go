// Leak is a service with a deliberate leak, a cache that never evicts,
// and leakdetect watching it with settings scaled for a demo (one real
// second stands for a minute), so the leak is caught within about a minute
// of running: the memwatch.leak span with its memwatch.leak.suspected event
// (growth, rate, the allocation sites that grew, naming the cache) and the
// forced-GC event, the text report in the log, and the alerting metrics.
// Traces and metrics go to stdout, or to OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. It stops a few seconds after the
// first finding, or after -duration; with -keep-running the cache stops
// growing at -max-leak-mib (512 MiB) so a long demo cannot exhaust the host.
//
//	go run ./examples/leak
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 go run ./examples/leak -keep-running
package main
