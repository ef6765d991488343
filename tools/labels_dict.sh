#!/usr/bin/env bash
# The fuzzing dictionary (libFuzzer -dict / AFL++ -x format): every
# schedule-point label of the model, taken from its sources, and the kernel
# presets. The structure-aware mutator reads the labels from it to add
# label-hit decisions ("when task T reaches label L, run task U").
#   tools/labels_dict.sh [source dir] > fuzz_schedule.dict
set -euo pipefail
SRC=${1:-$(cd "$(dirname "$0")/.." && pwd)}
{
  grep -rhoE '"[a-z_0-9]+:[A-Za-z_0-9>+-]+"' "$SRC/vmcore" --include='*.cc' --include='*.h'
  # the page lock's own calls name their spot without a function prefix ("unlock_page")
  grep -rhoE '\.(lock|unlock|trylock|wait_until_clear|clear_bit_and_wake)\("[A-Za-z_0-9]+"' "$SRC/vmcore" \
    --include='*.cc' --include='*.h' | sed 's/^[^(]*(//'
} | sort -u | sed 's/^/label=/'
sed -n 's/.*p\.push_back({"\([^"]*\)".*/preset="\1"/p' "$SRC/vmcore/mm/kernel_config.cc"
