// What each syscall of a run returned: its call with arguments, its return
// value or signal, and the bytes a load or read gave, as text for a terminal
// and as JSON for scripts.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "vmcore/run.h"

namespace faultline {

// "read(file=0 \"a\", offset=16, len=8)".
std::string syscall_text(const Schedule& s, const Syscall& c);

// "4  \"AB..\"  [41 42 00 00]": the return value or signal, and the bytes.
std::string result_text(const SyscallResult& r);

// Per task, in task order: each syscall that ran and what it returned. Needs
// the outcome's results (RunOptions::keep_results).
std::string render_results(const Schedule& s, const Outcome& out);

// One object per run: outcome, signature, kernel, steps, trace hash (hex) and
// the results per task.
nlohmann::json run_json(const std::string& file, const Schedule& s, const Outcome& out);

}  // namespace faultline
