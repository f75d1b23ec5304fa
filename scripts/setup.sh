#!/usr/bin/env bash
# Install what Liandong needs to build and test on Debian 12. Idempotent:
# installs only the packages that are missing. Runs apt-get as root (or via
# sudo when not root).
#   --peers  also Mosquitto and NATS (servers and client libraries) for the
#            peer part of liandong-bench (scripts/run.sh then builds it)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libsodium-dev liblmdb-dev
  libyaml-dev libjansson-dev libcmocka-dev
  python3 python3-yaml abigail-tools
)
if [ "${1:-}" = "--peers" ]; then
  packages+=(mosquitto libmosquitto-dev nats-server libnats-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
