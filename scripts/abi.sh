#!/usr/bin/env bash
# Guard libliandong's ABI: compare the built library with the committed
# baseline sdk/abi/libliandong.so.<SOVERSION>.abi (libabigail).
#
#   scripts/abi.sh check  [BUILD]   fail if a program built against the
#                                   baseline's headers could misbehave with
#                                   BUILD/lib/libliandong.so (default: build)
#   scripts/abi.sh update [BUILD]   write the baseline from BUILD
#
# New functions are compatible and pass. A changed public struct, enum or
# signature (e.g. a member added to ld_client_options, or a field added to
# a message of the wire schema, whose protobuf-c structs libliandong
# exports) fails: revert it, or bump SOVERSION in sdk/CMakeLists.txt and run
# `scripts/abi.sh update`.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/abi.sh check|update [BUILD-DIR]" >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
mode=$1
build=${2:-build}
case $mode in check | update) ;; *) usage ;; esac

for tool in abidw abidiff; do
  command -v $tool >/dev/null ||
    { echo "abi: $tool is not installed (Debian: apt-get install abigail-tools)" >&2; exit 2; }
done
lib=$(readlink -f "$build/lib/libliandong.so" 2>/dev/null || true)
[ -n "$lib" ] && [ -f "$lib" ] ||
  { echo "abi: $build/lib/libliandong.so not found: build first (cmake --build $build)" >&2; exit 2; }
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[ -n "$soname" ] || { echo "abi: $lib has no SONAME" >&2; exit 2; }
baseline=sdk/abi/$soname.abi
# Only types declared in the installed headers are public: liandong.h and
# the generated protobuf-c header of the wire schema.
headers=(--hd sdk/include --hd "$build/proto/gen")

if [ "$mode" = update ]; then
  mkdir -p sdk/abi
  abidw "${headers[@]}" --drop-private-types --no-corpus-path --no-comp-dir-path \
    --short-locs --out-file "$baseline" "$lib"
  echo "abi: wrote $baseline from $lib"
  exit 0
fi

if [ ! -f "$baseline" ]; then
  echo "abi: no baseline for $soname ($baseline): after bumping SOVERSION," \
    "run scripts/abi.sh update and commit the file" >&2
  exit 1
fi
set +e
abidiff --no-added-syms --hd2 sdk/include --hd2 "$build/proto/gen" --drop-private-types \
  "$baseline" "$lib"
rc=$?
set -e
# abidiff's exit status is a bit mask: 1 error, 2 usage, 4 ABI change,
# 8 incompatible change.
if [ $((rc & 3)) -ne 0 ]; then
  echo "abi: abidiff failed (status $rc)" >&2
  exit 2
fi
if [ $rc -ne 0 ]; then
  echo "abi: $soname no longer matches $baseline (above): a program built against" \
    "the old headers would read or write the wrong memory. Keep public structs," \
    "enums and signatures as they are (adding functions is fine), or bump" \
    "SOVERSION in sdk/CMakeLists.txt and run scripts/abi.sh update." >&2
  exit 1
fi
echo "abi: $soname matches $baseline"
