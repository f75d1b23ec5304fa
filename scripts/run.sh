#!/usr/bin/env bash
# One entry point for the README's commands:
#   scripts/run.sh demo   install what is missing, build, run `liandong demo`
#   scripts/run.sh test   install what is missing, build, run the test suite
#   scripts/run.sh build  install what is missing, build only
# The build goes to ./build (override with LD_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

cmd=${1:-}
[ -n "$cmd" ] && shift || true
build=${LD_BUILD_DIR:-build}

case "$cmd" in
  demo|test|build) ;;
  *) echo "usage: scripts/run.sh demo|test|build [args]" >&2; exit 2 ;;
esac

scripts/setup.sh
# The peer part of liandong-bench (bench.smoke.peers) when its client
# libraries are installed (scripts/setup.sh --peers).
peers=OFF
pkg-config --exists libmosquitto libnats 2>/dev/null && peers=ON
cmake -S . -B "$build" -DLD_WERROR=ON -DLD_BENCH_PEERS=$peers >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

case "$cmd" in
  demo) exec "$build/bin/liandong" demo "$@" ;;
  test) ctest --test-dir "$build" --output-on-failure "$@" ;;
  build) ;;
esac
