// What a schedule point is about: a label, the object it touches, the access,
// and the event record the runtime keeps for traces, hashing and coverage.
#pragma once

#include <cstdint>
#include <string>

namespace faultline::sim {

using TaskId = uint8_t;
inline constexpr int kMaxTasks = 16;
inline constexpr TaskId kNoTask = 0xff;
using TaskSet = uint32_t;  // bit i: task i

constexpr TaskSet task_bit(TaskId t) { return TaskSet{1} << t; }

constexpr uint32_t fnv1a32(const char* s) {
  uint32_t h = 2166136261u;
  while (*s) {
    h ^= static_cast<uint8_t>(*s++);
    h *= 16777619u;
  }
  return h;
}

// "kernel_function:spot". The id is a hash of the text, so it is the same in
// every build and on every machine; recorded schedules and coverage use it.
struct Label {
  const char* name = "";
  uint32_t id = 0;
  constexpr Label() = default;
  consteval Label(const char* n) : name(n), id(fnv1a32(n)) {}
};

enum class Access : uint8_t { None, Read, Write };

// Objects are named by stable numbers (file, page index, frame, mm), never by
// address, so traces are identical from run to run.
enum class ObjKind : uint8_t {
  None,
  // state read or written locklessly
  ISize,          // a = file
  TruncateCount,  // a = file
  CacheSlot,      // a = file, b = pgoff: the page-cache lookup result
  PageFlags,      // b = frame
  PageMapping,    // b = frame: page->mapping / page->index
  PageMapcount,   // b = frame
  PageData,       // b = frame
  Pte,            // a = mm, b = virtual page number
  Disk,           // a = file, b = pgoff
  IoQueue,        // a = queue number
  ShmemInfo,      // a = file: info->flags, next_index
  NrPages,        // a = file: mapping->nrpages
  IMmap,          // a = file: whether the file is mapped (i_mmap non-empty)
  // locks
  IMutex,     // a = file
  IAllocSem,  // a = file
  MmapSem,    // a = mm
  PageLock,   // b = frame
  IMmapLock,  // a = file
  Ptl,        // a = mm
  TreeLock,   // a = file
  InfoLock,   // a = file (shmem info->lock)
  Writeback,  // b = frame (PG_writeback waiters)
  TestLock,   // a, b: locks made by tests and benchmarks
  // 3.x to 5.x (appended: the values above stay as they were)
  IMmapSem,        // a = file: ext4's i_mmap_sem (4.5)
  InvalidateLock,  // a = file: mapping->invalidate_lock (5.15)
  ILock,           // a = file: inode->i_lock (guards i_private)
  FallocWaitq,     // a = file: the hole punch's wait queue (shmem_falloc, 3.16)
};

struct Obj {
  ObjKind kind = ObjKind::None;
  uint32_t a = 0;
  uint32_t b = 0;
  constexpr uint64_t bits() const { return (uint64_t(kind) << 56) | (uint64_t(a & 0xffffff) << 32) | b; }
  friend constexpr bool operator==(const Obj&, const Obj&) = default;
};

const char* obj_kind_name(ObjKind k);
std::string describe(Obj o);

enum class EventKind : uint8_t {
  Point,         // a schedule point: lockless access or explicit spot
  Acquire,       // about to take a lock (schedule point)
  Acquired,      // the lock was taken (other = previous holder, or kNoTask)
  Release,       // a lock release (schedule point)
  Block,         // the task went to sleep on obj
  Wake,          // the task was woken (task = woken, other = waker)
  SyscallBegin,  // arg = syscall index in the task
  SyscallEnd,    // arg = result
  TaskExit,
  Violation,
  FuncEnter,  // a kernel function was entered (label = function)
  FuncExit,
  Access,  // an access under a lock: not a schedule point
  Retry,   // a retry edge was taken (arg = count in this syscall)
};

const char* event_kind_name(EventKind k);

// The events that open a step: each is a schedule point, where the strategy
// chooses who runs next (one per step; the start of the run has none).
constexpr bool is_schedule_point(EventKind k) {
  switch (k) {
    case EventKind::Point:
    case EventKind::Acquire:
    case EventKind::Release:
    case EventKind::SyscallBegin:
    case EventKind::Block:
    case EventKind::TaskExit: return true;
    default: return false;
  }
}

struct Event {
  uint32_t step = 0;  // schedule point count when the event happened
  TaskId task = kNoTask;
  EventKind kind = EventKind::Point;
  Access access = Access::None;
  TaskId other = kNoTask;
  Label label;
  Obj obj;
  int64_t arg = 0;
};

// Mixes an event into a 64-bit trace hash. Only stable fields take part.
uint64_t hash_event(uint64_t h, const Event& e);
inline constexpr uint64_t kTraceHashSeed = 0xcbf29ce484222325ull;

}  // namespace faultline::sim
