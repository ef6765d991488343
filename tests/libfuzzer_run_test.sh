#!/usr/bin/env bash
# fuzz_schedule on v2.6.26, as CI should see it:
#   1. every file of corpus/seeds/ as an argument (libFuzzer's regression
#      mode): each runs, none crashes;
#   2. a short campaign from the seeds with a fixed -seed and a fixed number
#      of runs (about 30 s here; deterministic: -reload=0, as libFuzzer's
#      periodic corpus reload depends on the clock): no violation other than
#      the known v2.6.26 ones, which corpus/regressions/ expects.
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC_DIR/build/bin}
RUNS=${FUZZ_SMOKE_RUNS:-250000}
TMP=$(mktemp -d /tmp/faultline-libfuzzer.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN/faultline" corpus convert "$SRC_DIR/corpus/seeds" "$TMP/seeds" --to binary > /dev/null
n=$(ls "$TMP/seeds" | wc -l)
FAULTLINE_KERNEL=v2.6.26 "$BIN/fuzz_schedule" "$TMP"/seeds/* > "$TMP/regression.log" 2>&1 ||
  { tail -30 "$TMP/regression.log"; fail "a seed crashes fuzz_schedule on v2.6.26"; }
ran=$(grep -c "^Running: " "$TMP/regression.log" || true)
[ "$ran" -eq "$n" ] || fail "libFuzzer ran $ran of $n seeds"

known=$(sed -n 's/^# expect: v2\.6\.26 [A-Za-z]* \([^ ]*\)$/\1/p' "$SRC_DIR"/corpus/regressions/*.txtpb | sort -u | paste -sd, -)
mkdir -p "$TMP/corpus"
cp "$TMP"/seeds/* "$TMP/corpus/"
FAULTLINE_KERNEL=v2.6.26 FAULTLINE_IGNORE="$known" "$BIN/fuzz_schedule" "$TMP/corpus" -seed=1 -runs="$RUNS" -reload=0 \
  -artifact_prefix="$TMP/" -print_final_stats=1 > "$TMP/fuzz.log" 2>&1 ||
  { grep -A30 "==faultline==" "$TMP/fuzz.log" | head -40; fail "a violation on v2.6.26 (known and ignored: $known)"; }
ls "$TMP"/crash-* > /dev/null 2>&1 && fail "crash files were written"
grep -q "Done $RUNS runs" "$TMP/fuzz.log" || { tail -5 "$TMP/fuzz.log"; fail "the campaign did not run to the end"; }
echo "OK: $n seeds ran clean; $RUNS runs from them on v2.6.26 (-seed=1) found no violation beyond the known ($known)"
grep -E "average_exec_per_sec|new_units_added" "$TMP/fuzz.log" || true
