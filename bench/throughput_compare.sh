#!/usr/bin/env bash
# libFuzzer executions per second of two builds (a baseline and this tree),
# one core, non-fork, from the same seed corpus, on each kernel, in turn and
# in rounds, so that the day's noise falls on both alike. The signatures
# corpus/regressions/ expects on a kernel are ignored; a run still stops at
# its first other violation (the count says so).
#
#   bench/throughput_compare.sh BASE_BIN_DIR [NEW_BIN_DIR=build/bin] [SEEDS=corpus/seeds]
# Settings: KERNELS="v2.6.26 v7.0"  SECONDS_EACH=60  ROUNDS=2
# The seeds are converted by this tree's faultline; give the baseline's own
# corpus/seeds when this tree added seeds the baseline cannot read.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=$1
NEW=${2:-build/bin}
SEEDS=${3:-corpus/seeds}
KERNELS=${KERNELS:-v2.6.26 v7.0}
SECONDS_EACH=${SECONDS_EACH:-60}
ROUNDS=${ROUNDS:-2}
WORK=$(mktemp -d /tmp/faultline-throughput.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
build/bin/faultline corpus convert "$SEEDS" "$WORK/seeds" --to binary > /dev/null
for ((round = 1; round <= ROUNDS; round++)); do
  for kernel in $KERNELS; do
    known=$(sed -n "s/^# expect: $kernel [A-Za-z]* \([^ ]*\)\$/\1/p" corpus/regressions/*.txtpb | sort -u | paste -sd, -)
    for side in base new; do
      bin=$([ $side = base ] && echo "$BASE" || echo "$NEW")
      rm -rf "$WORK/corpus" && cp -r "$WORK/seeds" "$WORK/corpus"
      FAULTLINE_KERNEL=$kernel FAULTLINE_IGNORE=$known "$bin/fuzz_schedule" "$WORK/corpus" \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1 -reload=0 -dict=build/fuzz_schedule.dict \
        -artifact_prefix="$WORK/" > "$WORK/log" 2>&1 || true
      printf "round %d %-8s %-4s %6s exec/s %9s executions, %s violations\n" "$round" "$kernel" "$side" \
        "$(grep -oE 'average_exec_per_sec: +[0-9]+' "$WORK/log" | awk '{print $2}')" \
        "$(grep -oE 'number_of_executed_units: +[0-9]+' "$WORK/log" | awk '{print $2}')" \
        "$(grep -c '==faultline==' "$WORK/log" || true)"
    done
  done
done
