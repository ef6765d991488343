// Delta debugging that keeps the signature: a short list of named passes in a
// fixed order, each re-running every candidate and keeping it only when the
// outcome and signature are unchanged. Repeats until no pass makes progress.
#pragma once

#include <functional>
#include <string>

#include "vmcore/run.h"

namespace faultline {

struct ScheduleSize {
  uint32_t tasks = 0;
  uint32_t syscalls = 0;
  uint32_t decisions = 0;
  uint32_t preemptions = 0;
  uint32_t steps = 0;
};

ScheduleSize measure(const Schedule& s);

struct MinimizeOptions {
  std::optional<mm::KernelConfig> kernel;  // run on this kernel (and record it)
  uint32_t max_runs = 20000;               // candidate runs, at most
  std::function<void(const std::string&)> progress;
};

struct MinimizeResult {
  bool ok = false;
  std::string error;
  Schedule schedule;  // replays to the same outcome and signature
  ScheduleSize before;
  ScheduleSize after;
  uint32_t runs = 0;
};

MinimizeResult minimize(const Schedule& input, const MinimizeOptions& options = {});

}  // namespace faultline
