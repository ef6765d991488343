#!/usr/bin/env bash
# sim_bench and run_bench of a baseline commit and of this tree, run in turn
# on the same machine in one call, so that a change's effect is read against
# the same day's noise: medians of each benchmark's own counters.
#   bench/compare_bench.sh [BASE_REV] [ROUNDS]     (defaults: HEAD~1, 5)
# The baseline is built (RelWithDebInfo, as the default preset; benchmarks only) in build/baseline-<rev>
# from a git worktree; this tree's benchmarks come from build/.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
REV=$(git -C "$SRC" rev-parse --short "${1:-HEAD~1}")
ROUNDS=${2:-5}
BASE=$SRC/build/baseline-$REV
if [ ! -x "$BASE/build/bin/run_bench" ]; then
  rm -rf "$BASE"
  git -C "$SRC" worktree add --detach "$BASE" "$REV" > /dev/null
  cmake -S "$BASE" -B "$BASE/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_COMPILER=clang -DFAULTLINE_BUILD_TESTS=OFF -DFAULTLINE_BUILD_FUZZERS=OFF > /dev/null
  cmake --build "$BASE/build" --target sim_bench run_bench > /dev/null
fi
cmake --build "$SRC/build" --target sim_bench run_bench > /dev/null
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for ((i = 0; i < ROUNDS; i++)); do
  for side in base new; do
    dir=$([ $side = base ] && echo "$BASE/build/bin" || echo "$SRC/build/bin")
    for b in sim_bench run_bench; do
      "$dir/$b" --benchmark_min_time=0.3 --benchmark_format=json > "$OUT/$side-$b-$i.json" 2> /dev/null
    done
  done
done
python3 - "$OUT" "$REV" <<'PY'
import json, statistics, sys, glob, collections
out, rev = sys.argv[1], sys.argv[2]
vals = collections.defaultdict(list)
for path in glob.glob(out + "/*.json"):
    side = path.rsplit("/", 1)[1].split("-")[0]
    for b in json.load(open(path))["benchmarks"]:
        for key in ("per_point", "runs/s"):
            if key in b:
                vals[(b["name"], key, side)].append(b[key])
names = sorted({(n, k) for n, k, _ in vals})
print(f"{'benchmark':40} {'counter':10} {'base ' + rev:>14} {'this tree':>14} {'ratio':>7}")
for n, k in names:
    base, new = statistics.median(vals[(n, k, "base")]), statistics.median(vals[(n, k, "new")])
    unit = "ns" if k == "per_point" else "/s"
    if k == "per_point": base, new = base * 1e9, new * 1e9
    print(f"{n:40} {k:10} {base:12.1f}{unit} {new:12.1f}{unit} {new / base:7.3f}")
PY
