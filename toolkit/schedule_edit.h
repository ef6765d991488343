// Edits that keep a schedule consistent, shared by the minimizer and the
// mutator.
#pragma once

#include "vmcore/schedule/schedule.pb.h"

namespace faultline {

// Removes task t: its decisions go, later task numbers (and the daemons after
// them) move down by one.
Schedule without_task(const Schedule& s, int t);

// The number of tasks decisions may name: the schedule's tasks and the daemons.
inline uint32_t decision_tasks(const Schedule& s) { return uint32_t(s.tasks_size()) + 2; }

}  // namespace faultline
