#!/usr/bin/env bash
# Bounded load test on 127.0.0.1: checkpointd, authenticated as serve runs
# it (a bearer token on every request) and, for comparison, without
# authentication, against a bare net/http handler serving the same bytes;
# and list latency by store size and page depth. Installs wrk from the
# distribution's packages if it is missing. Extra arguments go to
# cmd/loadtest (e.g. -duration 5s -big 100000, -auth none or -auth digest).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk not found; using the built-in load generator" >&2
  fi
fi
exec go run ./cmd/loadtest "$@"
