#!/usr/bin/env bash
# Black-box test of the plan commands of `liandong` and of examples/sdk/department
# against a real broker with the plans plugin loaded by dlopen:
# plan publish / plan list, tasks, accept, report, ledger (table and --json),
# inbox for TaskAssign / TaskAccept / StatusReport deliveries, refusals and
# usage errors; then the example department system accepts and reports its
# assignments and the ledger shows it.
# Usage: test_plans_cli.sh LIANDONG BROKER KEYS PLANS_SO SOURCE_DIR DEPARTMENT
set -euo pipefail

USAGE="usage: test_plans_cli.sh LIANDONG BROKER KEYS PLANS_SO SOURCE_DIR DEPARTMENT"
LD=$(realpath "${1:?$USAGE}")
BROKER=$(realpath "${2:?$USAGE}")
KEYS=$(realpath "${3:?$USAGE}")
PLANS_SO=$(realpath "${4:?$USAGE}")
SRC=$(realpath "${5:?$USAGE}")
DEPT_BIN=$(realpath "${6:?$USAGE}")
PLAN=$SRC/examples/plans/ir-2022.yaml
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "${BASH_SOURCE[0]}")")/lib.sh"
start_work ld-plans-cli BROKER_PID
unset LIANDONG_BROKER LIANDONG_BROKER_KEY LIANDONG_IDENTITY

py() { # py WHAT SCRIPT ARGS...: a Python check on out.txt
    local what=$1 script=$2
    shift 2
    python3 -c "$script" out.txt "$@" || fail "$what: the Python check failed (see above)"
}

# ---- identities for every department of the plan ------------------------------------
# id roles, one per line: coordinators, supervision, and every lead and support.
plan_principals "$PLAN" >ids.txt
[ "$(wc -l <ids.txt)" -ge 40 ] || fail "expected at least 40 principals in $PLAN"
broker_key
add_principals ids.txt
COORD=mdj.zf.bgs
SUPER=mdj.zf.dcs
grep -q "^$COORD .*coordinator" ids.txt || fail "$COORD is not a coordinator of $PLAN"
grep -q "^$SUPER supervision" ids.txt || fail "$SUPER is not supervision of $PLAN"
BROKER_ID=$(sed -n 's/^id = //p' keys/broker.pub)

cat >broker.yaml <<EOF
data_dir: var
roster: keys/roster
key: keys/broker.secret
plugins:
  - name: plans
    path: "$PLANS_SO"
EOF
start_broker broker '' --config broker.yaml '--simulated-clock=2022-07-01T09:00:00+08:00'
EP=$BROKER_EP

# ---- --help and usage errors --------------------------------------------------------------
for cmd in "plan --help" "plan publish --help" "plan list --help" "tasks --help" \
    "accept --help" "report --help" "ledger --help" "help ledger"; do
    # shellcheck disable=SC2086  # the command words are meant to split
    run "$LD" $cmd
    ok "liandong $cmd"
    grep -q '^Usage: liandong' out.txt || fail "liandong $cmd: no usage text"
done
as mdj.gxj report ir-2.1.1 --state nope --progress 10
refused "report --state nope" 2 "^liandong: report: --state is .*'nope'"
as mdj.gxj report ir-2.1.1 --state done --progress 101
refused "report --progress 101" 2 "^liandong: report: --progress is a percentage"
as mdj.gxj report ir-2.1.1 --state done
refused "report without --progress" 2 "no progress"
as mdj.gxj report --state done --progress 5
refused "report without a task" 2 "which task"
as mdj.gxj accept
refused "accept without a task" 2 "which task"
as mdj.gxj accept a b
refused "accept with two tasks" 2 "unexpected argument 'b'"
as $COORD plan
refused "plan alone" 2 "publish FILE"
as $COORD plan frob
refused "plan frob" 2 "unknown subcommand 'frob'"
as $COORD plan publish
refused "plan publish without a file" 2 "needs a FILE"
as $COORD ledger --state bogus
refused "ledger --state bogus" 2 "'bogus'"
as $COORD ledger --frob
refused "ledger --frob" 2 "unknown option '--frob'"

# ---- publish ----------------------------------------------------------------------------------
as $COORD plan publish missing.yaml
refused "publish a missing file" 1 "missing\.yaml"
as mdj.gxj plan publish "$PLAN"
refused "a department publishes" 1 "^liandong: refused: UNAUTHORIZED: "
printf 'plan:\n  id: bad\n  title: "坏"\n  coordinators: [%s]\ntasks:\n  - id: bad-1\n    title: "无牵头部门"\n    due: "2025-12-31"\n' \
    "$COORD" >bad.yaml
as $COORD plan publish bad.yaml
refused "publish an invalid plan" 1 "^liandong: refused: INVALID_PLAN: .*bad\.yaml:[0-9]+"

as $COORD plan publish "$PLAN"
ok "plan publish"
grep -Eqx "published $PLAN: envelope [0-9a-f]{32} seq [0-9]+" out.txt ||
    fail "plan publish must print 'published FILE: envelope <id> seq <n>'"

# ---- a department: its tasks, its assignments -----------------------------------------------
as mdj.gxj tasks --json
ok "tasks --json"
py "tasks --json" '
import json, sys, yaml
doc = json.load(open(sys.argv[1], encoding="utf-8"))
plan = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
want = {}
for t in plan["tasks"]:
    if "mdj.gxj" in (t.get("lead") or []):
        want[t["id"]] = "lead"
    elif "mdj.gxj" in (t.get("support") or []):
        want[t["id"]] = "support"
got = {t["task"]: t["role"] for t in doc["tasks"]}
assert got == want, (got, want)
t = [t for t in doc["tasks"] if t["task"] == "ir-2.1.1"][0]
assert t["state"] == "assigned" and t["progress"] == 0 and t["last_report_at"] is None, t
assert t["title"] == "拓展数字经济发展新优势" and t["lead"] == ["mdj.gxj"], t
' "$PLAN"
as mdj.gxj tasks
ok "tasks"
grep -Eq '^ir-2022 +ir-2\.1\.1 +lead +拓展数字经济发展新优势 +assigned +0% +2025-12-31 +no$' out.txt ||
    fail "tasks: the row of ir-2.1.1"
grep -Eq '^PLAN +TASK +ROLE +TITLE' out.txt || fail "tasks: the header"

# The assignment as people read it (mdj.kjj supports ir-2.1.1).
as mdj.kjj inbox --timeout 2
ok "inbox of mdj.kjj"
grep -qx "assigned as support: ir-2.1.1 拓展数字经济发展新优势" out.txt ||
    fail "inbox must show the assignment: change, role, task, title"
grep -q "^due: 2025-12-31, report every quarter$" out.txt || fail "inbox must show the due date"
grep -q "from $BROKER_ID " out.txt || fail "inbox: assignments come from the broker"
# ... and as programs read it.
as mdj.gxj inbox --json --timeout 2
ok "inbox --json of mdj.gxj"
py "inbox --json" '
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert ds and all(d["type"] == "task_assign" for d in ds), [d["type"] for d in ds]
assert all(d["sender"] == sys.argv[2] and d["from_broker"] is True for d in ds)
a = {d["assign"]["task"]: d["assign"] for d in ds}
x = a["ir-2.1.1"]
assert x["role"] == "lead" and x["change"] == "assigned", x
assert x["plan"] == "ir-2022" and x["doc_number"] == "牡政发〔2022〕21号", x
assert x["due"] == "2025-12-31" and x["lead"] == ["mdj.gxj"] and "mdj.kjj" in x["support"], x
assert x["targets"] and x["targets"][0]["year"] == 2025, x
assert a["ir-2.1.2"]["role"] == "support", a["ir-2.1.2"]
' "$BROKER_ID"

# ---- accept and report ---------------------------------------------------------------------
as mdj.gxj accept ir-2.1.1 --note '已收到，按季度报送'
ok "accept"
grep -Eqx "accepted ir-2\.1\.1: envelope [0-9a-f]{32} seq [0-9]+" out.txt || fail "accept output"
as mdj.fgw report ir-2.1.1 --plan ir-2022 --state accepted --progress 0% --note '配合推进'
ok "report by a support department, with --plan"
as mdj.gxj report ir-2.1.1 --state in_progress --progress 40 --note '已完成调研，正在编制方案'
ok "report"
grep -Eqx "reported ir-2\.1\.1 in_progress 40%: envelope [0-9a-f]{32} seq [0-9]+" out.txt ||
    fail "report output"
as mdj.gxj accept ir-2.4.5
refused "accept a task of others" 1 "^liandong: refused: UNAUTHORIZED: "
as mdj.gxj report ir-9.9 --state done --progress 100
refused "report on an unknown task" 1 "^liandong: refused: UNKNOWN_TASK: "
as mdj.gxj ledger
refused "a department reads the ledger" 1 "^liandong: refused: UNAUTHORIZED: "

# The lead gets the support department's report.
as mdj.gxj inbox --json --timeout 2
ok "inbox --json of mdj.gxj after the reports"
py "the lead gets the support report" '
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
rs = [d for d in ds if d["type"] == "status_report"]
assert len(rs) == 1 and rs[0]["sender"] == "mdj.fgw" and rs[0]["from_broker"] is False, ds
r = rs[0]["report"]
assert (r["task"], r["state"], r["progress"], r["note"]) == ("ir-2.1.1", "accepted", 0, "配合推进"), r
'
# The coordinator gets the accept and both reports.
as $COORD inbox --json --timeout 2
ok "inbox --json of the coordinator"
py "the coordinator gets accepts and reports" '
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
acc = [d for d in ds if d["type"] == "task_accept"]
assert len(acc) == 1 and acc[0]["sender"] == "mdj.gxj", ds
assert acc[0]["accept"]["task"] == "ir-2.1.1" and acc[0]["accept"]["note"] == "已收到，按季度报送"
rs = sorted((d["sender"], d["report"]["state"], d["report"]["progress"]) for d in ds
            if d["type"] == "status_report")
assert rs == [("mdj.fgw", "accepted", 0), ("mdj.gxj", "in_progress", 40)], rs
'

# ---- the ledger ----------------------------------------------------------------------------------
as $COORD ledger --json
ok "ledger --json"
py "ledger --json" '
import json, re, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert list(doc) == ["tasks"], list(doc)
ts = doc["tasks"]
assert len(ts) == 28, len(ts)
first = ["plan", "task", "kind", "title", "lead", "support", "state", "progress", "due",
         "last_report_at", "overdue", "escalation_level"]
for t in ts:
    assert list(t)[:len(first)] == first, list(t)
    assert t["kind"] == "task", t
    assert t["plan"] == "ir-2022" and t["escalation_level"] == 0 and t["overdue"] is False, t
t = {t["task"]: t for t in ts}["ir-2.1.1"]
assert t["state"] == "in_progress" and t["progress"] == 40, t
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", t["last_report_at"]), t
assert "mdj.gxj" in t["accepted_by"], t
notes = {r["dept"]: r["note"] for r in t["reports"]}
assert notes["mdj.gxj"] == "已完成调研，正在编制方案" and notes["mdj.fgw"] == "配合推进", notes
assert {t["task"]: t for t in ts}["ir-2.1.2"]["last_report_at"] is None
'
as $COORD ledger --json --state in_progress
ok "ledger --json --state in_progress"
py "ledger --state" '
import json, sys
ts = json.load(open(sys.argv[1], encoding="utf-8"))["tasks"]
assert [t["task"] for t in ts] == ["ir-2.1.1"], ts
'
as $COORD ledger --json --dept mdj.gxj --plan ir-2022
ok "ledger --json --dept --plan"
py "ledger --dept" '
import json, sys
ts = json.load(open(sys.argv[1], encoding="utf-8"))["tasks"]
assert len(ts) == 16 and all("mdj.gxj" in t["lead"] + t["support"] for t in ts), len(ts)
'
as $COORD ledger --overdue --json
ok "ledger --overdue --json"
py "ledger --overdue" 'import json, sys; assert json.load(open(sys.argv[1]))["tasks"] == []'
as $SUPER ledger --json --plan ir-2022
ok "supervision reads the ledger"
as $COORD ledger --plan nosuch
refused "ledger of an unknown plan" 1 "^liandong: refused: UNKNOWN_TASK: "

# The table: every column starts at the same display column in every row.
as $COORD ledger
ok "ledger"
py "ledger table" '
import sys, unicodedata
def width(ch):
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head, rows, foot = lines[0], lines[1:-1], lines[-1]
assert head.split() == ["PLAN", "TASK", "TITLE", "LEAD", "STATE", "PROGRESS", "DUE",
                        "OVERDUE", "LEVEL"], head
assert len(rows) == 28 and foot.startswith("28 tasks, 0 overdue, at "), (len(rows), foot)
starts = [i for i in range(len(head)) if head[i] != " " and (i == 0 or head[i - 1] == " ")]
def cells(line):  # display column -> character starting there
    col, at = 0, {}
    for ch in line:
        at[col] = ch
        col += width(ch)
    return at, col
wide_rows = 0
for r in rows:
    at, total = cells(r)
    wide_rows += any(width(ch) == 2 for ch in r)
    for s in starts[1:]:
        assert s in at and at[s] != " ", ("no cell starts at column %d" % s, r)
        assert at.get(s - 1) == " " and at.get(s - 2) == " ", ("column %d" % s, r)
assert wide_rows == 28, wide_rows
# Two rows of different titles: their STATE cells start at the same display column.
a = [r for r in rows if " ir-2.1.1 " in r][0]
b = [r for r in rows if " ir-2.3.2 " in r][0]
def col_of(line, word):
    return sum(width(ch) for ch in line[:line.index(word)])
assert col_of(a, "in_progress") == col_of(b, "assigned"), (a, b)
# A long title is cut by display width, with an ellipsis.
assert "统筹布局能源供给和新能源、可…" in b, b
assert "拓展数字经济发展新优势" in a, a
'

# ---- plan list ------------------------------------------------------------------------------------
as $COORD plan list
ok "plan list"
grep -Eq '^PLAN +DOC_NUMBER +TITLE +TASKS +DONE +OVERDUE$' out.txt || fail "plan list: header"
grep -Eq '^ir-2022 +牡政发〔2022〕21号 +牡丹江市加快产业振兴实施方案（2022-2026年） +28 +0 +0$' out.txt ||
    fail "plan list: the row of ir-2022"
as $COORD plan list --json
ok "plan list --json"
py "plan list --json" '
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert doc == {"plans": [{"plan": "ir-2022", "doc_number": "牡政发〔2022〕21号",
    "title": "牡丹江市加快产业振兴实施方案（2022-2026年）", "tasks": 28, "done": 0,
    "overdue": 0}]}, doc
'
as mdj.kjj plan list --mine --json
ok "plan list --mine"
py "plan list --mine" '
import json, sys
assert json.load(open(sys.argv[1], encoding="utf-8"))["plans"][0]["tasks"] == 12
'
as mdj.kjj plan list
refused "a department lists all plans" 1 "^liandong: refused: UNAUTHORIZED: "

# ---- the example department system -------------------------------------------------------------
DEPT=mdj.wlj
N=$(python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
print(sum(sys.argv[2] in (t.get("lead") or []) + (t.get("support") or []) for t in d["tasks"]))
' "$PLAN" "$DEPT")
[ "$N" -ge 2 ] || fail "$DEPT should have several tasks, has $N"
run "$DEPT_BIN"
[ "$rc" -eq 2 ] && grep -q '^usage: ' err.txt || fail "department without arguments: usage, exit 2"
run "$DEPT_BIN" -e "$EP" -i "keys/$DEPT.secret" -k keys/broker.pub -n "$N" -t 30
ok "department -n $N"
grep -qx "connected as $DEPT" out.txt || fail "department: connect line"
[ "$(grep -c '^accepted ir-' out.txt)" -eq "$N" ] || fail "department must accept $N tasks"
[ "$(grep -c '^reported ir-.* in_progress 10%$' out.txt)" -eq "$N" ] ||
    fail "department must report on $N tasks"
grep -qx "accepted ir-2.1.3 as lead: 巩固冰雪经济东部集散中心地位" out.txt ||
    fail "department: the line of ir-2.1.3"
# Its mailbox is empty now; the environment works instead of the flags.
set +e
LIANDONG_BROKER=$EP LIANDONG_IDENTITY=keys/$DEPT.secret LIANDONG_BROKER_KEY=keys/broker.pub \
    "$DEPT_BIN" -t 1 >out.txt 2>err.txt
rc=$?
set -e
ok "department from the environment, nothing to do"
! grep -q '^accepted' out.txt || fail "department: its assignments were acknowledged already"

as $COORD ledger --json --dept "$DEPT"
ok "ledger --json --dept $DEPT"
py "the ledger shows the department's reports" '
import json, sys
dept, n = sys.argv[2], int(sys.argv[3])
ts = json.load(open(sys.argv[1], encoding="utf-8"))["tasks"]
assert len(ts) == n, (len(ts), n)
for t in ts:
    assert dept in t["accepted_by"], t
    r = [r for r in t["reports"] if r["dept"] == dept]
    assert len(r) == 1 and r[0]["state"] == "in_progress" and r[0]["progress"] == 10, t
    assert r[0]["note"] == "已制定工作方案，正在组织实施", r
    assert t["last_report_at"] is not None, t
lead = [t for t in ts if t["lead"] == [dept]]
assert lead and all(t["state"] == "in_progress" and t["progress"] == 10 for t in lead), lead
' "$DEPT" "$N"

stop_broker BROKER_PID
echo "cli.plans: all checks passed"
