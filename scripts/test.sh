#!/usr/bin/env bash
# `make test` after the build: the test steps one after the other, with the
# static analysis (scripts/lint.sh) running beside them at idle priority.
#
# Why beside: clang-tidy is minutes of pure CPU, while the integration
# suites mostly wait on sockets; run in turn they added up to more than the
# 20 minutes `make test` may take on two cores. SCHED_IDLE (chrt --idle)
# gives lint only the CPU time the tests leave unused, so it cannot slow a
# test that measures the server. Its findings are printed and fail the run
# at the end, exactly as `make lint` would have.
#
# Never leaves lint running: it has its own process group, killed on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

# SCHED_IDLE where the system allows it, else the lowest nice level.
idle=(chrt --idle 0)
"${idle[@]}" true 2>/dev/null || idle=(nice -n 19)

log=$(mktemp)
setsid "${idle[@]}" scripts/lint.sh >"$log" 2>&1 &
lint=$!
trap 'kill -- -"$lint" 2>/dev/null; rm -f "$log"' EXIT

for step in test-unit test-integration test-sanitize fuzz-smoke; do
  "$MAKE" "$step" || { echo "make test: $step failed" >&2; exit 1; }
done

wait "$lint"
rc=$?
cat "$log"
[ "$rc" = 0 ] || echo "make test: lint failed" >&2
exit "$rc"
