// The replay strategy: decisions come from the schedule; where none applies,
// the deterministic default (the current task keeps running while it can).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vmcore/sim/strategy.h"

namespace faultline::sim {

struct ScheduledSwitch {
  TaskId task = kNoTask;  // who runs next
  // Either at a step...
  bool by_label = false;
  uint32_t step = 0;
  std::string expect_label;  // recorded label of that step ("" = unchecked)
  // ...or when a task reaches a label for the hit-th time.
  TaskId at_task = kNoTask;
  std::string label;
  uint32_t hit = 1;
  uint32_t every = 0;  // then at every every-th hit after it (0: once)
};

struct Departure {
  uint32_t step = 0;
  std::string expected;
  std::string actual;
};

class ReplayStrategy final : public Strategy {
 public:
  ReplayStrategy(std::vector<ScheduledSwitch> decisions, uint64_t seed);
  bool begin_execution(const ExecutionInfo& info) override;
  TaskId pick_next(const SchedPoint& p) override;
  uint64_t random_u64() override { return rng_.next(); }

  // Decisions whose task could not run at their point (periodic ones are not
  // counted: they alternate the tasks while both can run).
  uint32_t ignored() const { return ignored_; }
  // The first recorded label that did not match the run.
  const std::optional<Departure>& departure() const { return departure_; }
  // Label-hit decisions the run never reached (a mistyped label, a label of
  // another kernel, or a hit beyond what the task did), one line each.
  std::vector<std::string> unreached() const;

 private:
  struct LabelTrigger {
    TaskId at_task;
    std::string label;
    uint32_t label_id;
    uint32_t hit;
    uint32_t every;
    TaskId task;
    uint32_t seen = 0;
    bool fires() const { return seen == hit || (every && seen > hit && (seen - hit) % every == 0); }
  };
  std::vector<ScheduledSwitch> by_step_;
  std::vector<LabelTrigger> by_label_;
  size_t next_ = 0;
  uint32_t ignored_ = 0;
  std::optional<Departure> departure_;
  uint64_t seed_;
  SplitMix64 rng_;
};

}  // namespace faultline::sim
