#!/usr/bin/env bash
# The load-measurement method of BENCHMARKS.md ("Method"), on 127.0.0.1
# only: `checkpointd serve` as a process of its own, restarted for each
# phase (get-one, list-100, digest vs bearer, random page walks over 1k and
# 1M checkpoints, cached and uncached), on SQLite and on PostgreSQL (a
# scratch database on the server -postgres names; skipped with a message
# when none answers), in the shipped and the stripped configuration,
# against a ceiling process serving the very bytes and headers checkpointd
# sent, the two taking turns; at 16 and 64 connections; medians and
# spread of the repetitions, the load average beside each figure, the
# server's RSS high-water mark per phase. Ends with a Markdown block for
# BENCHMARKS.md.
#
# Installs wrk from the distribution's packages if it is missing (as root,
# or through sudo without a password); without it the built-in generator
# is used. Extra arguments go to cmd/loadtest:
#
#   scripts/load.sh                       # the full run (about an hour)
#   scripts/load.sh -quick                # rehearsal: 1 s slices, 20k instead of 1M (about 20 minutes)
#   scripts/load.sh -stores sqlite -phases '^walk 1M uncached 500$'
#   scripts/load.sh -postgres 'postgres://user:pw@127.0.0.1:5432/postgres?sslmode=disable'
#   scripts/load.sh -inprocess -duration 8s -big 0 -run '^get-one$' -cpuprofile cpu.pprof
#   go run ./cmd/loadtest -h              # every flag
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n apt-get update -qq && sudo -n apt-get install -y -qq wrk >/dev/null
  fi
  if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not found and not installable here; using the built-in load generator" >&2
  fi
fi
if ! command -v go >/dev/null 2>&1; then
  echo "load.sh: the Go toolchain (go) is needed to build checkpointd and the load test" >&2
  exit 1
fi
exec go run ./cmd/loadtest "$@"
