// Quickstart shows otelmem on a service's startup story: a baseline, memory
// after a DB pool and a static cache are set up, a rebaseline when warm-up
// ends, periodic lines, then a report with the top allocation sites and a
// forced GC. Metrics go to stdout, or to OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. It stops by itself after -duration,
// or on Ctrl-C.
//
//	go run ./examples/quickstart
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 go run ./examples/quickstart -duration 1m
package main
