#!/usr/bin/env bash
# Format the C sources with the house .clang-format, or check them (--check:
# exit 1 and list the files that differ).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format: clang-format is not installed" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    clang-format "$f" | cmp -s - "$f" || { echo "format: $f differs from .clang-format" >&2; bad=1; }
  done
  [ $bad -eq 0 ] || { echo "format: run scripts/format.sh to fix" >&2; exit 1; }
else
  clang-format -i "${files[@]}"
fi
