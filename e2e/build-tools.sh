#!/usr/bin/env bash
# Builds the real programs the end-to-end tests run, from the Go module
# proxy, into e2e/bin: Prometheus and promtool, Jaeger, and a Collector made
# by the Collector builder from tools/collector/builder-config.yaml. Each
# tool's versions are pinned by its module under tools/; a build is reused
# until those files change (a stamp of their hash sits beside the binaries).
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

if fresh collector tools/collector/go.mod tools/collector/go.sum tools/collector/builder-config.yaml && [ -x bin/otelcol-memwatch ]; then
	echo "otelcol-memwatch: up to date"
else
	echo "building the Collector builder and otelcol-memwatch"
	(cd tools/collector && go build -o ../../bin/ocb go.opentelemetry.io/collector/cmd/builder && ../../bin/ocb --config builder-config.yaml)
	cp bin/otelcol-memwatch-src/otelcol-memwatch bin/otelcol-memwatch
	stamp collector tools/collector/go.mod tools/collector/go.sum tools/collector/builder-config.yaml
fi
