#!/usr/bin/env bash
# Black-box test of liandong-keys: generates keys, edits and lists a roster,
# and checks exit codes, messages and file modes.
# Usage: test_keys_cli.sh PATH/TO/liandong-keys
set -euo pipefail

TOOL=$(realpath "${1:?usage: test_keys_cli.sh PATH/TO/liandong-keys}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "${BASH_SOURCE[0]}")")/lib.sh"
start_work ldk-cli

GXJ='牡丹江市工业和信息化局'
DCS='市政府督查室'

expect() { # expect CODE CMD...
    local want=$1
    shift
    run "$TOOL" "$@"
    [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want"
    if [ "$want" -ne 0 ]; then
        [ "$(wc -l <err.txt)" -eq 1 ] || fail "'$*' must print exactly one line on stderr"
        grep -q '^liandong-keys: ' err.txt || fail "'$*': stderr must start with 'liandong-keys: '"
    fi
}

# ---- gen and broker ---------------------------------------------------------
expect 0 gen --id mdj.gxj --name "$GXJ" --role department --out keys
grep -q 'keys/mdj.gxj.secret' out.txt || fail "gen must print the secret file path"
grep -Eq 'key_id: +[0-9a-f]{16}$' out.txt || fail "gen must print the key_id"
expect 0 gen --id mdj.dcs --name "$DCS" --role supervision,coordinator --out keys
expect 0 broker --out keys

for f in keys/mdj.gxj.secret keys/mdj.dcs.secret keys/broker.secret; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f must have mode 600"
done
for f in keys/mdj.gxj.pub keys/mdj.dcs.pub keys/broker.pub; do
    [ "$(stat -c %a "$f")" = 644 ] || fail "$f must have mode 644"
done
[ "$(stat -c %a keys)" = 700 ] || fail "gen must create the key directory with mode 700"

grep -q '^sign_secret = ' keys/mdj.gxj.secret || fail "secret file lacks sign_secret"
grep -Eq '^(sign|curve)_secret' keys/mdj.gxj.pub && fail "pub file holds secret fields"
grep -qx "name = $GXJ" keys/mdj.gxj.pub || fail "Chinese name not stored as is"
grep -qx 'roles =' keys/broker.pub || fail "broker must have an empty roles line"
grep -qx 'id = broker' keys/broker.pub || fail "broker id must default to broker"

# show never prints secrets.
expect 0 show keys/mdj.gxj.secret
SECRET=$(sed -n 's/^sign_secret = //p' keys/mdj.gxj.secret)
CSECRET=$(sed -n 's/^curve_secret = //p' keys/mdj.gxj.secret)
grep -qF -e "$SECRET" out.txt && fail "show printed sign_secret"
grep -qF -e "$CSECRET" out.txt && fail "show printed curve_secret"
grep -q "$GXJ" out.txt || fail "show must print the name"

# Refusals: existing files, invalid id, unknown role.
expect 1 gen --id mdj.gxj --name "$GXJ" --role department --out keys
grep -q 'already exists' err.txt || fail "gen over an existing key must say it exists"
[ "$(sed -n 's/^sign_secret = //p' keys/mdj.gxj.secret)" = "$SECRET" ] || fail "key overwritten"
expect 2 gen --id 'Mdj.Bad' --name x --role department --out keys
grep -q "invalid --id 'Mdj.Bad'" err.txt || fail "gen must name the invalid id"
[ ! -e keys/Mdj.Bad.secret ] || fail "gen wrote a file for an invalid id"
expect 2 gen --id '../escape' --name x --role department --out keys
[ ! -e escape.secret ] || fail "gen wrote a file for an invalid id"
expect 2 gen --id ok --name x --role boss --out keys
grep -q 'unknown role "boss"' err.txt || fail "gen must name the unknown role"

# A secret file others can read is refused, with the fix in the message.
chmod 644 keys/mdj.dcs.secret
expect 1 show keys/mdj.dcs.secret
grep -q 'chmod 600' err.txt || fail "mode error must say chmod 600"
chmod 600 keys/mdj.dcs.secret

# ---- roster -------------------------------------------------------------------
expect 0 roster add --roster roster.conf --pub keys/mdj.gxj.pub
expect 0 roster add --roster roster.conf --pub keys/mdj.dcs.pub
expect 1 roster add --roster roster.conf --pub keys/mdj.gxj.pub
grep -q 'already' err.txt || fail "duplicate add must say already"
expect 1 roster add --roster roster.conf --pub keys/mdj.gxj.secret
grep -q 'secret key file' err.txt || fail "roster add must refuse a secret file"
expect 1 roster add --roster roster.conf --pub keys/missing.pub
grep -q 'missing.pub' err.txt || fail "missing --pub file must be named"

expect 0 roster list --roster roster.conf
grep -q "$GXJ" out.txt || fail "list lost the Chinese name"
grep -q "$DCS" out.txt || fail "list lost the Chinese name"
# Columns line up on screen: key_id starts at the same display column in
# every row (CJK characters are two columns wide).
python3 - out.txt <<'PY'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines[0].split()[:6] == ["id", "name", "roles", "key_id", "status", "added"], lines[0]
col = width(lines[0][:lines[0].index("key_id")])
assert len(lines) == 3, lines
for l in lines[1:]:
    import re
    m = re.search(r"[0-9a-f]{16}", l)
    assert m and width(l[:m.start()]) == col, (l, col)
PY

expect 0 roster list --roster roster.conf --json
python3 - out.txt "$GXJ" "$DCS" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
raw = open(sys.argv[1], encoding="utf-8").read()
assert sys.argv[2] in raw, "UTF-8 must not be escaped"
r = {e["id"]: e for e in doc["roster"]}
assert set(r) == {"mdj.gxj", "mdj.dcs"}, r
g = r["mdj.gxj"]
assert g["name"] == sys.argv[2] and r["mdj.dcs"]["name"] == sys.argv[3]
assert g["roles"] == ["department"]
assert r["mdj.dcs"]["roles"] == ["coordinator", "supervision"]
assert len(g["key_id"]) == 16 and g["status"] == "active" and g["revoked_at"] is None
assert g["added_at"].endswith("Z") and len(g["added_at"]) == 20
assert len(g["sign_public"]) == 44 and len(g["curve_public"]) == 40
assert set(g) == {"id", "name", "roles", "key_id", "status", "added_at", "revoked_at",
                  "sign_public", "curve_public"}, g.keys()
PY
KEY_ID=$(sed -n 's/^key_id = //p' keys/mdj.dcs.pub)
grep -qF -e "$KEY_ID" roster.conf || fail "roster lacks the key_id"

expect 0 roster revoke --roster roster.conf --id mdj.dcs
expect 1 roster revoke --roster roster.conf --id mdj.dcs
expect 0 roster list --roster roster.conf --json
python3 - out.txt <<'PY'
import json, sys
r = {e["id"]: e for e in json.load(open(sys.argv[1], encoding="utf-8"))["roster"]}
assert r["mdj.dcs"]["status"] == "revoked" and r["mdj.dcs"]["revoked_at"], r["mdj.dcs"]
assert r["mdj.gxj"]["status"] == "active"
PY
[ "$(stat -c %a roster.conf)" = 644 ] || fail "roster must have mode 644"
ls | grep -q tmp && fail "a temporary roster file was left behind"

# Rotation: a new key for mdj.dcs after the revoke.
mkdir keys2
expect 0 gen --id mdj.dcs --name "$DCS" --role supervision --out keys2
expect 0 roster add --roster roster.conf --pub keys2/mdj.dcs.pub
expect 0 roster list --roster roster.conf
[ "$(grep -c '^mdj.dcs ' out.txt)" -eq 2 ] || fail "rotation must keep the revoked key listed"

# ---- usage errors and help ------------------------------------------------------
expect 2 roster add --roster roster.conf
expect 2 gen --id x --bogus
expect 2 roster list
expect 2 roster frob
expect 2 frob
expect 2
for cmd in "gen" "broker" "show" "roster" "roster add" "roster revoke" "roster list"; do
    # shellcheck disable=SC2086
    expect 0 $cmd --help
    grep -q '^Usage: liandong-keys' out.txt || fail "'$cmd --help' must print usage"
done
expect 0 --help

echo "cli.keys: all checks passed"
