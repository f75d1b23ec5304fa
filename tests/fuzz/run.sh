#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] - build the libFuzzer harnesses with clang
# (ASan + UBSan) in build-fuzz/ and run each for SECONDS (default 30).
#   tests/fuzz/run.sh 30          CI: about 4.5 minutes for the nine
#   tests/fuzz/run.sh 14400       four hours each (see docs/testing.md)
#   FUZZ_ONLY="plan config" tests/fuzz/run.sh 600
#   FUZZ_SEED=0 tests/fuzz/run.sh 3600   a random seed (the default, 1, repeats CI)
# New inputs go to build-fuzz/corpus/<harness>/ (the committed seeds in
# tests/fuzz/corpus/ are read, never written); crashes to
# build-fuzz/crashes/<harness>/. Exit status 1 if any harness crashed.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
build=${LD_FUZZ_BUILD_DIR:-build-fuzz}
harnesses=${FUZZ_ONLY:-"envelope body config plan keyfile calendar escalation_rules plugin_config body_info"}
jobs=$(nproc)
# A fixed seed makes a CI run repeatable; FUZZ_SEED=0 picks a random one.
seed=${FUZZ_SEED:-1}

san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DLD_FUZZ=ON \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
targets=""
for h in $harnesses; do targets="$targets --target fuzz_$h"; done
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" $targets >/dev/null

status=0
for h in $harnesses; do
  mkdir -p "$build/corpus/$h" "$build/crashes/$h"
  echo "== fuzz_$h for ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/bin/fuzz_$h" -max_total_time="$secs" -seed="$seed" -max_len=65536 -timeout=10 \
    -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$build/crashes/$h/" \
    "$build/corpus/$h" "tests/fuzz/corpus/$h" >"$build/fuzz_$h.log" 2>&1; then
    echo "fuzz_$h FOUND A CRASH: see $build/fuzz_$h.log and $build/crashes/$h/"
    tail -40 "$build/fuzz_$h.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/fuzz_$h.log" |
      tr '\n' ' '
    echo
  fi
done
exit $status
