// Random walk: at every schedule point, any runnable task with equal chance.
#pragma once

#include "vmcore/sim/strategy.h"

namespace faultline::sim {

class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(uint64_t seed) : seed_(seed), rng_(seed) {}
  // Each execution draws from the generator where the last one left off;
  // reseed() starts over.
  void reseed(uint64_t seed) { rng_.seed(seed_ = seed); }
  bool begin_execution(const ExecutionInfo&) override { return true; }
  TaskId pick_next(const SchedPoint& p) override;
  uint64_t random_u64() override { return rng_.next(); }

 private:
  uint64_t seed_;
  SplitMix64 rng_;
};

// The n-th set bit of a task set (n < popcount).
TaskId nth_task(TaskSet set, uint32_t n);

}  // namespace faultline::sim
