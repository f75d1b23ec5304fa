#!/usr/bin/env bash
# Black-box test of the `liandong` command against real brokers on 127.0.0.1:
# send / inbox (human, JSON, --follow), refusals, usage errors, the identity
# file mode rule, clock advance on a simulated broker, and a broker restart.
# Usage: test_cli.sh PATH/TO/liandong PATH/TO/liandong-broker PATH/TO/liandong-keys
set -euo pipefail

USAGE="usage: test_cli.sh PATH/TO/liandong PATH/TO/liandong-broker PATH/TO/liandong-keys"
LD=$(realpath "${1:?$USAGE}")
BROKER=$(realpath "${2:?$USAGE}")
KEYS=$(realpath "${3:?$USAGE}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "${BASH_SOURCE[0]}")")/lib.sh"

# Brokers and the follower started here (BROKER_PID: a broker not yet ready);
# killed by pid on exit.
start_work ld-cli FOLLOW_PID B1_PID B2_PID BROKER_PID
FAIL_LOGS=(b1.log b2.log follow.out follow.err)

# Whatever the caller's environment says, start without these.
unset LIANDONG_BROKER LIANDONG_BROKER_KEY LIANDONG_IDENTITY

GXJ='市工信局'
FGW='市发改委'
TEXT1='请报送第三季度进展'

sent_id() { # check out.txt is "sent <id> seq N" and print the id
    grep -Eqx "sent [0-9a-f]{32} seq $1" out.txt || fail "send must print 'sent <32 hex> seq $1'"
    [ "$(wc -l <out.txt)" -eq 1 ] || fail "send must print one line"
    cut -d' ' -f2 out.txt
}
# start_broker_n N DATA [OPTIONS...]: broker N (1 or 2), log in bN.log, on the port of
# EPN if set; sets BN_PID and, from its ready file, the endpoint EPN.
start_broker_n() {
    local n=$1 data=$2 ep="EP$1"
    shift 2
    start_broker "b$n" "${!ep:-}" --data-dir "$data" "${BROKER_KEYS[@]}" "$@"
    printf -v "B${n}_PID" '%s' "$BROKER_PID"
    BROKER_PID=''
    printf -v "$ep" '%s' "$BROKER_EP"
}

# ---- keys and roster ----------------------------------------------------------------
broker_key
add_principal mdj.gxj "$GXJ" department
add_principal mdj.fgw "$FGW" department
add_principal ops.admin '运维管理员' admin

# Broker 1 on the wall clock, broker 2 on a simulated clock.
start_broker_n 1 var1
start_broker_n 2 var2 '--simulated-clock=2022-07-01T09:00:00+08:00'
EP=$EP1

# ---- send and inbox ------------------------------------------------------------------
as mdj.gxj send --to mdj.fgw --text "$TEXT1"
ok "send"
ID1=$(sent_id 1)

# The environment instead of the flags; a flag overrides the environment.
set +e
LIANDONG_BROKER=$EP LIANDONG_BROKER_KEY=keys/broker.pub LIANDONG_IDENTITY=keys/mdj.gxj.secret \
    "$LD" send --to mdj.fgw --text '第二条：环境变量' >out.txt 2>err.txt
rc=$?
set -e
ok "send with LIANDONG_* variables"
ID2=$(sent_id 2)
set +e
LIANDONG_BROKER=tcp://127.0.0.1:1 LIANDONG_BROKER_KEY=keys/missing.pub \
    LIANDONG_IDENTITY=keys/missing.secret \
    "$LD" --broker "$EP" --broker-key keys/broker.pub --identity keys/mdj.gxj.secret \
    send --to mdj.fgw --text '第三条' >out.txt 2>err.txt
rc=$?
set -e
ok "send with flags overriding LIANDONG_* variables"
ID3=$(sent_id 3)

as mdj.fgw inbox --json --timeout 2
ok "inbox --json"
python3 - out.txt "$ID1" "$ID2" "$ID3" "$GXJ" "$TEXT1" <<'PY' || fail "the Python check failed (see above)"
import json, sys
path, ids, gxj, text1 = sys.argv[1], sys.argv[2:5], sys.argv[5], sys.argv[6]
raw = open(path, "rb").read()
assert gxj.encode() in raw and text1.encode() in raw, "UTF-8 must be printed unescaped"
lines = raw.decode("utf-8").splitlines()
assert len(lines) == 3, lines
ds = [json.loads(l) for l in lines]
keys = {"delivery_id", "envelope_id", "sender", "sender_name", "seq", "sent_at", "stored_at",
        "type", "to", "text", "content_type", "payload_base64"}
for d, want_id, seq in zip(ds, ids, (1, 2, 3)):
    assert keys <= set(d), sorted(keys - set(d))  # the documented fields; more may come
    assert d["envelope_id"] == want_id, (d["envelope_id"], want_id)
    assert d["sender"] == "mdj.gxj" and d["sender_name"] == gxj, d
    assert d["seq"] == seq and d["type"] == "direct" and d["to"] == ["mdj.fgw"], d
    assert d["payload_base64"] is None and d["content_type"] is None, d
    assert isinstance(d["delivery_id"], int), d
    for k in ("sent_at", "stored_at"):
        assert d[k].startswith("20") and d[k].endswith("Z") and d[k][10] == "T", d[k]
assert ds[0]["text"] == text1, ds[0]["text"]
assert ds[1]["text"] == "第二条：环境变量" and ds[2]["text"] == "第三条"
assert len({d["delivery_id"] for d in ds}) == 3
PY

# Acknowledged: nothing the second time.
as mdj.fgw inbox --json --timeout 1
ok "second inbox"
[ ! -s out.txt ] || fail "a second inbox must print nothing (the first acknowledged all)"

# For people: the Chinese text, the sender and its name, the envelope id.
as mdj.gxj send --to mdj.fgw --text '请于周五前报送进展'
ok "send"
ID4=$(sent_id 4)
as mdj.fgw inbox --timeout 1
ok "inbox"
grep -q '请于周五前报送进展' out.txt || fail "inbox must print the Chinese text"
grep -q "from mdj.gxj ($GXJ)" out.txt || fail "inbox must print the sender and its name"
grep -q "envelope $ID4" out.txt || fail "inbox must print the envelope id"

# A payload from a file, and one from standard input: bytes round-trip.
head -c 3000 /dev/urandom >payload.bin
printf '\0\1\2 二进制\n' >>payload.bin
as mdj.gxj send --to mdj.fgw --file payload.bin
ok "send --file"
ID5=$(sent_id 5)
set +e
"$LD" --broker "$EP" --broker-key keys/broker.pub --identity keys/mdj.gxj.secret \
    send --to mdj.fgw --text '附件' --file - <payload.bin >out.txt 2>err.txt
rc=$?
set -e
ok "send --file -"
ID6=$(sent_id 6)
as mdj.fgw inbox --json --timeout 1
ok "inbox --json"
python3 - out.txt payload.bin "$ID5" "$ID6" <<'PY' || fail "the Python check failed (see above)"
import base64, json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = open(sys.argv[2], "rb").read()
assert [d["envelope_id"] for d in ds] == sys.argv[3:5], ds
for d in ds:
    assert d["payload_base64"] is not None, d
    assert base64.b64decode(d["payload_base64"], validate=True) == want, "payload differs"
assert ds[0]["text"] in ("", None) and ds[1]["text"] == "附件", ds
PY

# ---- refusals and usage errors -------------------------------------------------------
as mdj.gxj send --to mdj.nobody --text x
refused "send to an unknown recipient" 1 '^liandong: refused: UNKNOWN_RECIPIENT: '
# A refusal uses no sequence number.
as mdj.gxj send --to mdj.fgw --text '拒绝之后'
ok "send after a refusal"
ID7=$(sent_id 7)
as mdj.fgw inbox --json --timeout 1
ok "inbox"
python3 - out.txt "$ID7" <<'PY' || fail "the Python check failed (see above)"
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [(d["envelope_id"], d["seq"]) for d in ds] == [(sys.argv[2], 7)], ds
PY

run "$LD" --broker "$EP" --broker-key keys/broker.pub send --to mdj.fgw --text x
refused "send without an identity" 1 '--identity.*LIANDONG_IDENTITY'
run env LIANDONG_IDENTITY= "$LD" --broker "$EP" --broker-key keys/broker.pub \
    send --to mdj.fgw --text x
refused "send with an empty LIANDONG_IDENTITY" 1 '--identity.*LIANDONG_IDENTITY'

cp keys/mdj.gxj.secret loose.secret
chmod 644 loose.secret
run "$LD" --broker "$EP" --broker-key keys/broker.pub --identity loose.secret \
    send --to mdj.fgw --text x
refused "send with a 0644 identity file" 1 'loose\.secret.*chmod 600'

run "$LD" frob
refused "unknown command" 2 "unknown command 'frob'"
run "$LD"
refused "no command" 2 'no command'
as mdj.gxj send --bogus
refused "unknown send option" 2 "unknown option '--bogus'"
as mdj.gxj send --to mdj.fgw
refused "send without text or file" 2 'nothing to send'
as mdj.gxj inbox --timeout -1
refused "inbox --timeout -1" 2 '--timeout'
as ops.admin clock advance --by soon
refused "clock advance --by soon" 2 "'soon' is not a positive duration"
for cmd in "" "send" "inbox" "clock" "clock advance" "demo"; do
    # shellcheck disable=SC2086
    run "$LD" $cmd --help
    ok "liandong $cmd --help"
    grep -q '^Usage: liandong' out.txt || fail "'liandong $cmd --help' must print the usage"
done
run "$LD" help inbox
ok "liandong help inbox"
grep -q -- '--follow' out.txt || fail "'liandong help inbox' must print the inbox usage"

# ---- inbox --follow --------------------------------------------------------------------
"$LD" --broker "$EP" --broker-key keys/broker.pub --identity keys/mdj.fgw.secret \
    inbox --follow --json >follow.out 2>follow.err &
FOLLOW_PID=$!
as mdj.gxj send --to mdj.fgw --text '跟随一'
ok "send"
ID8=$(sent_id 8)
wait_file follow.out "$FOLLOW_PID"
# The follower is connected now: a message sent from here on is pushed to it.
as mdj.gxj send --to mdj.fgw --text '跟随二'
ok "send"
ID9=$(sent_id 9)
for _ in $(seq 50); do
    [ "$(wc -l <follow.out)" -ge 2 ] && break
    sleep 0.1
done
[ "$(wc -l <follow.out)" -eq 2 ] || fail "inbox --follow must print both messages within 5 s"
python3 - follow.out "$ID8" "$ID9" <<'PY' || fail "the Python check failed (see above)"
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [d["envelope_id"] for d in ds] == sys.argv[2:4], ds
assert [d["text"] for d in ds] == ["跟随一", "跟随二"], ds
PY
kill -0 "$FOLLOW_PID" 2>/dev/null || fail "inbox --follow must keep running"
kill -INT "$FOLLOW_PID"
st=0
for _ in $(seq 50); do
    kill -0 "$FOLLOW_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$FOLLOW_PID" 2>/dev/null && fail "inbox --follow still runs 5 s after SIGINT"
wait "$FOLLOW_PID" || st=$?
FOLLOW_PID=''
[ "$st" -eq 0 ] || fail "inbox --follow exited $st after SIGINT, expected 0"
[ ! -s follow.err ] || fail "inbox --follow printed on stderr: $(cat follow.err)"
as mdj.fgw inbox --json --timeout 1
ok "inbox after --follow"
[ ! -s out.txt ] || fail "inbox --follow must have acknowledged what it printed"

# ---- a broker restart after SIGKILL -----------------------------------------------------
as mdj.gxj send --to mdj.fgw --text '重启之前'
ok "send"
ID10=$(sent_id 10)
kill -KILL "$B1_PID"
wait "$B1_PID" 2>/dev/null || true
B1_PID=''
start_broker_n 1 var1
[ "$EP1" = "$EP" ] || fail "the restarted broker must listen on $EP, not $EP1"
as mdj.fgw inbox --json --timeout 1
ok "inbox after the restart"
python3 - out.txt "$ID10" <<'PY' || fail "the Python check failed (see above)"
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(ds) == 1, ds
assert ds[0]["envelope_id"] == sys.argv[2] and ds[0]["text"] == "重启之前", ds
PY
# The broker remembers the last sequence number.
as mdj.gxj send --to mdj.fgw --text '重启之后'
ok "send after the restart"
sent_id 11 >/dev/null

# ---- clock ------------------------------------------------------------------------------
as ops.admin clock advance --by 90d
refused "clock advance on a wall-clock broker" 1 '^liandong: refused: UNSUPPORTED: '

EP=$EP2
as ops.admin clock show
ok "clock show"
[ "$(cat out.txt)" = '2022-07-01T01:00:00Z (simulated)' ] || fail "clock show: wrong start"
as ops.admin clock advance --by 90d
ok "clock advance"
[ "$(cat out.txt)" = '2022-09-29T01:00:00Z' ] || fail "clock advance --by 90d: wrong clock"
as mdj.gxj clock advance --by 1d
refused "clock advance without the admin role" 1 '^liandong: refused: UNAUTHORIZED: '
# The clock survives a restart, even with the start time given again.
stop_broker B2_PID
start_broker_n 2 var2 '--simulated-clock=2022-07-01T09:00:00+08:00'
as mdj.gxj clock show
ok "clock show after a restart"
[ "$(cat out.txt)" = '2022-09-29T01:00:00Z (simulated)' ] || fail "the clock must survive a restart"

stop_broker B1_PID
stop_broker B2_PID
echo "cli.liandong: all checks passed"
