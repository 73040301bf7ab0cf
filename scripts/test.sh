#!/usr/bin/env bash
# `make test` after the build: the test steps one after the other, with the
# static analysis (scripts/lint.sh) and the sanitizer and fuzz builds
# running beside them at idle priority.
#
# Why beside: clang-tidy and the two clang builds are minutes of pure CPU,
# while the integration suites mostly wait on sockets; run in turn they
# added up to more than the 20 minutes `make test` may take on two cores.
# SCHED_IDLE (chrt --idle) gives them only the CPU time the tests leave
# unused, so they cannot slow a test that measures the server. The
# sanitizer step waits for its build (whatever is left then gets the CPU);
# lint's findings are printed and fail the run at the end, exactly as
# `make lint` would have.
#
# Never leaves a job running: each has its own process group, killed on
# exit.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

# SCHED_IDLE where the system allows it, else the lowest nice level.
idle=(chrt --idle 0)
"${idle[@]}" true 2>/dev/null || idle=(nice -n 19)

log=$(mktemp)
blog=$(mktemp)
setsid "${idle[@]}" scripts/lint.sh >"$log" 2>&1 &
lint=$!
setsid "${idle[@]}" sh -c '"$0" sanitize-build && "$0" fuzz-build' "$MAKE" >"$blog" 2>&1 &
builds=$!
trap 'kill -- -"$lint" -"$builds" 2>/dev/null; rm -f "$log" "$blog"' EXIT

step() {
  "$MAKE" "$1" || { echo "make test: $1 failed" >&2; exit 1; }
}
step test-unit
step test-integration
if ! wait "$builds"; then
  cat "$blog"
  echo "make test: the sanitizer or fuzz build failed" >&2
  exit 1
fi
step test-sanitize
step fuzz-smoke

wait "$lint"
rc=$?
cat "$log"
[ "$rc" = 0 ] || echo "make test: lint failed" >&2
exit "$rc"
