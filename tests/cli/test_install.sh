#!/usr/bin/env bash
# shellcheck disable=SC2015  # "A && B || fail": fail when A or B fails
# Installs the build tree into a temporary prefix, checks what is installed,
# builds examples/sdk/hello.c out of tree against it (shared, static, and with
# CMake through pkg-config) and runs the programs against the installed broker.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR [CMAKE]
set -euo pipefail

USAGE="usage: test_install.sh BUILD_DIR SOURCE_DIR [CMAKE]"
BUILD=$(realpath "${1:?$USAGE}")
SRC=$(realpath "${2:?$USAGE}")
CMAKE=${3:-cmake}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "${BASH_SOURCE[0]}")")/lib.sh"
start_work ld-install BROKER_PID

must() { # must WHAT CMD...: CMD succeeds
    local what=$1
    shift
    run "$@"
    [ "$rc" -eq 0 ] || fail "$what: exited $rc"
}

# A sanitizer build installs instrumented libraries: programs linked with
# them need the same flags.
SAN_FLAGS=()
if grep -q '^LD_SANITIZE:BOOL=ON$' "$BUILD/CMakeCache.txt"; then
    # shellcheck disable=SC2054  # one compiler flag, commas included
    SAN_FLAGS=(-fsanitize=address,undefined -fno-omit-frame-pointer)
fi

# ---- install -----------------------------------------------------------------
P=$WORK/prefix
must "cmake --install" "$CMAKE" --install "$BUILD" --prefix "$P"

for f in bin/liandong bin/liandong-broker bin/liandong-keys; do
    [ -f "$P/$f" ] && [ -x "$P/$f" ] || fail "$f is not installed (or not executable)"
done
for f in include/liandong/liandong.h include/liandong/error.h; do
    [ -f "$P/$f" ] || fail "$f is not installed"
done
# GNUInstallDirs: lib, lib64 or lib/<multiarch>.
PC=$(find "$P" -path '*/pkgconfig/liandong.pc' | head -n 1)
[ -n "$PC" ] || fail "liandong.pc is not installed"
LIBDIR=$(dirname "$(dirname "$PC")")
case "$LIBDIR" in "$P"/lib*) ;; *) fail "liandong.pc is in $LIBDIR, not under $P/lib*" ;; esac
[ -f "$LIBDIR/libliandong.a" ] || fail "libliandong.a is not installed in $LIBDIR"
[ -L "$LIBDIR/libliandong.so" ] || fail "libliandong.so (the link for -lliandong) is missing"
SONAME=$(readelf -d "$LIBDIR/libliandong.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ -n "$SONAME" ] && [ -e "$LIBDIR/$SONAME" ] || fail "no installed file for the soname '$SONAME'"
[ -f "$(readlink -f "$LIBDIR/libliandong.so")" ] || fail "libliandong.so is a dangling link"

# The shared library exports the public API (ld_*) and the protobuf-c code of
# the wire schema (liandong__v1__*), nothing else.
EXPORTS=$(nm -D --defined-only "$LIBDIR/libliandong.so" | awk 'NF == 3 {print $3}')
grep -qx 'ld_client_send_direct' <<<"$EXPORTS" || fail "libliandong.so lacks ld_client_send_direct"
OTHER=$(grep -Ev '^(ld_|liandong__v1__)' <<<"$EXPORTS" || true)
[ -z "$OTHER" ] || fail "libliandong.so exports more than ld_* and liandong__v1__*: $(echo "$OTHER" | head -n 5)"
# The installed programs do not point back into the build tree.
for f in bin/liandong bin/liandong-broker bin/liandong-keys "${LIBDIR#"$P"/}/libliandong.so"; do
    RP=$(readelf -d "$P/$f" | grep -E 'RPATH|RUNPATH' || true)
    [[ "$RP" != *"$BUILD"* ]] || fail "$f has an RPATH into the build tree: $RP"
done

# ---- pkg-config ------------------------------------------------------------------
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
run pkg-config --variable=prefix liandong
[ "$(cat out.txt)" = "$P" ] || fail "liandong.pc: prefix must be the install prefix $P"
run pkg-config --modversion liandong
[ "$rc" -eq 0 ] && grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' out.txt || fail "pkg-config --modversion"
CFLAGS_LD=$(pkg-config --cflags liandong)
LIBS_LD=$(pkg-config --libs liandong)
case " $CFLAGS_LD $LIBS_LD " in
    *"$SRC"* | *"$BUILD"*) fail "liandong.pc points into the source or build tree: $CFLAGS_LD $LIBS_LD" ;;
esac
case " $CFLAGS_LD " in *" -I$P/include "*) ;; *) fail "cflags lack -I$P/include: $CFLAGS_LD" ;; esac
case " $LIBS_LD " in *" -lliandong "*) ;; *) fail "libs lack -lliandong: $LIBS_LD" ;; esac

# ---- out-of-tree builds ------------------------------------------------------------
mkdir app
cp "$SRC/examples/sdk/hello.c" app/
cd app
# shellcheck disable=SC2086  # word splitting of the pkg-config output is wanted
must "cc hello.c (shared)" cc -Wall -Wextra -Werror "${SAN_FLAGS[@]}" hello.c \
    $CFLAGS_LD $LIBS_LD -o hello-shared
# Static: libliandong.a needs nothing but libzmq, libsodium and libprotobuf-c.
# shellcheck disable=SC2046,SC2086
must "cc hello.c (static)" cc -Wall -Wextra -Werror "${SAN_FLAGS[@]}" hello.c \
    $CFLAGS_LD "$LIBDIR/libliandong.a" $(pkg-config --libs libzmq libsodium libprotobuf-c) \
    -o hello-static
grep -q 'NEEDED.*libliandong\.so' <<<"$(readelf -d hello-shared)" || fail "hello-shared does not use libliandong.so"
grep -q 'NEEDED.*libliandong' <<<"$(readelf -d hello-static)" && fail "hello-static needs libliandong.so"
# Every installed header compiles on its own, in C11 and in C++.
for h in "$P"/include/liandong/*.h; do
    printf '#include <liandong/%s>\nint main(void) { return 0; }\n' "${h##*/}" >h.c
    # shellcheck disable=SC2086
    must "${h##*/} on its own in C11" cc -std=c11 -Wall -Wextra -Wpedantic -Werror -c h.c \
        $CFLAGS_LD -o h.o
    if command -v c++ >/dev/null; then
        cp h.c h.cc
        # shellcheck disable=SC2086
        must "${h##*/} on its own in C++" c++ -Wall -Wextra -Werror -c h.cc $CFLAGS_LD -o h.o
    fi
done
# With CMake, through pkg-config (examples/sdk/CMakeLists.txt).
must "cmake configure of examples/sdk" "$CMAKE" -S "$SRC/examples/sdk" -B "$WORK/app/cm" \
    -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_FLAGS="${SAN_FLAGS[*]}"
must "cmake build of examples/sdk" "$CMAKE" --build "$WORK/app/cm"
HELLO_CMAKE=$WORK/app/cm/hello
[ -x "$HELLO_CMAKE" ] || fail "the CMake build made no hello"
cd "$WORK"

export LD_LIBRARY_PATH="$LIBDIR"
grep -qF "$LIBDIR/libliandong.so" <<<"$(ldd app/hello-shared)" || fail "hello-shared does not load $LIBDIR/libliandong.so"

# Without arguments: the usage, exit 2. A missing identity: one line, exit 1.
for h in app/hello-shared app/hello-static "$HELLO_CMAKE"; do
    run "$h"
    [ "$rc" -eq 2 ] && grep -q '^usage: .*ENDPOINT IDENTITY.secret' err.txt || fail "$h without arguments"
    run "$h" tcp://127.0.0.1:1 missing.secret missing.pub mdj.fgw x
    [ "$rc" -eq 1 ] && [ "$(wc -l <err.txt)" -eq 1 ] && grep -q '^hello: .*missing' err.txt ||
        fail "$h with a missing identity must fail with one line naming the file"
done

# ---- for real, against the installed broker -----------------------------------------
KEYS=$P/bin/liandong-keys
BROKER=$P/bin/liandong-broker
broker_key
add_principal mdj.gxj '市工信局' department
add_principal mdj.fgw '市发改委' department
start_broker broker '' --data-dir var "${BROKER_KEYS[@]}"
EP=$BROKER_EP

# hello sends one message and prints what arrives in the next 3 seconds.
run app/hello-shared "$EP" keys/mdj.gxj.secret keys/broker.pub mdj.fgw '请于周五前报送进展'
[ "$rc" -eq 0 ] || fail "hello-shared exited $rc"
grep -qx 'connected as mdj.gxj (市工信局), 0 waiting' out.txt || fail "hello-shared: connect line"
grep -qx 'stored as seq 1' out.txt || fail "hello-shared: the message must be stored as seq 1"

run app/hello-static "$EP" keys/mdj.fgw.secret keys/broker.pub mdj.gxj '收到'
[ "$rc" -eq 0 ] || fail "hello-static exited $rc"
grep -qx 'connected as mdj.fgw (市发改委), 1 waiting' out.txt || fail "hello-static: connect line"
grep -qx 'stored as seq 1' out.txt || fail "hello-static: the message must be stored as seq 1"
grep -qx 'direct from mdj.gxj (市工信局): 请于周五前报送进展' out.txt ||
    fail "hello-static must print the message from hello-shared"

run "$HELLO_CMAKE" "$EP" keys/mdj.gxj.secret keys/broker.pub mdj.fgw '第二条'
[ "$rc" -eq 0 ] || fail "hello (CMake) exited $rc"
grep -qx 'connected as mdj.gxj (市工信局), 1 waiting' out.txt || fail "hello (CMake): connect line"
grep -qx 'stored as seq 2' out.txt || fail "hello (CMake): the message must be stored as seq 2"
grep -qx 'direct from mdj.fgw (市发改委): 收到' out.txt || fail "hello (CMake) must print the answer"

# The installed CLI reads what is left.
run "$P/bin/liandong" --broker "$EP" --broker-key keys/broker.pub --identity keys/mdj.fgw.secret \
    inbox --json --timeout 1
[ "$rc" -eq 0 ] || fail "installed liandong inbox exited $rc"
python3 - out.txt <<'PY' || fail "the Python check failed (see above)"
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [(d["sender"], d["seq"], d["text"]) for d in ds] == [("mdj.gxj", 2, "第二条")], ds
PY

stop_broker BROKER_PID

# ---- a plugin built out of tree against the installed headers (examples/plugins/cc) --
must "cmake configure of examples/plugins/cc" "$CMAKE" -S "$SRC/examples/plugins/cc" \
    -B "$WORK/cc" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_FLAGS="${SAN_FLAGS[*]}"
must "cmake build of examples/plugins/cc" "$CMAKE" --build "$WORK/cc"
[ -f "$WORK/cc/cc.so" ] || fail "the out-of-tree build made no cc.so"
add_principal mdj.zf.bgs '牡丹江市人民政府办公室' coordinator
# plugin_config CC_ID: a broker.yaml whose cc plugin copies mail for mdj.fgw to
# CC_ID, and no broker.log yet: the checks below read the next broker's log.
plugin_config() {
    printf 'plugins:\n  - name: cc\n    path: %s\n    config:\n      rules:\n        - {to: mdj.fgw, cc: [%s]}\n' \
        "$WORK/cc/cc.so" "$1" >broker.yaml
    rm -f broker.log
}
# A rule naming a principal that does not exist stops the broker with one line.
plugin_config mdj.nobody
spawn_broker broker "$EP" --config broker.yaml --data-dir var "${BROKER_KEYS[@]}"
st=0
wait "$BROKER_PID" || st=$?
BROKER_PID=''
[ "$st" -eq 1 ] || fail "a broker whose plugin's init fails must exit 1, not $st"
grep -q "plugin cc: .*cc.so: init failed: config: 'cc: mdj.nobody' names no principal" broker.log ||
    fail "the broker must say which plugin failed and why"
[ ! -e broker.ready ] || fail "the broker must not serve when a plugin fails"

plugin_config mdj.zf.bgs
start_broker broker "$EP" --config broker.yaml --data-dir var "${BROKER_KEYS[@]}"
grep -q 'plugin cc 1.0 loaded' broker.log || fail "the broker must log the loaded plugin"
LD=("$P/bin/liandong" --broker "$EP" --broker-key keys/broker.pub)
must "send to mdj.fgw" "${LD[@]}" --identity keys/mdj.gxj.secret send --to mdj.fgw --text '抄送测试'
run "${LD[@]}" --identity keys/mdj.zf.bgs.secret inbox --json --timeout 1
[ "$rc" -eq 0 ] || fail "inbox of the copy's recipient exited $rc"
python3 - out.txt <<'PY' || fail "the copy did not arrive (see above)"
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [(d["sender"], d["text"], d["to"]) for d in ds] == [("mdj.gxj", "抄送测试", ["mdj.fgw"])], ds
PY
stop_broker BROKER_PID
echo "cli.install: all checks passed"
