#!/usr/bin/env bash
# Fuzzing measurements for the README (run on an otherwise idle machine):
#   1. time-to-bug: libFuzzer and AFL++ from a seed corpus (corpus/seeds/ by
#      default) until a target signature, one run per seed, with each
#      interleaving-coverage setting; medians over the runs (a run that finds
#      nothing counts as longer than any that does).
#   2. throughput on v2.6.26 (THROUGHPUT_KERNELS: each in turn), one core
#      each, from corpus/seeds/.
#
#   bench/fuzz_bench.sh [runs=5] [timeout_seconds=300] [throughput_seconds=60]
#
# Settings (environment):
#   TARGET_KERNEL=v2.6.20  TARGET=dangling-mapping:invalidate_complete_page2
#   SEEDS=corpus/seeds     a directory of schedules to start from
#   ENGINES="libfuzzer afl"
#   COVERAGE="1 0"         FAULTLINE_INTERLEAVING_COVERAGE values to compare
#   MAX_RUNS=N             libFuzzer: also stop after N executions
#   THROUGHPUT_KERNELS=v2.6.26  e.g. "v2.6.26 v7.0": side by side in one call
#                          (AFL++ too when ENGINES has afl)
#   JOBS=1                 runs at a time (executions are exact either way; seconds
#                          are honest only with JOBS=1 on an idle machine)
# e.g. the deep tmpfs race of v2.6.26, every kind, conflicts only, none:
#   TARGET_KERNEL=v2.6.26 TARGET=mapped-beyond-eof:private-copy COVERAGE="1 conflict 0" \
#     ENGINES=libfuzzer MAX_RUNS=3000000 JOBS=2 bench/fuzz_bench.sh 6 600 0
# Needs build/bin/fuzz_schedule, build/bin/fuzz_schedule_afl (make builds it),
# build/lib/libfaultline_afl_mutator.so and build/fuzz_schedule.dict.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
TIMEOUT=${2:-300}
THROUGHPUT_SECONDS=${3:-60}
TARGET_KERNEL=${TARGET_KERNEL:-v2.6.20}
TARGET=${TARGET:-dangling-mapping:invalidate_complete_page2}
SEEDS=${SEEDS:-corpus/seeds}
ENGINES=${ENGINES:-libfuzzer afl}
COVERAGE=${COVERAGE:-1 0}
MAX_RUNS=${MAX_RUNS:-0}
JOBS=${JOBS:-1}
THROUGHPUT_KERNELS=${THROUGHPUT_KERNELS:-v2.6.26}
BIN=${BIN:-build/bin}  # another build: e.g. a copy that a rebuild leaves alone
DICT=${DICT:-$PWD/build/fuzz_schedule.dict}
MUTATOR=$PWD/build/lib/libfaultline_afl_mutator.so
WORK=$(mktemp -d /tmp/faultline-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$BIN/faultline" corpus convert "$SEEDS" "$WORK/seeds" --to binary > /dev/null
"$BIN/faultline" corpus convert corpus/seeds "$WORK/tp-seeds" --to binary > /dev/null

# The median of all runs, a timeout counting as longer than any time: "timeout"
# when half the runs or more found nothing.
median() {
  sed 's/^timeout/inf/' | sort -g |
    awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : a[NR / 2 + 1]; print (m == "inf" ? "timeout" : m) }'
}

# libFuzzer until the first failure with the target signature: prints
# "seconds executions" or "timeout executions". -reload=0: the periodic
# corpus reload depends on the clock; without it a seed replays exactly.
libfuzzer_ttb() {
  local seed=$1 coverage=$2 dir="$WORK/lf-$seed-$coverage"
  mkdir -p "$dir/corpus" && cp "$WORK/seeds"/* "$dir/corpus/"
  local start end
  start=$(date +%s.%N)
  FAULTLINE_KERNEL=$TARGET_KERNEL FAULTLINE_ONLY=$TARGET FAULTLINE_INTERLEAVING_COVERAGE=$coverage \
    timeout $((TIMEOUT + 30)) "$BIN/fuzz_schedule" "$dir/corpus" -seed="$seed" -max_total_time="$TIMEOUT" \
    -runs="$([ "$MAX_RUNS" -gt 0 ] && echo "$MAX_RUNS" || echo -1)" \
    -reload=0 -dict="$DICT" -artifact_prefix="$dir/" -print_final_stats=1 > "$dir/log" 2>&1 || true
  end=$(date +%s.%N)
  local execs
  execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$dir/log" | awk '{print $2}' | tail -1)
  if ls "$dir"/crash-* > /dev/null 2>&1; then
    echo "$(awk "BEGIN { print $end - $start }") ${execs:-?}"
  else
    echo "timeout ${execs:-?}"
  fi
}

# AFL++ (the custom mutator only) until the first crash: "seconds executions".
afl_ttb() {
  local seed=$1 coverage=$2 dir="$WORK/afl-$seed-$coverage"
  mkdir -p "$dir"
  AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_BENCH_UNTIL_CRASH=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_CUSTOM_MUTATOR_LIBRARY="$MUTATOR" AFL_CUSTOM_MUTATOR_ONLY=1 AFL_DISABLE_TRIM=1 FAULTLINE_DICT="$DICT" \
    FAULTLINE_KERNEL=$TARGET_KERNEL FAULTLINE_ONLY=$TARGET FAULTLINE_INTERLEAVING_COVERAGE=$coverage \
    timeout $((TIMEOUT + 30)) afl-fuzz -s "$seed" -V "$TIMEOUT" -i "$WORK/seeds" -o "$dir/out" \
    -- "$BIN/fuzz_schedule_afl" > "$dir/log" 2>&1 || true
  local stats="$dir/out/default/fuzzer_stats"
  local crashes secs execs
  if [ ! -f "$stats" ]; then
    echo "afl-fuzz did not start (seed $seed): see $dir/log" >&2
    tail -n 5 "$dir/log" >&2
    exit 1
  fi
  crashes=$(awk -F': ' '/^saved_crashes/ {print $2}' "$stats")
  secs=$(( $(awk -F': ' '/^last_update/ {print $2}' "$stats") - $(awk -F': ' '/^start_time/ {print $2}' "$stats") ))
  execs=$(awk -F': ' '/^execs_done/ {print $2}' "$stats")
  if [ "${crashes:-0}" -gt 0 ]; then echo "$secs $execs"; else echo "timeout $execs"; fi
}

# Medians over all runs, a run that found nothing counting as the longest:
# of the seconds, and of the executions.
report() {
  local name=$1 file=$2
  local found time execs
  found=$(grep -vc timeout "$file" || true)
  time=$(awk '{print $1}' "$file" | median)
  execs=$(awk '{print ($1 == "timeout" ? "timeout" : $2)}' "$file" | median)
  [ "$time" = timeout ] && time=">limit"
  [ "$execs" = timeout ] && execs=">limit"
  printf "%-48s found %s/%s  median %8s s  %12s executions\n" "$name" "$found" "$RUNS" "$time" "$execs"
}

echo "== time to $TARGET on $TARGET_KERNEL from $SEEDS ($RUNS seeds, timeout ${TIMEOUT}s)"
for engine in $ENGINES; do
  for coverage in $COVERAGE; do
    out="$WORK/$engine-$coverage.txt"
    for seed in $(seq 1 "$RUNS"); do
      if [ "$engine" = libfuzzer ]; then libfuzzer_ttb "$seed" "$coverage" > "$out.$seed" &
      else afl_ttb "$seed" "$coverage" > "$out.$seed" &
      fi
      while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    done
    wait
    for seed in $(seq 1 "$RUNS"); do cat "$out.$seed"; done > "$out"
    report "$engine, interleaving coverage $coverage" "$out"
    sed 's/^/    /' "$out"
  done
done

[ "$THROUGHPUT_SECONDS" -gt 0 ] || exit 0
# Each kernel of THROUGHPUT_KERNELS in turn, one core, from corpus/seeds/, the
# signatures corpus/regressions/ expects on it ignored (a non-fork libFuzzer
# stops at its first crash).
for kernel in $THROUGHPUT_KERNELS; do
  echo "== throughput on $kernel, one core, ${THROUGHPUT_SECONDS}s from corpus/seeds/"
  known=$(sed -n "s/^# expect: $kernel [A-Za-z]* \([^ ]*\)\$/\1/p" corpus/regressions/*.txtpb | sort -u | paste -sd, -)
  rm -rf "$WORK/tp-lf" "$WORK/tp-afl" && mkdir -p "$WORK/tp-lf"
  cp "$WORK/tp-seeds"/* "$WORK/tp-lf/"
  FAULTLINE_KERNEL=$kernel FAULTLINE_IGNORE=$known "$BIN/fuzz_schedule" "$WORK/tp-lf" \
    -max_total_time="$THROUGHPUT_SECONDS" -print_final_stats=1 -reload=0 -dict="$DICT" \
    -artifact_prefix="$WORK/tp-lf-" > "$WORK/tp-lf.log" 2>&1 || true
  printf "libFuzzer %s: %s exec/s, %s executions (%s violations)\n" "$kernel" \
    "$(grep -oE 'average_exec_per_sec: +[0-9]+' "$WORK/tp-lf.log" | awk '{print $2}')" \
    "$(grep -oE 'number_of_executed_units: +[0-9]+' "$WORK/tp-lf.log" | awk '{print $2}')" \
    "$(grep -c '==faultline==' "$WORK/tp-lf.log" || true)"
  [[ " $ENGINES " == *" afl "* ]] || continue
  AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_CUSTOM_MUTATOR_LIBRARY="$MUTATOR" AFL_CUSTOM_MUTATOR_ONLY=1 AFL_DISABLE_TRIM=1 FAULTLINE_DICT="$DICT" \
    FAULTLINE_KERNEL=$kernel FAULTLINE_IGNORE=$known afl-fuzz -V "$THROUGHPUT_SECONDS" -i "$WORK/tp-seeds" \
    -o "$WORK/tp-afl" -- "$BIN/fuzz_schedule_afl" > "$WORK/tp-afl.log" 2>&1 || true
  printf "AFL++ %s:     %s exec/s (%s crashes)\n" "$kernel" \
    "$(awk -F': ' '/^execs_per_sec/ {print $2}' "$WORK/tp-afl/default/fuzzer_stats")" \
    "$(awk -F': ' '/^saved_crashes/ {print $2}' "$WORK/tp-afl/default/fuzzer_stats")"
done
