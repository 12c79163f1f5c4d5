// Package e2e holds memwatch's end-to-end tests: real Collector, Jaeger
// and Prometheus binaries, built from their Go modules by build-tools.sh,
// started on 127.0.0.1 with free ports, fed by the examples over OTLP.
// No Tempo binary is built: the Collector's Tempo leg (plain OTLP) goes to a
// second Jaeger, and the tests check the traces arrive there too.
//
//	bash e2e/run.sh
package e2e
