#!/usr/bin/env bash
# fuzz/run.sh BUILD SECONDS [--smoke] [NAME...]
# Runs each libFuzzer harness BUILD/fuzz/fuzz_NAME for SECONDS on its corpus
# (new entries go to BUILD/corpus/NAME; fuzz/corpus/NAME is only read), with
# fuzz/NAME.dict when present; --smoke also replays fuzz/regressions/NAME/*.
# Fails on any crash, leak, timeout or out-of-memory; prints execs and
# coverage per harness.
set -u
build=$1 secs=$2
shift 2
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; names+=("${n%.c}"); done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# FUZZ_JOBS harnesses at a time (default 1); each prints its line into
# BUILD/logs/NAME.status, read back in order at the end.
jobs=${FUZZ_JOBS:-1}

run_one() {
  local n=$1
  bin=$build/fuzz/fuzz_$n
  corpus=$build/corpus/$n
  art=$build/artifacts/$n/
  log=$build/logs/$n.log
  mkdir -p "$corpus" "$art" "$build/logs" "fuzz/corpus/$n"
  if [ $smoke = 1 ] && [ -d "fuzz/regressions/$n" ] && [ -n "$(ls -A "fuzz/regressions/$n" 2>/dev/null)" ]; then
    if ! "$bin" -timeout=10 -rss_limit_mb=2048 "fuzz/regressions/$n"/* >"$log.regress" 2>&1; then
      echo "FAIL $n: a regression input fails again (see $log.regress)"
      return 1
    fi
  fi
  dict=()
  [ -f "fuzz/$n.dict" ] && dict=(-dict="fuzz/$n.dict")
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art" "${dict[@]}" "$corpus" "fuzz/corpus/$n" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED).*cov:' "$log" | tail -1)
  cov=$(echo "$line" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
  ft=$(echo "$line" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
  corp=$(echo "$line" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*')
  s=$(printf '%-8s execs=%-10s cov=%-6s ft=%-6s corpus=%s' "$n" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
  if [ $rc -ne 0 ]; then
    echo "FAIL $s (exit $rc; log $log, crashing input in $art)"
    grep -E 'ERROR: |SUMMARY: |runtime error' "$log" | head -5
    return 1
  fi
  echo "ok   $s"
}

mkdir -p "$build/logs"
running=0
for n in "${names[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  { run_one "$n" >"$build/logs/$n.status" 2>&1; echo "rc=$?" >>"$build/logs/$n.status"; } &
  running=$((running + 1))
done
wait
failed=()
for n in "${names[@]}"; do
  grep -v '^rc=' "$build/logs/$n.status"
  grep -qx 'rc=0' "$build/logs/$n.status" || failed+=("$n")
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#names[@]} harnesses passed"
