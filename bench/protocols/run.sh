#!/bin/sh
# Protocol kinds benchmark: one `healthgate probe postgres://...` vs `pg_isready`, side by side.
# Usage: bench/protocols/run.sh   (env: HEALTHGATE_BIN, BENCH_ROUNDS, BENCH_RUNS)
# Needs: python3, postgresql, postgresql-client, hyperfine, gcc.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
