# shellcheck shell=bash
# What the CLI tests share: the work directory and its clean-up, fail / run /
# as / ok / refused, keys and roster, and brokers started on 127.0.0.1 and
# stopped by their pid. Sourced, after `set -euo pipefail`, by each test:
#   . "$(dirname "$(realpath "${BASH_SOURCE[0]}")")/lib.sh"
# The functions read the test's variables: LD (the liandong command), BROKER
# (liandong-broker), KEYS (liandong-keys), EP (the endpoint `as` talks to).

# start_work NAME [PIDVAR...]: WORK, a new directory /tmp/NAME-XXXXXX, becomes
# the current directory. On exit each process whose pid is in one of the
# variables PIDVAR (set to '' here) is killed (SIGKILL) and reaped, in that
# order, and WORK is removed.
start_work() {
    WORK=$(mktemp -d "/tmp/$1-XXXXXX")
    shift
    CLEANUP_PIDS=("$@")
    local v
    for v in "$@"; do
        printf -v "$v" '%s' ''
    done
    trap cleanup EXIT
    cd "$WORK"
}
cleanup() {
    local v p
    for v in "${CLEANUP_PIDS[@]}"; do
        p=${!v}
        if [ -n "$p" ]; then
            kill -KILL "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}

# fail MESSAGE: print it, then out.txt and err.txt where they exist and the
# tail of each file of FAIL_LOGS (broker.log unless the test says otherwise)
# that is not empty; exit 1.
FAIL_LOGS=(broker.log)
fail() {
    echo "FAIL: $*" >&2
    [ ! -e out.txt ] || { echo "--- stdout:" >&2; cat out.txt >&2; }
    [ ! -e err.txt ] || { echo "--- stderr:" >&2; cat err.txt >&2; }
    local f
    for f in "${FAIL_LOGS[@]}"; do
        [ ! -s "$f" ] || { echo "--- $f:" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}
# run CMD...: stdout/stderr in out.txt/err.txt, exit status in $rc.
run() {
    set +e
    "$@" >out.txt 2>err.txt
    rc=$?
    set -e
}
# as ID CMD...: liandong with flags for the broker at $EP and identity ID.
as() {
    local id=$1
    shift
    run "$LD" --broker "$EP" --broker-key keys/broker.pub --identity "keys/$id.secret" "$@"
}
ok() { # the last command succeeded quietly on stderr
    [ "$rc" -eq 0 ] || fail "$1: exited $rc, expected 0"
    [ ! -s err.txt ] || fail "$1: printed on stderr"
}
refused() { # refused WHAT CODE PATTERN: exit CODE, one stderr line matching PATTERN
    [ "$rc" -eq "$2" ] || fail "$1: exited $rc, expected $2"
    [ "$(wc -l <err.txt)" -eq 1 ] || fail "$1: must print exactly one line on stderr"
    grep -q '^liandong: ' err.txt || fail "$1: stderr must start with 'liandong: '"
    grep -Eq -- "$3" err.txt || fail "$1: stderr must match /$3/"
    [ ! -s out.txt ] || fail "$1: printed on stdout"
}
# wait_file FILE PID [SECONDS]: until FILE is not empty (10 s by default), PID
# still running.
wait_file() {
    local s=${3:-10}
    for _ in $(seq $((s * 10))); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || fail "process $2 exited before writing $1"
        sleep 0.1
    done
    fail "$1 not written within $s s"
}

# ---- keys and roster (in keys/, with $KEYS) ----------------------------------------
broker_key() { "$KEYS" broker --out keys >/dev/null; }
# add_principal ID NAME ROLES: a key pair for ID, its public key in keys/roster.
add_principal() {
    "$KEYS" gen --id "$1" --name "$2" --role "$3" --out keys >/dev/null
    "$KEYS" roster add --roster keys/roster --pub "keys/$1.pub" >/dev/null
}
# plan_principals PLAN...: every principal the plans name, a line "ID ROLES"
# each (ROLES: coordinator, supervision, department, comma-separated), by ID.
plan_principals() {
    python3 - "$@" <<'PY'
import sys, yaml
roles = {}
for path in sys.argv[1:]:
    d = yaml.safe_load(open(path, encoding="utf-8"))
    for i in d["plan"].get("coordinators") or []:
        roles.setdefault(i, set()).add("coordinator")
    for i in d["plan"].get("supervision") or []:
        roles.setdefault(i, set()).add("supervision")
    for t in d["tasks"]:
        for i in (t.get("lead") or []) + (t.get("support") or []):
            roles.setdefault(i, set()).add("department")
for i in sorted(roles):
    print(i, ",".join(sorted(roles[i])))
PY
}
# add_principals FILE: add_principal for each line "ID ROLES" of FILE, named ID.
add_principals() {
    local id roles
    while read -r id roles; do
        add_principal "$id" "$id" "$roles"
    done <"$1"
}
# The broker options for the keys made here.
# shellcheck disable=SC2034  # for the tests
BROKER_KEYS=(--roster keys/roster --key keys/broker.secret)

# ---- brokers -------------------------------------------------------------------------
# spawn_broker NAME LISTEN [OPTIONS...]: "$BROKER" OPTIONS... in the background,
# listening on LISTEN (on 127.0.0.1; empty: a free port), its ready file
# NAME.ready (a stale one removed first), its output appended to NAME.log.
# BROKER_PID is its pid.
spawn_broker() {
    local name=$1 listen=${2:-tcp://127.0.0.1:*}
    shift 2
    case $listen in
        tcp://127.0.0.1:*) ;;
        *) fail "a test broker listens on 127.0.0.1 only, not $listen" ;;
    esac
    rm -f "$name.ready"
    "$BROKER" --listen "$listen" --ready-file "$name.ready" "$@" >>"$name.log" 2>&1 &
    BROKER_PID=$!
}
# start_broker NAME LISTEN [OPTIONS...]: spawn_broker, then wait for NAME.ready
# (BROKER_WAIT seconds, 10 by default), which must name the endpoint
# tcp://127.0.0.1:PORT; BROKER_EP is that endpoint.
start_broker() {
    spawn_broker "$@"
    wait_file "$1.ready" "$BROKER_PID" "${BROKER_WAIT:-10}"
    grep -Eqx 'tcp://127\.0\.0\.1:[0-9]+' "$1.ready" || fail "bad ready file: $(cat "$1.ready")"
    # shellcheck disable=SC2034  # for the tests
    BROKER_EP=$(cat "$1.ready")
}
# stop_broker PIDVAR: SIGTERM to the broker whose pid is in PIDVAR, which must
# end it cleanly (exit 0); PIDVAR is then ''.
stop_broker() {
    local var=$1 st=0
    kill -TERM "${!var}"
    wait "${!var}" || st=$?
    printf -v "$var" '%s' ''
    [ "$st" -eq 0 ] || fail "the broker ($var) exited $st after SIGTERM, expected 0"
}
