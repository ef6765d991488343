#include "vmcore/sim/pct_strategy.h"

#include <algorithm>
#include <numeric>

namespace faultline::sim {

PctStrategy::PctStrategy(uint64_t seed, uint32_t depth, uint32_t expected_steps)
    : rng_(seed), depth_(std::max(depth, 1u)), k_(std::max(expected_steps, 2u)) {}

void PctStrategy::begin_execution(const ExecutionInfo& info) {
  k_ = std::max(k_, max_seen_);
  max_seen_ = 0;
  // Initial priorities depth .. depth + n - 1 in random order; change points
  // lower a task to 1 .. depth - 1, below every initial priority.
  std::array<uint32_t, kMaxTasks> order{};
  std::iota(order.begin(), order.begin() + info.ntasks, 0u);
  for (uint32_t i = info.ntasks; i > 1; --i) std::swap(order[i - 1], order[rng_.below(i)]);
  for (uint32_t i = 0; i < info.ntasks; ++i) priority_[order[i]] = depth_ + i;
  change_points_.clear();
  for (uint32_t i = 1; i < depth_; ++i) change_points_.push_back(1 + uint32_t(rng_.below(k_)));
  std::sort(change_points_.begin(), change_points_.end());
  next_change_ = 0;
}

TaskId PctStrategy::pick_next(const SchedPoint& p) {
  max_seen_ = std::max(max_seen_, p.step);
  // At the i-th change point the running task gets priority depth - i.
  while (next_change_ < change_points_.size() && change_points_[next_change_] <= p.step) {
    if (p.current != kNoTask) priority_[p.current] = uint32_t(depth_ - 1 - next_change_);
    ++next_change_;
  }
  TaskId best = kNoTask;
  for (TaskSet r = p.runnable; r; r &= r - 1) {
    const auto t = TaskId(__builtin_ctz(r));
    if (best == kNoTask || priority_[t] > priority_[best]) best = t;
  }
  return best;
}

}  // namespace faultline::sim
