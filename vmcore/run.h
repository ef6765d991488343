// One run of the model: Outcome run(const Schedule&, Strategy&). Everything
// else in faultline is a consumer of this function.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vmcore/mm/kernel_config.h"
#include "vmcore/schedule/schedule.pb.h"
#include "vmcore/sim/event.h"
#include "vmcore/sim/replay_strategy.h"
#include "vmcore/sim/sim.h"
#include "vmcore/sim/strategy.h"

namespace faultline {

// Exhausted: the strategy had no execution left (a search that is done); nothing ran.
enum class OutcomeKind { Ok, Violation, Deadlock, Livelock, StepLimit, InvalidSchedule, Exhausted };

const char* outcome_name(OutcomeKind k);
std::optional<OutcomeKind> parse_outcome_name(std::string_view name);
// Whether the outcome is a bug (a violation, deadlock or livelock).
bool is_failure(OutcomeKind k);

struct SyscallResult {
  int64_t ret = 0;
  std::vector<uint8_t> data;  // load: the bytes loaded; read: the bytes returned
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::Ok;
  std::string report;     // multi-line, kernel-oops style ("" for Ok)
  std::string signature;  // stable one line ("" for Ok)
  uint64_t trace_hash = 0;
  uint32_t steps = 0;
  std::string kernel;                               // the preset (or switch list) it ran on
  std::vector<sim::Event> trace;                    // when RunOptions::keep_trace
  std::vector<sim::RecordedDecision> decisions;     // the switches the run took
  std::vector<std::vector<SyscallResult>> results;  // per task, per syscall
  uint32_t ignored_decisions = 0;
  std::vector<std::string> task_names;
};

struct RunOptions {
  std::optional<mm::KernelConfig> kernel;  // overrides the schedule's kernel
  bool keep_trace = false;
  bool keep_results = true;
  bool trace_hash = true;  // fuzzing does not need it
};

// The kernel a schedule asks for (preset plus switches), or an error message.
std::optional<mm::KernelConfig> schedule_kernel(const Schedule& s, std::string* error = nullptr);

// The strategy that replays a schedule: its decisions and its seed.
sim::ReplayStrategy replay_strategy(const Schedule& s);

// Owns what runs reuse: fiber stacks and the per-run arena. Not thread-safe;
// use one per thread.
class Runner {
 public:
  Runner();
  ~Runner();
  Outcome run(const Schedule& s, sim::Strategy& strategy, const RunOptions& options = {});
  // The events of the last run (valid until the next run).
  const std::vector<sim::Event>& events() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs with a thread-local Runner.
Outcome run(const Schedule& s, sim::Strategy& strategy, const RunOptions& options = {});
// Replays the schedule's own decisions.
Outcome replay(const Schedule& s, const RunOptions& options = {});

}  // namespace faultline
