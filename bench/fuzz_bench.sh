#!/usr/bin/env bash
# Fuzzing measurements for the README (run on an otherwise idle machine):
#   1. time-to-bug: libFuzzer and AFL++ from corpus/seeds/ alone until a target
#      signature (5 seeds, median), with and without interleaving coverage.
#      Default target: the dangling mapping of model.md section 3 on v2.6.20.
#   2. throughput on v2.6.26, one core each.
#
#   bench/fuzz_bench.sh [runs=5] [timeout_seconds=300] [throughput_seconds=60]
#   TARGET_KERNEL=v2.6.26 TARGET=mapped-beyond-eof:private-copy bench/fuzz_bench.sh 5 600 0
# Needs build/bin/fuzz_schedule, build/bin/fuzz_schedule_afl (ninja -C build
# fuzz_schedule_afl_target) and build/lib/libfaultline_afl_mutator.so.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
TIMEOUT=${2:-300}
THROUGHPUT_SECONDS=${3:-60}
TARGET_KERNEL=${TARGET_KERNEL:-v2.6.20}
TARGET=${TARGET:-dangling-mapping:invalidate_complete_page2}
BIN=build/bin
WORK=$(mktemp -d /tmp/faultline-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$BIN/faultline" corpus convert corpus/seeds "$WORK/seeds" --to binary > /dev/null

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# libFuzzer until the first dangling mapping: prints "seconds executions".
libfuzzer_ttb() {
  local seed=$1 coverage=$2 dir="$WORK/lf-$seed-$coverage"
  mkdir -p "$dir/corpus" && cp "$WORK/seeds"/* "$dir/corpus/"
  local start end
  start=$(date +%s.%N)
  FAULTLINE_KERNEL=$TARGET_KERNEL FAULTLINE_ONLY=$TARGET FAULTLINE_INTERLEAVING_COVERAGE=$coverage \
    timeout $((TIMEOUT + 30)) "$BIN/fuzz_schedule" "$dir/corpus" -seed="$seed" -max_total_time="$TIMEOUT" \
    -artifact_prefix="$dir/" -print_final_stats=1 > "$dir/log" 2>&1 || true
  end=$(date +%s.%N)
  local execs
  execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$dir/log" | awk '{print $2}' | tail -1)
  if ls "$dir"/crash-* > /dev/null 2>&1; then
    echo "$(awk "BEGIN { print $end - $start }") ${execs:-?}"
  else
    echo "timeout ${execs:-?}"
  fi
}

# AFL++ until the first dangling mapping: prints "seconds executions".
afl_ttb() {
  local seed=$1 coverage=$2 dir="$WORK/afl-$seed-$coverage"
  mkdir -p "$dir"
  AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_BENCH_UNTIL_CRASH=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_CUSTOM_MUTATOR_LIBRARY="$PWD/build/lib/libfaultline_afl_mutator.so" AFL_CUSTOM_MUTATOR_ONLY=1 \
    AFL_DISABLE_TRIM=1 FAULTLINE_KERNEL=$TARGET_KERNEL FAULTLINE_ONLY=$TARGET \
    FAULTLINE_INTERLEAVING_COVERAGE=$coverage \
    timeout $((TIMEOUT + 30)) afl-fuzz -s "$seed" -V "$TIMEOUT" -i "$WORK/seeds" -o "$dir/out" \
    -- "$BIN/fuzz_schedule_afl" > "$dir/log" 2>&1 || true
  local stats="$dir/out/default/fuzzer_stats"
  local crashes secs execs
  crashes=$(awk -F': ' '/^saved_crashes/ {print $2}' "$stats")
  secs=$(( $(awk -F': ' '/^last_update/ {print $2}' "$stats") - $(awk -F': ' '/^start_time/ {print $2}' "$stats") ))
  execs=$(awk -F': ' '/^execs_done/ {print $2}' "$stats")
  if [ "${crashes:-0}" -gt 0 ]; then echo "$secs $execs"; else echo "timeout $execs"; fi
}

report() {
  local name=$1 file=$2
  local found times execs
  found=$(grep -vc timeout "$file" || true)
  times=$(grep -v timeout "$file" | awk '{print $1}' | median)
  execs=$(grep -v timeout "$file" | awk '{print $2}' | median)
  printf "%-44s found %s/%s  median %6.1f s  median %9s executions\n" "$name" "$found" "$RUNS" "${times:-0}" "${execs:-?}"
}

echo "== time to $TARGET on $TARGET_KERNEL from corpus/seeds/ ($RUNS seeds, timeout ${TIMEOUT}s)"
for engine in libfuzzer afl; do
  for coverage in 1 0; do
    out="$WORK/$engine-$coverage.txt"
    : > "$out"
    for seed in $(seq 1 "$RUNS"); do
      if [ $engine = libfuzzer ]; then libfuzzer_ttb "$seed" "$coverage" >> "$out"; else afl_ttb "$seed" "$coverage" >> "$out"; fi
    done
    label="$engine, interleaving coverage $([ "$coverage" = 1 ] && echo on || echo off)"
    report "$label" "$out"
    sed 's/^/    /' "$out"
  done
done

[ "$THROUGHPUT_SECONDS" -gt 0 ] || exit 0
echo "== throughput on v2.6.26, one core, ${THROUGHPUT_SECONDS}s from corpus/seeds/"
mkdir -p "$WORK/tp-lf"
cp "$WORK/seeds"/* "$WORK/tp-lf/"
FAULTLINE_KERNEL=v2.6.26 "$BIN/fuzz_schedule" "$WORK/tp-lf" -max_total_time="$THROUGHPUT_SECONDS" -print_final_stats=1 \
  -artifact_prefix="$WORK/tp-lf-" > "$WORK/tp-lf.log" 2>&1 || true
printf "libFuzzer: %s exec/s (%s)\n" "$(grep -oE 'average_exec_per_sec: +[0-9]+' "$WORK/tp-lf.log" | awk '{print $2}')" \
  "$(grep -c '==faultline==' "$WORK/tp-lf.log" || true) violations"
AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  AFL_CUSTOM_MUTATOR_LIBRARY="$PWD/build/lib/libfaultline_afl_mutator.so" AFL_CUSTOM_MUTATOR_ONLY=1 AFL_DISABLE_TRIM=1 \
  FAULTLINE_KERNEL=v2.6.26 afl-fuzz -V "$THROUGHPUT_SECONDS" -i "$WORK/seeds" -o "$WORK/tp-afl" \
  -- "$BIN/fuzz_schedule_afl" > "$WORK/tp-afl.log" 2>&1 || true
printf "AFL++:     %s exec/s (%s crashes)\n" "$(awk -F': ' '/^execs_per_sec/ {print $2}' "$WORK/tp-afl/default/fuzzer_stats")" \
  "$(awk -F': ' '/^saved_crashes/ {print $2}' "$WORK/tp-afl/default/fuzzer_stats")"
