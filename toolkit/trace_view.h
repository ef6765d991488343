// Seeing a run: a terminal timeline with one column per task, and Chrome
// trace-event JSON (Perfetto, chrome://tracing) with one track per task.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vmcore/run.h"

namespace faultline {

struct TimelineOptions {
  int column_width = 0;  // characters per task column; 0 fits the columns into `width`
  int width = 160;       // the whole line, when column_width is 0 (the terminal's, see terminal_width)
  bool verbose = false;  // also function entries and accesses under locks
  std::optional<uint32_t> task;  // only this task's column; the others' events folded into a count
};

// The columns of the terminal on stdout, else $COLUMNS, else 0.
int terminal_width();
// For the terminal: column_width if it is set, else columns fitted to terminal_width().
TimelineOptions terminal_timeline(int column_width, bool verbose, std::optional<uint32_t> task);

// Needs out.trace.
std::string render_timeline(const Outcome& out, const TimelineOptions& options = {});
std::string perfetto_json(const Outcome& out, const std::string& title);

}  // namespace faultline
