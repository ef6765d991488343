#include "vmcore/sim/random_strategy.h"

namespace faultline::sim {

TaskId nth_task(TaskSet set, uint32_t n) {
  for (; n; --n) set &= set - 1;
  return TaskId(__builtin_ctz(set));
}

TaskId RandomStrategy::pick_next(const SchedPoint& p) {
  return nth_task(p.runnable, uint32_t(rng_.below(uint64_t(__builtin_popcount(p.runnable)))));
}

}  // namespace faultline::sim
