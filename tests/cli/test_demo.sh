#!/usr/bin/env bash
# `liandong demo` end to end: it exits 0 and tells the story issue 4 asks
# for, each notice printed once as it arrives.
# Usage: test_demo.sh LIANDONG
set -euo pipefail
LD=$(realpath "${1:?usage: test_demo.sh LIANDONG}")
OUT=$(mktemp /tmp/ld-demo-test-XXXXXX)
trap 'rm -f "$OUT"' EXIT
fail() {
    echo "FAIL: $*" >&2
    cat "$OUT" >&2
    exit 1
}
"$LD" demo >"$OUT" 2>&1 || fail "liandong demo exited $?"
has() { grep -Eq -- "$1" "$OUT" || fail "the demo output lacks /$1/ ($2)"; }

has '^== 8\. Quarter by quarter' "the quarters step"
# Notices as they arrive: the ladder for a task without reports, in order.
has '^    2022-10-01 +green +ir-[0-9.]+ +no_report +1 督导 ' "no_report at level 1 after 2022 Q3"
has '^    2023-01-01 +green +ir-[0-9.]+ +no_report +2 约谈 ' "no_report at level 2 after 2022 Q4"
has '^    2023-04-01 +green +ir-[0-9.]+ +no_report +3 问责 ' "no_report at level 3 after 2023 Q1"
has ' rectified ' "a rectification noted"
has '^    2025-12-17 +yellow +ir-[0-9.]+ +due_soon ' "the yellow lights before 2025-12-31"
has 'asks to extend ir-[0-9.]+ to 2026-02-27' "an extension request"
has 'approves: ir-[0-9.]+ is now due 2026-02-27' "the extension approved"
has ' extension_decided ' "the extension notice"
has '^    2026-01-01 +red +ir-[0-9.]+ +overdue +1 督导 ' "overdue at level 1 (red)"
has ' red +ir-[0-9.]+ +overdue +2 约谈 ' "overdue at level 2"
has 'issues a 督办函 on ir-[0-9.]+ to .*deadline 2023-01-31' "a 督办函 issued"
has 'answers dbh-1 and reports' "the 督办函 answered"
# The ledger at the end: the letter as a row of its own, done; levels shown.
has '^ir-2022 +dbh-1 +督办函：.* done +100% +2023-01-31 +no ' "the letter's ledger row"
has '^[0-9]+ tasks, 1 督办函, [0-9]+ overdue' "the ledger summary"
has '^audit: OK: ' "the audit log verified"
# Each notice once: no notice line printed twice.
dups=$(grep -E '^    20[0-9]{2}-[0-9]{2}-[0-9]{2} ' "$OUT" | sort | uniq -d)
[ -z "$dups" ] || fail "notices printed twice: $dups"
echo "cli.demo: all checks passed"
