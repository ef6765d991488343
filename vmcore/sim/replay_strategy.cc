#include "vmcore/sim/replay_strategy.h"

#include <fmt/format.h>

#include <algorithm>

namespace faultline::sim {

ReplayStrategy::ReplayStrategy(std::vector<ScheduledSwitch> decisions, uint64_t seed) : seed_(seed), rng_(seed) {
  for (ScheduledSwitch& d : decisions) {
    if (d.by_label)
      by_label_.push_back({d.at_task, d.label, fnv1a32(d.label.c_str()), std::max(d.hit, 1u), d.every,
                           d.task});
    else
      by_step_.push_back(std::move(d));
  }
  std::stable_sort(by_step_.begin(), by_step_.end(),
                   [](const ScheduledSwitch& a, const ScheduledSwitch& b) { return a.step < b.step; });
}

bool ReplayStrategy::begin_execution(const ExecutionInfo&) {
  next_ = 0;
  ignored_ = 0;
  departure_.reset();
  rng_.seed(seed_);
  for (LabelTrigger& t : by_label_) t.seen = 0;
  return true;
}

std::vector<std::string> ReplayStrategy::unreached() const {
  std::vector<std::string> out;
  for (const LabelTrigger& t : by_label_)
    if (t.seen < t.hit)
      out.push_back(fmt::format("task {} reached \"{}\" {} times, the decision waits for hit {}", t.at_task, t.label,
                                t.seen, t.hit));
  return out;
}

TaskId ReplayStrategy::pick_next(const SchedPoint& p) {
  TaskId want = kNoTask;
  bool periodic = false;  // it names a task that may be done or asleep at some of its hits
  for (LabelTrigger& t : by_label_) {
    if (p.current != t.at_task || p.label.id != t.label_id) continue;
    ++t.seen;
    if (t.fires()) {
      want = t.task;
      periodic = t.every;
    }
  }
  while (next_ < by_step_.size() && by_step_[next_].step < p.step) ++next_;
  // The first decision at a step wins; later duplicates are ignored.
  for (bool first = true; next_ < by_step_.size() && by_step_[next_].step == p.step; ++next_, first = false) {
    const ScheduledSwitch& d = by_step_[next_];
    if (!first) continue;
    if (!d.expect_label.empty() && d.expect_label != p.label.name && !departure_)
      departure_ = Departure{p.step, d.expect_label, p.label.name};
    want = d.task;
    periodic = false;
  }
  if (want != kNoTask) {
    if (want < kMaxTasks && (p.runnable & task_bit(want))) return want;
    if (!periodic) ++ignored_;
  }
  return default_choice(p);
}

}  // namespace faultline::sim
