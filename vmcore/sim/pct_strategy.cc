#include "vmcore/sim/pct_strategy.h"

#include <algorithm>
#include <numeric>

namespace faultline::sim {

PctStrategy::PctStrategy(uint64_t seed, uint32_t depth, uint32_t expected_steps)
    : rng_(seed), depth_(std::max(depth, 1u)), k_(std::max(expected_steps, 1u)) {}

bool PctStrategy::begin_execution(const ExecutionInfo& info) {
  // Once a run has been seen, k is the most decision points a run has had.
  if (max_seen_) k_ = std::max(max_seen_, 1u);
  // Initial priorities depth .. depth + n - 1 in random order; change points
  // lower a task to 1 .. depth - 1, below every initial priority.
  std::array<uint32_t, kMaxTasks> order{};
  std::iota(order.begin(), order.begin() + info.ntasks, 0u);
  for (uint32_t i = info.ntasks; i > 1; --i) std::swap(order[i - 1], order[rng_.below(i)]);
  for (uint32_t i = 0; i < info.ntasks; ++i) priority_[order[i]] = depth_ + i;
  // d - 1 distinct decision points out of 1 .. k (all of them if k is smaller).
  change_points_.clear();
  while (change_points_.size() < std::min<size_t>(depth_ - 1, k_)) {
    const uint32_t c = 1 + uint32_t(rng_.below(k_));
    if (std::find(change_points_.begin(), change_points_.end(), c) == change_points_.end()) change_points_.push_back(c);
  }
  std::sort(change_points_.begin(), change_points_.end());
  next_change_ = 0;
  decisions_ = 0;
  return true;
}

TaskId PctStrategy::pick_next(const SchedPoint& p) {
  // Only where more than one task can run is there a choice to count.
  if (!(p.runnable & (p.runnable - 1))) return TaskId(__builtin_ctz(p.runnable));
  max_seen_ = std::max(max_seen_, ++decisions_);  // over every execution so far
  // At the i-th change point the running task gets priority depth - i.
  if (next_change_ < change_points_.size() && change_points_[next_change_] == decisions_) {
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
