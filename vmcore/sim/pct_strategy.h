// PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
// random distinct priorities per task, the highest-priority runnable task
// runs, and at d-1 random steps the running task drops below all others.
// A bug of depth d is found with probability at least 1/(n * k^(d-1)).
#pragma once

#include <array>
#include <vector>

#include "vmcore/sim/strategy.h"

namespace faultline::sim {

class PctStrategy final : public Strategy {
 public:
  // `depth` is d; `expected_steps` the k of the bound: the number of
  // decision points (schedule points where more than one task can run) the
  // d - 1 change points are drawn from, distinct; once a run has been seen,
  // k is the most decision points any run has had.
  PctStrategy(uint64_t seed, uint32_t depth, uint32_t expected_steps = 200);
  bool begin_execution(const ExecutionInfo& info) override;
  TaskId pick_next(const SchedPoint& p) override;
  uint64_t random_u64() override { return rng_.next(); }
  // The k the next execution draws its change points from.
  uint32_t k() const { return max_seen_ ? max_seen_ : k_; }

 private:
  SplitMix64 rng_;
  uint32_t depth_;
  uint32_t k_;
  uint32_t max_seen_ = 0;  // the most decision points of any execution
  uint32_t decisions_ = 0;  // decision points of this execution so far
  std::array<uint32_t, kMaxTasks> priority_{};
  std::vector<uint32_t> change_points_;  // sorted steps
  size_t next_change_ = 0;
};

}  // namespace faultline::sim
