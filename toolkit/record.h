// Recording: a run becomes a complete, replayable schedule (the decisions that
// actually ran, each with the label of its point, and what was observed).
#pragma once

#include <string>

#include "vmcore/mm/kernel_config.h"
#include "vmcore/run.h"

namespace faultline {

// The kernel field that selects cfg: a preset name when one matches.
Kernel kernel_message(const mm::KernelConfig& cfg);

// base with its decisions replaced by those the run took, the kernel it ran
// on, and a Recording of the outcome.
Schedule recorded_schedule(const Schedule& base, const Outcome& out, const mm::KernelConfig& cfg,
                           const std::string& recorder);

// Switches away from a task that could have gone on (needs out.trace).
uint32_t count_preemptions(const Outcome& out);

// Rewrites step decisions as label hits ("when task T reaches label L for the
// n-th time"), which survive the removal of other tasks' syscalls. Needs the
// trace of a run of s.
Schedule with_label_decisions(const Schedule& s, const Outcome& traced);

}  // namespace faultline
