// Kernel-oops-style reports: the title, the task, its kernel call chain, the
// objects involved; and the one-line signature that names the bug.
#pragma once

#include <string>

#include "vmcore/kernel/kernel.h"

namespace faultline::mm {

std::string call_chain(sim::TaskId t);
const char* innermost_function(sim::TaskId t);
// The function that is taking a page out of the page cache (the innermost
// caller of remove_from_page_cache): invalidate_complete_page2, ...
const char* removal_path(sim::TaskId t);
std::string describe_page(const page* p);
std::string describe_pte(const mm_struct* mm, unsigned long vpn);
std::string describe_vma(const vm_area_struct* vma);

// Ends the run with a violation. `body` follows the header lines
// (title, task, kernel, call trace).
[[noreturn]] void oops(std::string title, std::string body, std::string signature);

}  // namespace faultline::mm
