// The cost of one schedule point, with and without a task switch.
//   build/bin/sim_bench
#include <benchmark/benchmark.h>

#include "vmcore/sim/sim.h"

namespace faultline::sim {
namespace {

constexpr Label kSpin = "bench:point";
constexpr uint32_t kPointsPerRun = 100000;

void spin(void*) {
  Sim& sim = current_sim();
  for (;;) sim.point(kSpin, Obj{ObjKind::TestLock, 0, 0}, Access::Write);
}

// Every point switches to the other task.
class Alternate final : public Strategy {
 public:
  bool begin_execution(const ExecutionInfo&) override { return true; }
  TaskId pick_next(const SchedPoint& p) override { return p.current == 0 ? 1 : 0; }
  uint64_t random_u64() override { return 0; }
};

void run_points(benchmark::State& state, Strategy& strategy) {
  Sim sim(64 * 1024);
  for (auto _ : state) {
    sim.reset(strategy, RunLimits{kPointsPerRun, 1});
    sim.spawn("a", spin, nullptr);
    sim.spawn("b", spin, nullptr);
    sim.run();  // ends at the step limit
  }
  // Seconds per point, shown with an SI prefix (e.g. 12.3n = 12.3 ns).
  state.counters["per_point"] = benchmark::Counter(double(state.iterations()) * kPointsPerRun,
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_PointWithSwitch(benchmark::State& state) {
  Alternate alternate;
  run_points(state, alternate);
}

void BM_PointWithoutSwitch(benchmark::State& state) {
  DefaultStrategy stay;
  run_points(state, stay);
}

BENCHMARK(BM_PointWithSwitch)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PointWithoutSwitch)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace faultline::sim
