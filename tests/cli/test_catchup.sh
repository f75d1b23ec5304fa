#!/usr/bin/env bash
# Measures the escalation plugin's catch-up through a real broker: the three
# example plans (61 tasks) loaded at start, then the simulated clock moved one
# year at once; the time until the broker answers the next query (the tick that
# raises every notice of the year runs before it) is printed. A figure, not a
# test of speed: it checks only that the catch-up happened (notices raised,
# levels in the ledger).
# Usage: test_catchup.sh LIANDONG BROKER KEYS PLANS_SO ESCALATION_SO SOURCE_DIR
set -euo pipefail
USAGE="usage: test_catchup.sh LIANDONG BROKER KEYS PLANS_SO ESCALATION_SO SOURCE_DIR"
LD=$(realpath "${1:?$USAGE}")
BROKER=$(realpath "${2:?$USAGE}")
KEYS=$(realpath "${3:?$USAGE}")
PLANS_SO=$(realpath "${4:?$USAGE}")
ESC_SO=$(realpath "${5:?$USAGE}")
SRC=$(realpath "${6:?$USAGE}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "${BASH_SOURCE[0]}")")/lib.sh"
start_work ld-catchup BROKER_PID
PLANS="$SRC/examples/plans/ir-2022.yaml $SRC/examples/plans/met-2022.yaml $SRC/examples/plans/straw-2022.yaml"

# Every principal the plans name, with its role.
# shellcheck disable=SC2086
plan_principals $PLANS >ids.txt
broker_key
add_principals ids.txt
add_principal ops.admin ops admin,auditor

list=$(printf '%s, ' $PLANS)
cat >broker.yaml <<EOF
plugins:
  - name: plans
    path: $PLANS_SO
    config: {plans: [${list%, }]}
  - name: escalation
    path: $ESC_SO
    config:
      plans: [${list%, }]
      default:
        warn_before: 10 working days
        remind_every: 5 working days
        report_every: quarter
        ladder:
          - {level: 1, name: "督导", after: 0 days, notify: [supervision, lead, coordinators]}
          - {level: 2, name: "约谈", after: 15 working days, notify: [supervision, coordinators]}
          - {level: 3, name: "问责", after: 30 days, notify: [supervision]}
EOF
# Three plans load before the broker is ready: 20 s.
BROKER_WAIT=20 start_broker broker '' --config broker.yaml --data-dir var "${BROKER_KEYS[@]}" \
    --simulated-clock=2025-01-01T09:00:00+08:00
EP=$BROKER_EP
A=("$LD" --broker "$EP" --broker-key keys/broker.pub --identity keys/ops.admin.secret)

# The query answers after the tick of the year has run (same loop, in order).
"${A[@]}" ledger --json >/dev/null || fail "ledger before"
t0=$(date +%s%N)
"${A[@]}" clock advance --by 365d >/dev/null || fail "clock advance"
"${A[@]}" ledger --json >ledger.json || fail "ledger after"
t1=$(date +%s%N)
"${A[@]}" escalations --json >notices.json || fail "escalations"
python3 - ledger.json notices.json <<'PY' || fail "the catch-up did not happen"
import json, sys
tasks = json.load(open(sys.argv[1], encoding="utf-8"))["tasks"]
notices = json.load(open(sys.argv[2], encoding="utf-8"))["notices"]
assert len(tasks) == 61, len(tasks)
assert any(t["escalation_level"] > 0 for t in tasks)
assert len(notices) > 100, len(notices)
print(f"catch-up: one year over {len(tasks)} tasks raised {len(notices)} notices")
PY
echo "catch-up: clock advance + next answer took $(( (t1 - t0) / 1000000 )) ms" \
     "(two CLI processes included; see docs/escalation.md)"
