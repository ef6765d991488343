// The scheduler's one degree of freedom: at each schedule point, which runnable
// task runs next. A strategy makes that choice; the runtime does the rest.
#pragma once

#include <cstdint>
#include <string>

#include "vmcore/sim/event.h"

namespace faultline::sim {

struct ExecutionInfo {
  uint32_t ntasks = 0;
};

struct SchedPoint {
  uint32_t step = 0;
  TaskId current = kNoTask;  // the task that reached the point
  TaskSet runnable = 0;      // never empty; includes current if it can go on
  EventKind kind = EventKind::Point;
  Label label;
  Obj obj;
  Access access = Access::None;
};

// The deterministic default: the current task keeps running while it can,
// otherwise the lowest-numbered runnable task.
TaskId default_choice(const SchedPoint& p);

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Starts an execution; false when the strategy has none left (a
  // systematic search that has run every schedule it covers).
  virtual bool begin_execution(const ExecutionInfo& info) = 0;
  // Returns a task in p.runnable. Anything else is taken as the default choice.
  virtual TaskId pick_next(const SchedPoint& p) = 0;
  // Randomness for strategies and the model, reproducible from the schedule.
  virtual uint64_t random_u64() = 0;
  // The run departed from a path the strategy replays: a determinism bug.
  virtual bool diverged() const { return false; }
  // What the strategy has to say about its search so far ("" if nothing).
  virtual std::string summary() const { return {}; }
};

// Always the default choice: runs tasks one after another.
class DefaultStrategy final : public Strategy {
 public:
  bool begin_execution(const ExecutionInfo&) override { return true; }
  TaskId pick_next(const SchedPoint& p) override { return default_choice(p); }
  uint64_t random_u64() override { return 0; }
};

// Small, fast, reproducible generator (splitmix64).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t bound) { return bound ? next() % bound : 0; }
  void seed(uint64_t s) { state_ = s; }

 private:
  uint64_t state_;
};

}  // namespace faultline::sim
