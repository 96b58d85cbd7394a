#!/bin/sh
# serve under hostile load: slowhttptest slowloris (-H), slow body (-B) and
# slow read (-X) with 6 000 connections each, then 320 keep-alive wrk
# clients, while a fresh client asks /livez and /readyz every 50 ms.
# Usage: bench/serve/run.sh [--seconds N] [--connections N] [--peer BINARY]
#   (env: HEALTHGATE_BIN). Needs: python3, slowhttptest, wrk.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
