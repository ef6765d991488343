#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh the way OSS-Fuzz / ClusterFuzzLite would (its
# variables set, AddressSanitizer and libFuzzer from $CFLAGS and
# $LIB_FUZZING_ENGINE) and checks what lands in $OUT.
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/faultline-cflite.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS -stdlib=libc++"  # as base-builder sets it
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export OUT=$TMP/out SRC=$TMP/src WORK=$TMP/work FAULTLINE_SRC=$SRC_DIR
mkdir -p "$OUT" "$SRC" "$WORK"
bash "$SRC_DIR/.clusterfuzzlite/build.sh" > "$TMP/build.log" 2>&1 || { tail -40 "$TMP/build.log"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
[ -x "$OUT/fuzz_schedule" ] || fail "no fuzz_schedule in \$OUT"
[ -f "$OUT/fuzz_schedule.options" ] || fail "no .options"
[ -f "$OUT/fuzz_schedule.dict" ] || fail "no .dict"
n=$(unzip -l "$OUT/fuzz_schedule_seed_corpus.zip" | grep -c '\.pb$' || true)
[ "$n" -ge 10 ] || fail "seed corpus has $n schedules"
nm "$OUT/fuzz_schedule" > "$TMP/symbols"
grep -q __asan_init "$TMP/symbols" || fail "fuzz_schedule is not built with AddressSanitizer"
# The target runs its seed corpus clean on v2.6.26 and finds the race on v2.6.20.
mkdir -p "$TMP/seeds" && unzip -q "$OUT/fuzz_schedule_seed_corpus.zip" -d "$TMP/seeds"
FAULTLINE_KERNEL=v2.6.26 "$OUT/fuzz_schedule" -runs=0 "$TMP/seeds" > "$TMP/run.log" 2>&1 || { tail -20 "$TMP/run.log"; fail "seed corpus does not run clean on v2.6.26"; }
grep -q "INITED" "$TMP/run.log" || fail "libFuzzer did not start"
"$SRC_DIR/build/bin/faultline" corpus convert "$SRC_DIR/corpus/regressions/fault_vs_invalidate.txtpb" "$TMP/race.pb" > /dev/null
if "$OUT/fuzz_schedule" "$TMP/race.pb" > "$TMP/race.log" 2>&1; then fail "the race does not crash the target"; fi
grep -q "DEDUP_TOKEN: dangling-mapping" "$TMP/race.log" || fail "no DEDUP_TOKEN"
echo "OK: $OUT holds fuzz_schedule (ASan), its seed corpus ($n schedules), .options and .dict"
