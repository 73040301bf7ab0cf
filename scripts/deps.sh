#!/usr/bin/env bash
# Installs the Debian packages Cachet's build, tests and benchmarks need.
# Does nothing when they are all present, so `make run` and `make test` can
# call it every time. Needs root (or sudo) only when something is missing.
set -euo pipefail

PKGS=(
  build-essential pkg-config
  libjemalloc-dev libssl-dev openssl
  python3 python3-pytest python3-pytest-xdist python3-redis python3-cryptography   # xdist: make test's workers; cryptography: odd client certificates
  redis-server redis-tools   # reference server and real clients for tests/bench; never a runtime dependency
  clang libclang-rt-14-dev   # sanitizer and fuzz builds
  cppcheck clang-tidy        # make lint (static analysis; part of make test)
  procps iproute2
  liblua5.1-0-dev lua-cjson-dev lua-bitop-dev   # EVAL: Lua 5.1 (+ cjson, bit) linked into the server
  libmicrohttpd-dev libsqlite3-dev   # cachetd: its HTTP server and embedded state store
  awscli python3-boto3 curl          # cachetd tests and make run-cachetd: boto3, the newer ElastiCache model awscli ships
  nodejs npm                         # tests/node: node-redis and the JavaScript AWS SDK (npm ci from its lock file, make node-deps)
)

# A package counts as present when it is installed or provided by an
# installed package (NodeSource's nodejs provides and conflicts with npm).
provided=$(dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null | grep "^install ok installed" | cut -f2 |
           tr ',' '\n' | sed 's/ *(.*//; s/^ *//; s/:.*//')
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" &&
     ! grep -qx -- "$p" <<<"$provided"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The redis-server package may try to start a service; tests never use it.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
