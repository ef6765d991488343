// Whole runs of the model: replaying a schedule end to end, and random
// interleavings of a scenario.
//   build/bin/run_bench
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "vmcore/run.h"
#include "vmcore/schedule/schedule_io.h"
#include "vmcore/sim/random_strategy.h"

namespace faultline {
namespace {

Schedule load(const char* rel) {
  std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return *parse_schedule(ss.str()).schedule;
}

constexpr const char* kOrigin = "corpus/regressions/fault_vs_invalidate.txtpb";
constexpr const char* kFolioRace = "corpus/regressions/fault_around_nr_pages_underflow.txtpb";

void BM_ReplayRace(benchmark::State& state, const char* preset, const char* schedule) {
  const Schedule s = load(schedule);
  RunOptions options;
  options.kernel = mm::preset_config(preset);
  options.keep_results = false;
  Runner runner;
  sim::ReplayStrategy strategy = replay_strategy(s);
  uint64_t steps = 0;
  for (auto _ : state) steps += runner.run(s, strategy, options).steps;
  state.counters["runs/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["steps/run"] = double(steps) / double(state.iterations());
}
BENCHMARK_CAPTURE(BM_ReplayRace, v2_6_20, "v2.6.20", kOrigin);
BENCHMARK_CAPTURE(BM_ReplayRace, v2_6_26, "v2.6.26", kOrigin);
// The 2.6 schedule on the folio era's fault path, and #12 (a large folio,
// fault-around and truncate) on its buggy and fixed kernels.
BENCHMARK_CAPTURE(BM_ReplayRace, v7_0, "v7.0", kOrigin);
BENCHMARK_CAPTURE(BM_ReplayRace, folio_v7_0_rc3, "v7.0-rc3", kFolioRace);
BENCHMARK_CAPTURE(BM_ReplayRace, folio_v7_0, "v7.0", kFolioRace);

void BM_RandomInterleavings(benchmark::State& state, const char* preset) {
  Schedule s = load(kOrigin);
  s.clear_decisions();
  RunOptions options;
  options.kernel = mm::preset_config(preset);
  options.keep_results = false;
  Runner runner;
  sim::RandomStrategy strategy(1);
  uint64_t failures = 0;
  for (auto _ : state) failures += is_failure(runner.run(s, strategy, options).kind);
  state.counters["runs/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["failing"] = double(failures) / double(state.iterations());
}
BENCHMARK_CAPTURE(BM_RandomInterleavings, v2_6_20, "v2.6.20");
BENCHMARK_CAPTURE(BM_RandomInterleavings, v2_6_26, "v2.6.26");
BENCHMARK_CAPTURE(BM_RandomInterleavings, v7_0, "v7.0");

}  // namespace
}  // namespace faultline
