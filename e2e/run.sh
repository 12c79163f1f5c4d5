#!/usr/bin/env bash
# memwatch's end-to-end tests against a real Collector, Jaeger and
# Prometheus on 127.0.0.1: builds (or reuses) the programs and runs the
# tests (docker-compose.yml is validated with compose-go, the loader
# Docker Compose uses: no system package, no root). Every process the
# tests start is stopped by PID when they end, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
bash e2e/build-tools.sh
cd e2e
go test -count=1 -v -timeout 25m ./...
