// Bounded depth-first search over interleavings with iterative preemption
// bounding (CHESS, Musuvathi and Qadeer): every schedule with at most
// `bound` preemptions, fewer preemptions first. Stateless: each execution
// replays the prefix of choices and extends it with the default choice.
//
// A preemption is a switch away from a task that could have gone on.
// Reduction: a preemption at a point that touches no shared object is
// equivalent to one at the task's next point, so such points do not branch.
#pragma once

#include <string>
#include <vector>

#include "vmcore/sim/strategy.h"

namespace faultline::sim {

class DfsStrategy final : public Strategy {
 public:
  explicit DfsStrategy(uint32_t preemption_bound, bool reduce = true);
  // Every execution but the first moves to the next schedule; false once
  // every schedule within the bound has run.
  bool begin_execution(const ExecutionInfo& info) override;
  TaskId pick_next(const SchedPoint& p) override;
  uint64_t random_u64() override { return rng_.next(); }
  // The model replayed a prefix differently.
  bool diverged() const override { return diverged_; }
  // "dfs: bound B exhausted: N schedules with at most B preemptions (per level: ...)".
  std::string summary() const override;

  uint32_t level() const { return level_; }  // current preemption bound
  uint32_t preemptions() const;              // of the execution that just ran

 private:
  struct Node {
    TaskSet runnable = 0;
    TaskId current = kNoTask;
    bool preemptive = false;  // the current task could go on
    bool branch = true;
    TaskId chosen = kNoTask;
    TaskSet tried = 0;
    uint32_t preemptions_before = 0;
  };
  uint32_t cost(const Node& n, TaskId t) const { return n.preemptive && t != n.current ? 1 : 0; }
  bool backtrack();
  bool next_execution();
  // The execution that just ran, counted once at the level of its preemptions.
  void count_execution();

  uint32_t bound_;
  bool reduce_;
  uint32_t level_ = 0;
  std::vector<Node> stack_;
  size_t pos_ = 0;
  bool diverged_ = false;
  bool started_ = false;
  bool counted_ = false;     // the execution that just ran is in schedules_per_level_
  bool exhausted_ = false;
  std::vector<uint64_t> schedules_per_level_;
  SplitMix64 rng_;
};

}  // namespace faultline::sim
