#!/usr/bin/env bash
# `make lint`: cppcheck and clang-tidy over the C sources, with the checked-in
# configuration (.clang-tidy, scripts/cppcheck-suppressions.txt). Fails on any
# finding. Read-only: writes nothing but temporary logs (removed on exit).
#
#   scripts/lint.sh               cppcheck: src/, tests/unit/, fuzz/; clang-tidy: src/
#   LINT_JOBS=4 scripts/lint.sh   more parallel processes (default 2)
#
# Both tools see the flags the Makefile compiles with (-std=c11
# -D_GNU_SOURCE, -Isrc/lib -Isrc/server, and -Isrc/cachetd for the control
# plane: its headers' names do not collide with the data node's). cppcheck checks every preprocessor configuration (so
# both the jemalloc and the libc malloc branches); clang-tidy checks the
# default (jemalloc) build. clang-tidy covers the server sources only: it is
# the slow half (about 2 CPU-minutes for src/), and test and fuzz code uses
# seeded rand() and raw byte buffers on purpose, which its CERT/bugprone
# checks would flag. See docs/hardening.md, "Static analysis".
set -uo pipefail
cd "$(dirname "$0")/.."
# Lua's headers (EVAL): the include path the Makefile compiles with, for
# clang-tidy (cppcheck, as said below, reads no system headers).
LUA_INC=$(pkg-config --cflags lua5.1 2>/dev/null || echo -I/usr/include/lua5.1)

JOBS=${LINT_JOBS:-2}
TIDY=${CLANG_TIDY:-}
if [ -z "$TIDY" ]; then
  for t in clang-tidy-14 clang-tidy; do
    if command -v "$t" >/dev/null 2>&1; then TIDY=$t; break; fi
  done
fi
if ! command -v cppcheck >/dev/null 2>&1 || [ -z "$TIDY" ]; then
  echo "lint: cppcheck and clang-tidy are needed (scripts/deps.sh installs them)" >&2
  exit 2
fi

CPP_FILES=(src/lib/*.c src/server/*.c src/cachetd/*.c tests/unit/*.c fuzz/*.c)
# Biggest first, so the slow files do not start last and leave a core idle.
mapfile -t TIDY_FILES < <(ls -S src/lib/*.c src/server/*.c src/cachetd/*.c)
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
status=0
start=$(date +%s)

# ---- cppcheck -------------------------------------------------------------
# warning/performance/portability (style is mostly cppcheck not knowing what
# memcpy/strchr do to a buffer). --library=posix,openssl teaches it about fd
# and OpenSSL resource pairs. No system include paths: cppcheck's own library
# files describe libc, and parsing glibc's headers only adds noise and time.
if ! cppcheck -q --std=c11 -Isrc/lib -Isrc/server -Isrc/cachetd -Itests/unit -Ifuzz --library=posix,openssl \
    --enable=warning,performance,portability --inline-suppr \
    --suppressions-list=scripts/cppcheck-suppressions.txt \
    --error-exitcode=1 -j"$JOBS" \
    --template='{file}:{line}: cppcheck {severity}: {message} [{id}]' \
    "${CPP_FILES[@]}" 2>"$log/cppcheck"; then
  status=1
fi
if [ -s "$log/cppcheck" ]; then
  cat "$log/cppcheck"
  status=1
fi
mid=$(date +%s)

# ---- clang-tidy -----------------------------------------------------------
# One process per file, JOBS at a time; .clang-tidy has WarningsAsErrors '*'.
# Each file's output goes to its own log so parallel runs do not interleave.
tidy_one() {
  local f=$1 out
  out="$log/tidy.$(echo "$f" | tr '/' '_')"
  if ! "$TIDY" -quiet "$f" -- -std=c11 -D_GNU_SOURCE -Isrc/lib -Isrc/server -Isrc/cachetd $LUA_INC >"$out" 2>&1; then
    echo "$f" >>"$out.failed"
  fi
}
export -f tidy_one
export TIDY log LUA_INC
printf '%s\n' "${TIDY_FILES[@]}" | xargs -P"$JOBS" -I{} bash -c 'tidy_one "$@"' _ {}
for f in "$log"/tidy.*; do
  case $f in *.failed) continue ;; esac
  if [ -e "$f.failed" ] || grep -q -e 'warning:' -e 'error:' "$f"; then
    grep -v -e '^[0-9]* warnings\? \(and [0-9]* errors\? \)\?generated\.$' -e '^Suppressed [0-9]* warnings' \
      -e '^Use -header-filter' "$f"
    status=1
  fi
done
end=$(date +%s)

echo "lint: cppcheck $((mid - start))s (${#CPP_FILES[@]} files), clang-tidy $((end - mid))s (${#TIDY_FILES[@]} files): $([ $status = 0 ] && echo clean || echo FINDINGS)"
exit $status
