#!/bin/sh
# Gate benchmark: healthgate wait vs the `until nc -z` loop, side by side.
# Usage: bench/wait/run.sh   (env: HEALTHGATE_BIN, BENCH_TRIALS, BENCH_PARALLEL, BENCH_OUTAGE_SECONDS,
#                             BENCH_RSS_SECONDS, BENCH_CPU_SECONDS)
# Needs: python3, strace, netcat-openbsd, dnsmasq-base, file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
