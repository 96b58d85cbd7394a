#!/bin/sh
# Probe benchmark: healthgate probe vs busybox wget / curl, serve vs nginx, side by side.
# Usage: bench/probe/run.sh   (env: HEALTHGATE_BIN, BENCH_PROBE_ROUNDS, BENCH_ROUNDS, BENCH_RUNS, BENCH_SECONDS, BENCH_CONNECTIONS)
# Needs: python3, nginx-light, wrk, hyperfine, busybox-static, curl, gcc.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
