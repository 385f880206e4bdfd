#!/usr/bin/env bash
# Bounded soak on 127.0.0.1: checkpointd serve --demo as its own process,
# the engine taking simulated checkpoints on a sped-up schedule, under
# mixed list/get traffic with bearer and digest credentials at the highest
# rate the clients reach, its memory sampled every few seconds. Fails if
# any answer was not a 2xx. Extra arguments go to cmd/loadtest (e.g.
# -connections 16 -soak-sample 10s).
#
#   scripts/soak.sh          # 5 minutes
#   scripts/soak.sh 2m
set -euo pipefail
cd "$(dirname "$0")/.."
d="${1:-5m}"
shift || true
exec go run ./cmd/loadtest -soak "$d" "$@"
