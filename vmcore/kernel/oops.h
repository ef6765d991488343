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

// A SIGSEGV in model code running as a task (a NULL or wild pointer, a
// fiber stack overflow) becomes an oops of the run, "oops:<function>:NULL",
// ":bad-address" or ":stack-overflow", instead of killing the process; any
// other SIGSEGV goes to the handler that was there before. Installed once per
// process, with an alternate signal stack per thread; not under
// AddressSanitizer, which reports such faults itself.
void install_oops_handler();

}  // namespace faultline::mm
