// Workers shows spans on a service's workers: the startup checkpoints as a
// trace with one span per phase, a replay-parsing worker run as a
// subprocess (this binary re-executed with -worker parse) whose spans join
// the parent's trace, and leaderboard refreshes in a goroutine pool that
// build a large table. Every span carries memory before, after and delta.
// Traces and metrics go to stdout, or to OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. It stops by itself after -rounds.
//
//	go run ./examples/workers
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 go run ./examples/workers -rounds 5
package main
