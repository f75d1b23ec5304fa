#!/usr/bin/env bash
# Memcheck over the integration suite, the broker included: each test
# program runs under valgrind with --trace-children=yes, so the brokers it
# starts (fork/exec) are checked too. One log per process in OUT_DIR; the
# run fails if any process reports an error or a definite/indirect leak.
# Usage: tests/valgrind/run.sh BUILD_DIR [TEST ...]   (default: all integration tests)
# Takes long (the broker is ~30x slower under memcheck); run by hand, record
# the result in docs/testing.md.
set -euo pipefail
BUILD=$(realpath "${1:?usage: tests/valgrind/run.sh BUILD_DIR [TEST ...]}")
shift
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(test_broker test_sdk test_pipeline test_plugin_host test_plans
                                  test_escalation test_audit)
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 2; }
OUT=${OUT_DIR:-$(mktemp -d /tmp/ld-valgrind-XXXXXX)}
mkdir -p "$OUT"
SUPP=$(dirname "$(realpath "$0")")/liandong.supp
bad=0
for t in "${TESTS[@]}"; do
    bin="$BUILD/bin/$t"
    [ -x "$bin" ] || { echo "$t: not built ($bin)" >&2; bad=1; continue; }
    mkdir -p "$OUT/$t"
    start=$(date +%s)
    set +e
    valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --trace-children=yes \
        --trace-children-skip='*/rm,*/sh,*/bash,*/python3,*/cmake' \
        --suppressions="$SUPP" --log-file="$OUT/$t/%p.log" "$bin" >"$OUT/$t/stdout.txt" 2>&1
    rc=$?
    set -e
    # A process's log holds lines beyond the preamble only when it found something.
    found=$(grep -l -E '== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination)|definitely lost|indirectly lost: [1-9]|ERROR SUMMARY: [1-9]' "$OUT/$t"/*.log 2>/dev/null || true)
    procs=$(ls "$OUT/$t"/*.log 2>/dev/null | wc -l)
    secs=$(( $(date +%s) - start ))
    if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
        echo "$t: FAILED (exit $rc, $procs processes, ${secs}s); see $OUT/$t" >&2
        for f in $found; do echo "--- $f" >&2; head -n 60 "$f" >&2; done
        [ "$rc" -ne 0 ] && tail -n 20 "$OUT/$t/stdout.txt" >&2
        bad=1
    else
        echo "$t: clean ($procs processes under memcheck, ${secs}s)"
    fi
done
[ $bad -eq 0 ] && echo "valgrind: clean" || { echo "valgrind: errors found (logs in $OUT)" >&2; exit 1; }
