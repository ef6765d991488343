// The running kernel: every piece of per-run state in one object, built fresh
// for each run in the run's arena. Model code reaches it as the kernel reaches
// its globals (kernel().cfg, current task), so kernel signatures stay intact.
#pragma once

#include <array>
#include <cstdint>

#include "vmcore/kernel/trace.h"
#include "vmcore/mm/kernel_config.h"
#include "vmcore/mm/types.h"
#include "vmcore/sim/locks.h"

namespace faultline {

namespace checks {
struct Checks;
}

namespace mm {

enum class FaultKind : uint8_t { ReadpageEio, AllocFail, PageMkwriteFail, WritepageEio, FolioSplitFail, Count };

// Injected faults: the nth..nth+count-1 calls of a kind fail.
struct FaultInjector {
  struct Rule {
    FaultKind kind;
    uint32_t first;
    uint32_t count;
  };
  std::array<Rule, 16> rules{};
  uint32_t nrules = 0;
  std::array<uint32_t, size_t(FaultKind::Count)> calls{};

  bool should_fail(FaultKind k);
};

// A block I/O request: completed later by the I/O completion task.
struct IoRequest {
  page* pg = nullptr;
  inode* host = nullptr;
  uint32_t block = kNoBlock;  // the block the page's buffer maps (a hole reads as zeros)
  bool write = false;
  bool error = false;
  loff_t isize = 0;  // i_size when submitted: the part of the page beyond it reads as zero
};

// What the kernel's task_struct holds that the model needs.
struct TaskState {
  mm_struct* mm = nullptr;
  std::array<const char*, 24> callchain{};
  uint8_t depth = 0;
  int pagefault_disabled = 0;
};

struct EraOps;

struct Kernel {
  KernelConfig cfg;
  const EraOps* era = nullptr;  // era_ops(cfg.era)
  sim::Sim* sim = nullptr;
  Tracer* tracer = nullptr;  // never null during a run
  // The checkers of the syscall layer; kernel code tells them what happened
  // only through tracer().
  checks::Checks* checks = nullptr;

  std::array<page, kMaxFrames> frames;
  uint32_t free_head = 0;
  uint32_t nr_free = 0;

  std::array<inode, kMaxFiles> inodes;
  uint32_t nfiles = 0;
  std::array<mm_struct, kMaxProcesses> mms;
  uint32_t nmms = 0;
  std::array<TaskState, sim::kMaxTasks> tasks;

  // Block layer: requests complete in submission order on the I/O task.
  std::array<IoRequest, kMaxIoRequests> io;
  uint32_t io_head = 0;
  uint32_t io_tail = 0;
  sim::EventQueue io_wait{sim::Obj{sim::ObjKind::IoQueue, 0, 0}};
  // Background writeback (pdflush): kicked when a page becomes dirty.
  bool pdflush_kicked = false;
  sim::EventQueue pdflush_wait{sim::Obj{sim::ObjKind::IoQueue, 1, 0}};

  block_device bdev;

  FaultInjector faults;
  // Bumped whenever a pte or the page cache changes: the step checks run then.
  uint64_t state_gen = 1;
};

// The kernel of the run on this thread (every fiber of a run shares it).
inline constinit thread_local Kernel* t_kernel = nullptr;
inline Kernel& kernel() { return *t_kernel; }
inline void set_kernel(Kernel* k) { t_kernel = k; }
inline const KernelConfig& cfg() { return kernel().cfg; }
inline sim::Sim& sim() { return *kernel().sim; }
inline TaskState& current() { return kernel().tasks[kernel().sim->current()]; }
inline Tracer& tracer() { return *kernel().tracer; }

// Marks a kernel function on the current task's call chain (for oops reports
// and trace slices). Not a schedule point.
class KFunc {
 public:
  explicit KFunc(sim::Label fn);
  ~KFunc();
  KFunc(const KFunc&) = delete;
  KFunc& operator=(const KFunc&) = delete;

 private:
  sim::Label fn_;
};

#define KFUNC_CAT2(a, b) a##b
#define KFUNC_CAT(a, b) KFUNC_CAT2(a, b)
// (Direct initialisation: clang 14 crashes on explicit Label{"..."} casts.)
#define KFUNC(name) ::faultline::mm::KFunc KFUNC_CAT(kfunc_, __LINE__)(name)

// Objects of schedule points.
inline sim::Obj obj_isize(const inode* i) { return {sim::ObjKind::ISize, i->i_ino, 0}; }
inline sim::Obj obj_truncate_count(const address_space* m) { return {sim::ObjKind::TruncateCount, m->id, 0}; }
inline sim::Obj obj_cache_slot(const address_space* m, pgoff_t i) {
  return {sim::ObjKind::CacheSlot, m->id, uint32_t(i.v)};
}
inline sim::Obj obj_page_flags(const page* p) { return {sim::ObjKind::PageFlags, 0, p->frame}; }
inline sim::Obj obj_page_mapping(const page* p) { return {sim::ObjKind::PageMapping, 0, p->frame}; }
inline sim::Obj obj_mapcount(const page* p) { return {sim::ObjKind::PageMapcount, 0, p->frame}; }
inline sim::Obj obj_page_data(const page* p) { return {sim::ObjKind::PageData, 0, p->frame}; }
inline sim::Obj obj_pte(const mm_struct* mm, unsigned long address) {
  return {sim::ObjKind::Pte, mm->id, uint32_t(address >> PAGE_SHIFT)};
}
inline sim::Obj obj_disk(const inode* i, pgoff_t idx) { return {sim::ObjKind::Disk, i->i_ino, uint32_t(idx.v)}; }
inline sim::Obj obj_shmem_info(const inode* i) { return {sim::ObjKind::ShmemInfo, i->i_ino, 0}; }
inline sim::Obj obj_nrpages(const address_space* m) { return {sim::ObjKind::NrPages, m->id, 0}; }
inline sim::Obj obj_i_mmap(const address_space* m) { return {sim::ObjKind::IMmap, m->id, 0}; }

// Schedule points for lockless shared accesses, placed before the access.
inline void point_read(sim::Label l, sim::Obj o) { sim().point(l, o, sim::Access::Read); }
inline void point_write(sim::Label l, sim::Obj o) { sim().point(l, o, sim::Access::Write); }
// An explicit spot that touches nothing shared (a preemption opportunity).
inline void point_local(sim::Label l) { sim().point(l, sim::Obj{}, sim::Access::None); }

// The model changed a pte or the page cache: the state checks must look again.
inline void state_changed() { ++kernel().state_gen; }

}  // namespace mm
}  // namespace faultline
