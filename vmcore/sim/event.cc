#include "vmcore/sim/event.h"

#include <fmt/format.h>

namespace faultline::sim {

const char* obj_kind_name(ObjKind k) {
  switch (k) {
    case ObjKind::None: return "none";
    case ObjKind::ISize: return "i_size";
    case ObjKind::TruncateCount: return "truncate_count";
    case ObjKind::CacheSlot: return "page_tree";
    case ObjKind::PageFlags: return "page->flags";
    case ObjKind::PageMapping: return "page->mapping";
    case ObjKind::PageMapcount: return "page->_mapcount";
    case ObjKind::PageData: return "page data";
    case ObjKind::Pte: return "pte";
    case ObjKind::Disk: return "disk";
    case ObjKind::IoQueue: return "io queue";
    case ObjKind::ShmemInfo: return "shmem info";
    case ObjKind::NrPages: return "nrpages";
    case ObjKind::IMmap: return "i_mmap";
    case ObjKind::IMutex: return "i_mutex";
    case ObjKind::IAllocSem: return "i_alloc_sem";
    case ObjKind::MmapSem: return "mmap_sem";
    case ObjKind::PageLock: return "page lock";
    case ObjKind::IMmapLock: return "i_mmap_lock";
    case ObjKind::Ptl: return "page_table_lock";
    case ObjKind::TreeLock: return "tree_lock";
    case ObjKind::InfoLock: return "info->lock";
    case ObjKind::Writeback: return "PG_writeback";
    case ObjKind::TestLock: return "lock";
    case ObjKind::IMmapSem: return "i_mmap_sem";
    case ObjKind::InvalidateLock: return "invalidate_lock";
    case ObjKind::ILock: return "i_lock";
    case ObjKind::FallocWaitq: return "shmem_falloc_waitq";
  }
  return "?";
}

std::string describe(Obj o) {
  switch (o.kind) {
    case ObjKind::None: return "-";
    case ObjKind::CacheSlot: return fmt::format("page_tree[file{}:{}]", o.a, o.b);
    case ObjKind::Disk: return fmt::format("disk[file{}:{}]", o.a, o.b);
    case ObjKind::Pte: return fmt::format("pte[mm{}:{:#x}]", o.a, uint64_t(o.b) << 4);
    case ObjKind::PageFlags:
    case ObjKind::PageMapping:
    case ObjKind::PageMapcount:
    case ObjKind::PageData:
    case ObjKind::PageLock:
    case ObjKind::Writeback: return fmt::format("{} of frame {}", obj_kind_name(o.kind), o.b);
    case ObjKind::MmapSem:
    case ObjKind::Ptl: return fmt::format("{} of mm{}", obj_kind_name(o.kind), o.a);
    case ObjKind::IoQueue: return o.a ? "pdflush work" : "I/O queue";
    case ObjKind::TestLock: return fmt::format("lock {}.{}", o.a, o.b);
    default: return fmt::format("{} of file{}", obj_kind_name(o.kind), o.a);
  }
}

const char* event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::Point: return "point";
    case EventKind::Acquire: return "acquire";
    case EventKind::Acquired: return "acquired";
    case EventKind::Release: return "release";
    case EventKind::Block: return "block";
    case EventKind::Wake: return "wake";
    case EventKind::SyscallBegin: return "syscall";
    case EventKind::SyscallEnd: return "syscall-end";
    case EventKind::TaskExit: return "exit";
    case EventKind::Violation: return "violation";
    case EventKind::FuncEnter: return "enter";
    case EventKind::FuncExit: return "exit-fn";
    case EventKind::Access: return "access";
    case EventKind::Retry: return "retry";
  }
  return "?";
}

uint64_t hash_event(uint64_t h, const Event& e) {
  if (e.kind == EventKind::FuncEnter || e.kind == EventKind::FuncExit) return h;  // optional events
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  };
  mix(e.step);
  mix((uint64_t(e.task) << 24) | (uint64_t(e.kind) << 16) | (uint64_t(e.access) << 8) | e.other);
  mix(e.label.id);
  mix(e.obj.bits());
  mix(uint64_t(e.arg));
  return h;
}

}  // namespace faultline::sim
