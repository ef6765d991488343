#include "vmcore/kernel/oops.h"

#include <fmt/format.h>
#include <signal.h>
#include <ucontext.h>

#include <array>
#include <mutex>

#include "vmcore/mm/mm.h"
#include "vmcore/sim/sanitizer.h"

namespace faultline::mm {

bool FaultInjector::should_fail(FaultKind k) {
  const uint32_t n = ++calls[size_t(k)];
  for (uint32_t i = 0; i < nrules; ++i) {
    const Rule& r = rules[i];
    if (r.kind == k && n >= r.first && n - r.first < r.count) return true;
  }
  return false;
}

KFunc::KFunc(sim::Label fn) : fn_(fn) {
  TaskState& t = current();
  if (t.depth < t.callchain.size()) t.callchain[t.depth] = fn.name;
  ++t.depth;
  sim().call_event(sim::EventKind::FuncEnter, fn);
}

KFunc::~KFunc() {
  TaskState& t = current();
  --t.depth;
  sim().call_event(sim::EventKind::FuncExit, fn_);
}

std::string call_chain(sim::TaskId t) {
  const TaskState& ts = kernel().tasks[t];
  std::string out;
  const int depth = std::min<int>(ts.depth, int(ts.callchain.size()));
  for (int i = depth - 1; i >= 0; --i) out += fmt::format("  [<{}>]\n", ts.callchain[i]);
  return out;
}

const char* innermost_function(sim::TaskId t) {
  const TaskState& ts = kernel().tasks[t];
  if (ts.depth == 0) return "user";
  return ts.callchain[std::min<size_t>(ts.depth, ts.callchain.size()) - 1];
}

const char* removal_path(sim::TaskId t) {
  const TaskState& ts = kernel().tasks[t];
  for (int i = std::min<int>(ts.depth, int(ts.callchain.size())) - 1; i >= 0; --i)
    if (std::string_view(ts.callchain[i]) != "remove_from_page_cache") return ts.callchain[i];
  return "?";
}

std::string describe_page(const page* p) {
  if (!p) return "page: (none)";
  std::string flags;
  auto add = [&](bool on, const char* name) {
    if (on) flags += fmt::format("{}{}", flags.empty() ? "" : "|", name);
  };
  add(PageLocked(p), "locked");
  add(PageUptodate(p), "uptodate");
  add(PageDirty(p), "dirty");
  add(PageError(p), "error");
  add(PageWriteback(p), "writeback");
  add(PageAnon(p), "anon");
  std::string mapping = PageAnon(p) ? "anon" : p->mapping ? fmt::format("file{}", p->mapping->id) : "NULL";
  const page* head = compound_head(p);
  const std::string folio =
      folio_test_large(head) ? fmt::format(" folio: head frame {} order {} _entire_mapcount {}", head->frame,
                                           folio_order(head), head->_entire_mapcount)
                             : "";
  return fmt::format("page: frame {} index {} mapping {} _count {} _mapcount {} flags {}{}", p->frame, p->index.v,
                     mapping, page_count(p), p->_mapcount, flags.empty() ? "0" : flags, folio);
}

std::string describe_pte(const mm_struct* mm, unsigned long vpn) {
  const pte_t& pte = mm->pte[vpn];
  if (!pte.present) return fmt::format("pte: mm {} addr {:#x} none", mm->id, vpn << PAGE_SHIFT);
  return fmt::format("pte: mm {} addr {:#x} -> frame {}{}{}{}", mm->id, vpn << PAGE_SHIFT, pte.frame,
                     pte.write ? " write" : " ro", pte.dirty ? " dirty" : "", pte.young ? " young" : "");
}

std::string describe_vma(const vm_area_struct* vma) {
  return fmt::format("vma: mm {} [{:#x}-{:#x}) file {} pgoff {} {}{}{}", vma->vm_mm->id, vma->vm_start, vma->vm_end,
                     vma->vm_file ? vma->vm_file->i_ino : 0, vma->vm_pgoff.v,
                     vma->vm_flags & VM_SHARED ? "shared" : "private", vma->vm_flags & VM_WRITE ? " write" : "",
                     vma->vm_flags & VM_CAN_INVALIDATE ? " VM_CAN_INVALIDATE" : "");
}

namespace {

std::string oops_report(const std::string& title, const std::string& body) {
  Kernel& k = kernel();
  const sim::TaskId me = k.sim->current();
  return fmt::format(
      "------------[ cut here ]------------\n{}\n"
      "task: {} ({})  kernel: {}\n"
      "Call Trace:\n{}{}",
      title, me, k.sim->task_name(me), describe_config(k.cfg), call_chain(me), body);
}

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(FAULTLINE_ASAN)
#define FAULTLINE_OOPS_HANDLER 1

// What the fault handler saw, for the code that reports it after the handler.
struct PendingFault {
  uintptr_t addr = 0;
  uintptr_t ip = 0;
  bool stack_overflow = false;
};
thread_local PendingFault t_fault;
struct sigaction g_previous_segv;

// Runs on the faulting task's stack once the handler has returned (a normal
// context, where reporting may allocate), and leaves the task for good.
[[noreturn]] void report_fault() {
  const PendingFault f = t_fault;
  const char* fn = innermost_function(kernel().sim->current());
  const char* what = f.stack_overflow ? "stack-overflow" : f.addr < 4096 ? "NULL" : "bad-address";
  const std::string title =
      f.stack_overflow ? fmt::format("BUG: stack guard page was hit at {:#018x} (kernel stack overflow)", f.addr)
      : f.addr < 4096  ? fmt::format("BUG: unable to handle kernel NULL pointer dereference at {:#018x}", f.addr)
                       : fmt::format("BUG: unable to handle kernel paging request at {:#018x}", f.addr);
  std::string report = oops_report(
      title, fmt::format("IP: {:#x}, in model code under {} (a SIGSEGV of faultline itself, caught)\n", f.ip, fn));
  kernel().sim->abandon(sim::StopKind::Violation, std::move(report), fmt::format("oops:{}:{}", fn, what));
}

#if defined(__x86_64__)
uintptr_t& fault_sp(ucontext_t* uc) { return reinterpret_cast<uintptr_t&>(uc->uc_mcontext.gregs[REG_RSP]); }
uintptr_t& fault_ip(ucontext_t* uc) { return reinterpret_cast<uintptr_t&>(uc->uc_mcontext.gregs[REG_RIP]); }
#elif defined(__aarch64__)
uintptr_t& fault_sp(ucontext_t* uc) { return reinterpret_cast<uintptr_t&>(uc->uc_mcontext.sp); }
uintptr_t& fault_ip(ucontext_t* uc) { return reinterpret_cast<uintptr_t&>(uc->uc_mcontext.pc); }
#endif

void on_segv(int, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  sim::Sim* s = sim::running_sim();
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  const sim::Sim::StackRange stack = s ? s->task_stack() : sim::Sim::StackRange{};
  if (!stack.holds(fault_sp(uc))) {
    // Not model code: the fault goes to whoever handled it before (libFuzzer,
    // the default action) when the instruction runs again.
    sigaction(SIGSEGV, &g_previous_segv, nullptr);
    return;
  }
  t_fault = {addr, fault_ip(uc), stack.in_guard(addr)};
  // Return into report_fault at the top of the task's stack, as if called:
  // the task's frames below are abandoned, never resumed.
  fault_sp(uc) = (stack.top & ~uintptr_t(15)) - sizeof(void*);
  fault_ip(uc) = reinterpret_cast<uintptr_t>(&report_fault);
}
#endif

}  // namespace

void oops(std::string title, std::string body, std::string signature) {
  kernel().sim->halt(sim::StopKind::Violation, oops_report(title, body), std::move(signature));
}

void install_oops_handler() {
#ifdef FAULTLINE_OOPS_HANDLER
  thread_local bool has_altstack = false;
  if (!has_altstack) {
    has_altstack = true;
    stack_t current{};
    if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
      static thread_local std::array<char, 64 * 1024> altstack;
      stack_t ss{};
      ss.ss_sp = altstack.data();
      ss.ss_size = altstack.size();
      sigaltstack(&ss, nullptr);
    }
  }
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_previous_segv);
  });
#endif
}

void bad_dereference(const char* field, const char* freed_object) {
  const char* fn = innermost_function(kernel().sim->current());
  if (freed_object)
    oops(fmt::format("BUG: {} used after it was freed ({})", freed_object, field),
         fmt::format("{} read {} of a {} that is free\n", fn, field, freed_object),
         fmt::format("oops:{}:freed-{}", fn, freed_object));
  oops(fmt::format("BUG: unable to handle kernel NULL pointer dereference ({})", field),
       fmt::format("{} dereferenced {}, which is NULL\n", fn, field), fmt::format("oops:{}:{}", fn, field));
}

void kernel_bug(sim::Label where, const char* what, const char* cond, const page* p) {
  std::string body = fmt::format("BUG_ON({})\n", cond);
  if (p) body += describe_page(p) + "\n";
  oops(fmt::format("kernel BUG at {}: {}", where.name, what), std::move(body), fmt::format("BUG:{}", where.name));
}

}  // namespace faultline::mm
