#!/bin/sh
# Sidecar benchmark: healthgate run vs tini-static, side by side.
# Usage: bench/run/run.sh   (env: HEALTHGATE_BIN, BENCH_ROUNDS, BENCH_RUNS, BENCH_BYTES,
#                            BENCH_IDLE_SECONDS, BENCH_RSS_SECONDS)
# Needs: python3, hyperfine, tini (tini-static). Writes bench/results/run.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
