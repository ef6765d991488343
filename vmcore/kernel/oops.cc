#include "vmcore/kernel/oops.h"

#include <fmt/format.h>

#include "vmcore/mm/mm.h"

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
  return fmt::format("page: frame {} index {} mapping {} _count {} _mapcount {} flags {}", p->frame, p->index.v,
                     mapping, p->_count, p->_mapcount, flags.empty() ? "0" : flags);
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

void oops(std::string title, std::string body, std::string signature) {
  Kernel& k = kernel();
  const sim::TaskId me = k.sim->current();
  std::string report = fmt::format(
      "------------[ cut here ]------------\n{}\n"
      "task: {} ({})  kernel: {}\n"
      "Call Trace:\n{}{}",
      title, me, k.sim->task_name(me), describe_config(k.cfg), call_chain(me), body);
  k.sim->halt(sim::StopKind::Violation, std::move(report), std::move(signature));
}

void kernel_bug(sim::Label where, const char* what, const char* cond, const page* p) {
  std::string body = fmt::format("BUG_ON({})\n", cond);
  if (p) body += describe_page(p) + "\n";
  oops(fmt::format("kernel BUG at {}: {}", where.name, what), std::move(body), fmt::format("BUG:{}", where.name));
}

}  // namespace faultline::mm
