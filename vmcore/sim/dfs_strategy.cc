#include "vmcore/sim/dfs_strategy.h"

#include <fmt/format.h>

namespace faultline::sim {

DfsStrategy::DfsStrategy(uint32_t preemption_bound, bool reduce) : bound_(preemption_bound), reduce_(reduce) {}

bool DfsStrategy::begin_execution(const ExecutionInfo&) {
  if (started_) {
    count_execution();
    if (exhausted_ || !next_execution()) {
      exhausted_ = true;
      return false;
    }
  }
  started_ = true;
  counted_ = false;
  pos_ = 0;
  rng_.seed(0);
  return true;
}

void DfsStrategy::count_execution() {
  if (counted_) return;
  counted_ = true;
  // A level re-runs the schedules of lower levels on its way; count each once.
  if (schedules_per_level_.size() <= level_) schedules_per_level_.resize(level_ + 1);
  if (preemptions() == level_) ++schedules_per_level_[level_];
}

std::string DfsStrategy::summary() const {
  std::vector<uint64_t> per_level = schedules_per_level_;
  // The execution that just ran, if the search stopped before counting it.
  if (started_ && !counted_) {
    if (per_level.size() <= level_) per_level.resize(level_ + 1);
    if (preemptions() == level_) ++per_level[level_];
  }
  uint64_t total = 0;
  std::string levels;
  for (size_t l = 0; l < per_level.size(); ++l) {
    total += per_level[l];
    levels += fmt::format(" {}:{}", l, per_level[l]);
  }
  return fmt::format("dfs: bound {} {}: {} schedules with at most {} preemptions (per level:{})", bound_,
                     exhausted_ ? "exhausted" : "not exhausted", total, bound_, levels);
}

TaskId DfsStrategy::pick_next(const SchedPoint& p) {
  if (pos_ < stack_.size()) {
    const Node& n = stack_[pos_++];
    if (n.runnable != p.runnable || n.current != p.current) diverged_ = true;
    return n.chosen;
  }
  Node n;
  n.runnable = p.runnable;
  n.current = p.current;
  n.preemptive = p.current != kNoTask && (p.runnable & task_bit(p.current));
  n.branch = !reduce_ || !n.preemptive || p.access != Access::None;
  if (!stack_.empty())
    n.preemptions_before = stack_.back().preemptions_before + cost(stack_.back(), stack_.back().chosen);
  n.chosen = default_choice(p);
  n.tried = task_bit(n.chosen);
  stack_.push_back(n);
  ++pos_;
  return n.chosen;
}

uint32_t DfsStrategy::preemptions() const {
  if (stack_.empty()) return 0;
  return stack_.back().preemptions_before + cost(stack_.back(), stack_.back().chosen);
}

bool DfsStrategy::backtrack() {
  stack_.resize(pos_);
  while (!stack_.empty()) {
    Node& n = stack_.back();
    if (n.branch) {
      for (TaskSet left = n.runnable & ~n.tried; left; left &= left - 1) {
        const auto t = TaskId(__builtin_ctz(left));
        n.tried |= task_bit(t);
        if (n.preemptions_before + cost(n, t) <= level_) {
          n.chosen = t;
          return true;
        }
      }
    }
    stack_.pop_back();
  }
  return false;
}

bool DfsStrategy::next_execution() {
  if (backtrack()) return true;
  // This bound is exhausted: start over with one more preemption allowed.
  if (level_ >= bound_) return false;
  ++level_;
  stack_.clear();
  return true;
}

}  // namespace faultline::sim
