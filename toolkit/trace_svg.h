// The interleaving as a picture: one lane per task (the daemons too), its
// syscalls and kernel functions as nested spans, the locks it holds as bars,
// its sleeps shaded, hand-offs (a wake-up, a lock passed on) as arrows
// between lanes, and the checker's step marked. A self-contained SVG file
// for any browser.
#pragma once

#include <string>

#include "vmcore/run.h"

namespace faultline {

// Needs out.trace with function events (RunOptions::keep_trace).
std::string trace_svg(const Outcome& out, const std::string& title);

}  // namespace faultline
