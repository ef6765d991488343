#!/bin/bash
# Executions per second of fuzz_host_diff (model and host) next to fuzz_schedule
# (model only), one after the other in this script, from the same corpus: the
# host-runnable single-task parts of corpus/seeds and corpus/regressions.
# Usage: bench/host_throughput.sh [KERNEL] [SECONDS]   (from the repository root, after make build)
set -euo pipefail
kernel=${1:-v5.15}
seconds=${2:-60}
bin=$(pwd)/build/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/faultline" corpus host-parts "$work/parts" corpus/seeds corpus/regressions --kernel "$kernel" > /dev/null
# The known findings of that kernel are not crashes of fuzz_schedule.
ignore=$(grep -h "^# expect: $kernel " corpus/regressions/*.txtpb | awk '{print $5}' | grep . | sort -u | paste -sd, -)
for target in fuzz_schedule fuzz_host_diff; do
  mkdir "$work/$target"
  FAULTLINE_KERNEL=$kernel FAULTLINE_IGNORE=$ignore FAULTLINE_HOST_DIR=$work "$bin/$target" "$work/$target" "$work/parts" \
      -max_total_time="$seconds" -seed=5 -reload=0 -print_final_stats=1 -artifact_prefix="$work/$target/" 2>&1 |
    awk -v t="$target" '/stat::number_of_executed_units/ {n=$2} /stat::average_exec_per_sec/ {r=$2}
                        /DEDUP_TOKEN/ {print t ": stopped at " $0}
                        END {printf "%-15s %9d executions  %6d exec/s\n", t, n, r}'
done
