#!/usr/bin/env bash
# `make fuzz`: fuzz one kernel preset from corpus/seeds/ for a bounded time with
# libFuzzer (fork mode: it keeps going after a crash), then triage what it
# found: one entry per signature, known ones set apart, new ones minimized,
# each with the command that replays it.
#
#   FUZZ_SECONDS=60 FUZZ_KERNEL=v2.6.20 FUZZ_JOBS=<cores> FUZZ_OUT=out/fuzz make fuzz
#
# FUZZ_IGNORE_KNOWN=1 adds the signatures corpus/regressions/ expects on the
# preset to FAULTLINE_IGNORE: long campaigns then spend no time on the
# kernel's known bugs.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
SECONDS_BUDGET=${FUZZ_SECONDS:-60}
KERNEL=${FUZZ_KERNEL:-v2.6.20}
JOBS=${FUZZ_JOBS:-$(nproc)}
OUT=${FUZZ_OUT:-out/fuzz/$KERNEL}
FAULTLINE=$BUILD/bin/faultline

if [ "${FUZZ_IGNORE_KNOWN:-0}" = 1 ]; then
  known=$(sed -n "s/^# expect: $KERNEL [A-Za-z]* \([^ ]*\)\$/\1/p" corpus/regressions/*.txtpb | sort -u | paste -sd, -)
  export FAULTLINE_IGNORE=${FAULTLINE_IGNORE:+$FAULTLINE_IGNORE,}$known
  echo "== ignoring the known signatures on $KERNEL: $known"
fi

mkdir -p "$OUT/corpus" "$OUT/crashes"
"$FAULTLINE" corpus convert corpus/seeds "$OUT/seeds" --to binary > /dev/null

echo "== fuzzing $KERNEL for ${SECONDS_BUDGET}s with $JOBS jobs (corpus: $OUT/corpus, log: $OUT/libfuzzer.log)"
FAULTLINE_KERNEL=$KERNEL "$BUILD/bin/fuzz_schedule" -fork="$JOBS" -ignore_crashes=1 -dict="$BUILD/fuzz_schedule.dict" \
  -max_total_time="$SECONDS_BUDGET" -artifact_prefix="$OUT/crashes/" \
  "$OUT/corpus" "$OUT/seeds" > "$OUT/libfuzzer.log" 2>&1 &
fuzzer=$!
trap 'kill $fuzzer 2>/dev/null' INT TERM
# On a terminal, one progress line (executions, rate, crash inputs and their
# distinct signatures so far, time left); in a pipe or a log, nothing.
started=$SECONDS
declare -A replayed=() signatures=()
while kill -0 $fuzzer 2>/dev/null; do
  sleep 1
  [ -t 1 ] || continue
  status=$( (grep -aE '^#[0-9]+' "$OUT/libfuzzer.log" || true) | tail -n 1)
  execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<< "$status")
  rate=$(sed -n 's/.*exec\/s:* \([0-9]*\).*/\1/p' <<< "$status")
  crashes=0
  for f in "$OUT"/crashes/crash-*; do
    [ -e "$f" ] || continue
    crashes=$((crashes + 1))
    [ -n "${replayed[$f]:-}" ] && continue
    replayed[$f]=1
    sig=$( ("$FAULTLINE" replay --kernel "$KERNEL" --json "$f" 2>/dev/null || true) |
      sed -n 's/.*"signature":"\([^"]*\)".*/\1/p')
    [ -n "$sig" ] && signatures[$sig]=1
  done
  left=$((SECONDS_BUDGET - (SECONDS - started)))
  printf '\r  %s executions  %s exec/s  %s crash inputs, %s distinct  %s s left\033[K' \
    "${execs:-0}" "${rate:-0}" "$crashes" "${#signatures[@]}" "$((left > 0 ? left : 0))"
done
[ -t 1 ] && echo
wait $fuzzer || true
trap - INT TERM
grep -E "^#[0-9]+: cov:|INFO: fuzzed for|exec/s" "$OUT/libfuzzer.log" | tail -n 2 || true

crashes=$(find "$OUT/crashes" -type f -name 'crash-*' | wc -l)
echo "== $crashes crash inputs; triage (new findings are minimized into $OUT/findings)"
if [ "$crashes" -gt 0 ]; then
  "$FAULTLINE" triage "$OUT/crashes" --kernel "$KERNEL" --out "$OUT/findings" || true
fi
