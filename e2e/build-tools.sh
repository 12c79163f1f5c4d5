#!/usr/bin/env bash
# Builds the real programs the end-to-end tests run, from the Go module
# proxy, into e2e/bin: Prometheus and promtool, Jaeger, and otelcol-memwatch,
# the Collector distribution with memwatch's leakdetect connector
# (collector/builder-config.yaml). Each tool's versions are pinned by its
# module (under tools/, and collector/builder); a build is reused until its
# inputs change (a stamp of their hash sits beside the binaries).
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"
export GOWORK=off # the tools are modules of their own, outside go.work
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
mkdir -p bin

fresh() { # fresh NAME FILES...: the stamp matches the files' hash
	local want
	want=$(cat "${@:2}" | sha256sum | cut -d' ' -f1)
	[ -f "bin/.$1.stamp" ] && [ "$(cat "bin/.$1.stamp")" = "$want" ]
}
stamp() {
	cat "${@:2}" | sha256sum | cut -d' ' -f1 >"bin/.$1.stamp"
}

if fresh prometheus tools/prometheus/go.mod tools/prometheus/go.sum && [ -x bin/prometheus ] && [ -x bin/promtool ]; then
	echo "prometheus, promtool: up to date"
else
	echo "building prometheus and promtool"
	(cd tools/prometheus && go build -o ../../bin/ github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool)
	stamp prometheus tools/prometheus/go.mod tools/prometheus/go.sum
fi

if fresh jaeger tools/jaeger/go.mod tools/jaeger/go.sum && [ -x bin/jaeger ]; then
	echo "jaeger: up to date"
else
	echo "building jaeger"
	(cd tools/jaeger && go build -o ../../bin/ github.com/jaegertracing/jaeger/cmd/jaeger)
	stamp jaeger tools/jaeger/go.mod tools/jaeger/go.sum
fi

# otelcol-memwatch: the distribution of collector/builder-config.yaml,
# built by the builder pinned in collector/builder, with the leakdetect
# connector and the library from this checkout: its stamp covers their
# sources too.
collector_inputs() {
	printf '%s\n' ../collector/builder-config.yaml ../collector/builder/go.mod ../collector/builder/go.sum
	find ../collector/leakdetectconnector ../leakdetect ../internal -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name '*_test.go' | sort
	printf '%s\n' ../go.mod ../go.sum
}
if fresh collector $(collector_inputs) && [ -x bin/otelcol-memwatch ]; then
	echo "otelcol-memwatch: up to date"
else
	echo "building the Collector builder and otelcol-memwatch"
	(cd ../collector/builder && go build -o ../../e2e/bin/ocb go.opentelemetry.io/collector/cmd/builder)
	(cd ../collector && ../e2e/bin/ocb --config builder-config.yaml)
	cp bin/otelcol-memwatch-src/otelcol-memwatch bin/otelcol-memwatch
	stamp collector $(collector_inputs)
fi
