#!/usr/bin/env bash
# Black-box test of the escalation commands of `liandong` against a real broker
# with the plans and escalation plugins loaded by dlopen: calendar arithmetic,
# escalations (JSON), extend request/decide, pause/resume, letter issue/answer,
# and their refusals.
# Usage: test_escalation_cli.sh LIANDONG BROKER KEYS PLANS_SO ESCALATION_SO
set -euo pipefail

USAGE="usage: test_escalation_cli.sh LIANDONG BROKER KEYS PLANS_SO ESCALATION_SO"
LD=$(realpath "${1:?$USAGE}")
BROKER=$(realpath "${2:?$USAGE}")
KEYS=$(realpath "${3:?$USAGE}")
PLANS_SO=$(realpath "${4:?$USAGE}")
ESC_SO=$(realpath "${5:?$USAGE}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "${BASH_SOURCE[0]}")")/lib.sh"
start_work ld-esc-cli BROKER_PID FOLLOW_PID INBOX_PID
unset LIANDONG_BROKER LIANDONG_BROKER_KEY LIANDONG_IDENTITY

# Unlike lib.sh's ok and refused, these check the exit status and (for a
# refusal) the one stderr line, no more.
exited0() { [ "$rc" -eq 0 ] || fail "$1: exited $rc, expected 0"; }
refused1() { # refused1 WHAT PATTERN: exit 1, one stderr line matching PATTERN
    [ "$rc" -eq 1 ] || fail "$1: exited $rc, expected 1"
    [ "$(wc -l <err.txt)" -eq 1 ] || fail "$1: must print exactly one line on stderr"
    grep -Eq -- "$2" err.txt || fail "$1: stderr must match /$2/"
}

# ---- calendar (offline) ---------------------------------------------------------
run "$LD" calendar check 2024-02-10
exited0 "calendar check"
grep -q '^2024-02-10 (Sat): holiday 春节' out.txt || fail "2024-02-10 is in the Spring Festival"
run "$LD" calendar check 2024-02-04
exited0 "calendar check of an adjusted workday"
grep -q '^2024-02-04 (Sun): adjusted workday for 春节' out.txt || fail "2024-02-04 (Sun) is an adjusted working day"
run "$LD" calendar add 2024-02-08 --working-days 3
exited0 "calendar add"
grep -q '= 2024-02-19 (Mon)' out.txt || fail "3 working days after 2024-02-08 is 2024-02-19"
run "$LD" calendar add 2028-02-08 --working-days 3
refused1 "a year without calendar data" 'no holiday data'

# ---- a broker with plans and escalation ---------------------------------------------
broker_key
add_principal mdj.zf.bgs '牡丹江市人民政府办公室' coordinator
add_principal mdj.zf.dcs '市政府督查室' supervision
add_principal mdj.gxj '市工信局' department
add_principal mdj.fgw '市发改委' department
add_principal ops.admin '运维' admin
cat >broker.yaml <<EOF
plugins:
  - {name: plans, path: $PLANS_SO}
  - {name: escalation, path: $ESC_SO}
EOF
cat >plan.yaml <<'EOF'
plan:
  id: esc-cli
  title: "升级命令测试"
  coordinators: [mdj.zf.bgs]
  supervision: [mdj.zf.dcs]
escalation:
  warn_before: 5 working days
  report_every: none
  ladder:
    - {level: 1, name: "督导", after: 0 days, notify: [supervision, lead, coordinators]}
    - {level: 2, name: "约谈", after: 15 working days, notify: [supervision, coordinators]}
  extension: {max: 60 days, max_count: 1}
tasks:
  - id: esc-a
    title: "甲任务"
    lead: [mdj.gxj]
    support: [mdj.fgw]
    due: "2025-09-30"
  - id: esc-b
    title: "乙任务"
    lead: [mdj.gxj]
    due: "2025-08-29"
EOF
start_broker broker '' --config broker.yaml --data-dir var "${BROKER_KEYS[@]}" \
    --simulated-clock=2025-07-01T09:00:00+08:00
EP=$BROKER_EP

as mdj.zf.bgs plan publish plan.yaml
exited0 "plan publish"

# Extensions: only a lead asks, within the limit, once; only a coordinator decides.
as mdj.fgw extend request esc-a --until 2025-10-30 --reason '配合'
refused1 "an extension by a support department" 'refused: UNAUTHORIZED: .*support department'
as mdj.gxj extend request esc-a --until 2025-10-30 --reason '设备到货延迟'
exited0 "extend request"
as mdj.gxj extend decide esc-a --approve
refused1 "a decision by a department" 'refused: UNAUTHORIZED: only a coordinator'
as mdj.zf.bgs extend decide esc-a --approve
exited0 "extend decide"
as mdj.gxj extend request esc-a --until 2025-11-15 --reason '再次申请'
refused1 "a second extension" 'refused: LIMIT_EXCEEDED: .*extension already'

# Pause and resume: coordinators only.
as mdj.gxj pause esc-b --reason '技术鉴定'
refused1 "a pause by a department" 'refused: UNAUTHORIZED: only a coordinator'
as mdj.zf.bgs pause esc-b --reason '技术鉴定'
exited0 "pause"
as ops.admin clock advance --by 10d
exited0 "clock advance"
as mdj.zf.bgs resume esc-b
exited0 "resume"

# A 督办函: supervision only; the department answers.
as mdj.zf.bgs letter issue --task esc-b --to mdj.gxj --deadline 2025-07-20 --text '请限期整改'
refused1 "a letter from a coordinator" 'refused: UNAUTHORIZED: only the supervision office'
as mdj.zf.dcs letter issue --task esc-b --to mdj.gxj --deadline 2025-07-20 --text '请限期整改'
exited0 "letter issue"
LETTER=$(grep -Eo 'dbh-[0-9]+' out.txt | head -n 1)
[ -n "$LETTER" ] || fail "letter issue must print the letter id"
as mdj.gxj letter answer "$LETTER" --text '已整改'
exited0 "letter answer"

# The ledger shows the due dates in force (esc-a extended, esc-b moved by the
# pause) and the 督办函 as a row of its own, done once answered.
as mdj.zf.bgs ledger --plan esc-cli --json
exited0 "ledger"
python3 - out.txt "$LETTER" <<'PY' || fail "ledger due dates and letter row (see above)"
import json, sys
t = {x["task"]: x for x in json.load(open(sys.argv[1], encoding="utf-8"))["tasks"]}
assert t["esc-a"]["due"] == "2025-10-30", t["esc-a"]
assert t["esc-b"]["due"] == "2025-09-08", t["esc-b"]
assert (t["esc-a"]["plan_due"], t["esc-b"]["plan_due"]) == ("2025-09-30", "2025-08-29"), t
assert t["esc-a"]["kind"] == "task", t["esc-a"]
l = t[sys.argv[2]]
assert (l["kind"], l["about"], l["issued_by"]) == ("letter", "esc-b", "mdj.zf.dcs"), l
assert (l["title"], l["lead"], l["due"]) == ("督办函：请限期整改", ["mdj.gxj"], "2025-07-20"), l
assert (l["state"], l["progress"], l["overdue"]) == ("done", 100, False), l
assert [(r["dept"], r["note"]) for r in l["reports"]] == [("mdj.gxj", "已整改")], l
PY
as mdj.zf.bgs ledger --plan esc-cli
exited0 "ledger table"
grep -q "$LETTER .*督办函：请限期整改" out.txt || fail "the ledger table must show the letter's row"
grep -q '^2 tasks, 1 督办函, ' out.txt || fail "the ledger summary must count the letter apart"
as mdj.gxj tasks --json
exited0 "tasks with a letter"
python3 - out.txt "$LETTER" <<'PY' || fail "tasks --json must list the letter for its addressee"
import json, sys
t = {x["task"]: x for x in json.load(open(sys.argv[1], encoding="utf-8"))["tasks"]}
assert t[sys.argv[2]]["role"] == "lead" and t[sys.argv[2]]["kind"] == "letter", t
PY

# escalations --follow: the history first, then each notice as it is
# delivered, one JSON object per line, none twice; SIGINT ends it with 0.
"$LD" --broker "$EP" --broker-key keys/broker.pub --identity keys/mdj.zf.dcs.secret \
    escalations --plan esc-cli --follow --json >follow.txt 2>follow.err &
FOLLOW_PID=$!
for _ in $(seq 100); do [ -s follow.txt ] && break; sleep 0.1; done
[ -s follow.txt ] || fail "escalations --follow printed no history"
HISTORY=$(wc -l <follow.txt)
# Beside it, an inbox of the same principal: it gets the rest, no notice.
"$LD" --broker "$EP" --broker-key keys/broker.pub --identity keys/mdj.zf.dcs.secret \
    inbox --follow --json >inbox.txt 2>inbox.err &
INBOX_PID=$!
sleep 0.5
as mdj.gxj send --to mdj.zf.dcs --text "督查室请阅"
exited0 "a message to the supervision office while it follows"

# Past the due dates: 督导 notices reach the supervision office.
as ops.admin clock advance --by 120d
exited0 "clock advance past the due dates"
for _ in $(seq 100); do
    [ "$(grep -c '"reason":"overdue"' follow.txt)" -ge 2 ] && break
    sleep 0.1
done
sleep 0.5
kill -INT "$INBOX_PID"
wait "$INBOX_PID" || { INBOX_PID=; cat inbox.err >&2; fail "inbox --follow beside escalations --follow failed"; }
INBOX_PID=
python3 - inbox.txt <<'PY' || fail "inbox beside escalations --follow (see above)"
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()]
types = [d["type"] for d in ds]
assert "escalation_notice" not in types, types
assert any(d["type"] == "direct" and d.get("text") == "督查室请阅" for d in ds), ds
PY
kill -INT "$FOLLOW_PID"
set +e
wait "$FOLLOW_PID"
frc=$?
set -e
FOLLOW_PID=
[ "$frc" -eq 0 ] || { cat follow.err >&2; fail "escalations --follow exited $frc after SIGINT"; }
python3 - follow.txt "$HISTORY" <<'PY' || fail "escalations --follow output (see above)"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
ns = [json.loads(l) for l in lines]
assert all(isinstance(n, dict) for n in ns), lines
ids = [n["notice_id"] for n in ns]
assert len(ids) == len(set(ids)), "a notice printed twice: %s" % ids
history = ns[:int(sys.argv[2])]
assert any(n["reason"] == "extension_decided" for n in history), history
followed = ns[int(sys.argv[2]):]
got = {(n["task"], n["reason"], n["level"], n["level_name"]) for n in followed}
assert ("esc-a", "overdue", 1, "督导") in got, got
assert ("esc-b", "overdue", 1, "督导") in got, got
assert all(n["plan"] == "esc-cli" for n in ns), ns
PY
as mdj.zf.dcs escalations --plan esc-cli --json
exited0 "escalations"
python3 - out.txt <<'PY' || fail "escalations --json (see above)"
import json, sys
ns = json.load(open(sys.argv[1], encoding="utf-8"))["notices"]
kinds = {(n["task"], n["reason"], n["level"]) for n in ns}
assert ("esc-a", "overdue", 1) in kinds, kinds
assert ("esc-b", "overdue", 1) in kinds, kinds
assert any(n["reason"] == "extension_decided" for n in ns), kinds
assert all(n["level_name"] in ("督导", "约谈", "") for n in ns), ns
PY
as mdj.fgw escalations --plan esc-cli --json
exited0 "escalations as a department"
echo "cli.escalation: all checks passed"
