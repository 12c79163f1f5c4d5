#!/usr/bin/env bash
# memwatch's end-to-end tests against a real Collector, Jaeger and
# Prometheus on 127.0.0.1: builds (or reuses) the programs, installs
# Debian's docker-compose to validate docker-compose.yml if it is missing,
# and runs the tests. Every process the tests start is stopped by PID when
# they end, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
bash e2e/build-tools.sh
if ! command -v docker-compose >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi
cd e2e
go test -count=1 -v -timeout 25m ./...
