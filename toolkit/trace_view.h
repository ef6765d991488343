// Seeing a run: a terminal timeline with one column per task, and Chrome
// trace-event JSON (Perfetto, chrome://tracing) with one track per task.
#pragma once

#include <string>

#include "vmcore/run.h"

namespace faultline {

struct TimelineOptions {
  int column_width = 44;
  bool verbose = false;  // also function entries and accesses under locks
};

// Needs out.trace.
std::string render_timeline(const Outcome& out, const TimelineOptions& options = {});
std::string perfetto_json(const Outcome& out, const std::string& title);

}  // namespace faultline
