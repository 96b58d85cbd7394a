#!/bin/sh
# Memory-watch benchmark: healthgate run vs tini-static in a memory cgroup,
# with the app idle and with the app holding 94% of the limit (run samples
# every 10 ms there). Usage: bench/memory/run.sh  (root; env: HEALTHGATE_BIN,
# BENCH_SECONDS). Needs python3, gcc, tini. Writes bench/results/memory.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
