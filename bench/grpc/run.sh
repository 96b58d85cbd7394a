#!/bin/sh
# gRPC health benchmark: `healthgate probe grpc://…` against a Python gRPC
# health client (python3-grpcio), side by side on the same real gRPC server.
# Usage: bench/grpc/run.sh   (env: HEALTHGATE_BIN, GRPC_SERVER, BENCH_RUNS)
# Needs: python3-grpcio, hyperfine, gcc, and build/tests/grpc_health_server (libgrpc++-dev).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/bench.py" "$@"
