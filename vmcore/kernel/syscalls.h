// The system calls a simulated task issues, as compact values built from the
// schedule, and the task body that runs them in order.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "vmcore/kernel/kernel.h"

namespace faultline::mm {

enum class OpKind : uint8_t {
  Mmap,
  Munmap,
  Load,
  Store,
  Read,
  Write,
  Ftruncate,
  DirectWrite,
  Revalidate,
  Madvise,
  Fadvise,
  Fsync,
  Fallocate,
  Msync,
  Stat,
};

const char* op_name(OpKind k);

struct Op {
  OpKind kind = OpKind::Load;
  uint32_t file = 0;
  uint64_t addr = 0;    // mmap/munmap/load/store/madvise address
  uint64_t offset = 0;  // file offset; ftruncate: the new size
  uint64_t len = 0;
  uint8_t value = 0;
  bool shared = false;
  bool writable = false;
  bool has_buf = false;  // read/write through a user buffer at `buf`
  uint64_t buf = 0;
  int advice = 0;
  uint32_t flags = 0;  // fallocate mode, msync flags
};

// Results: >= 0 bytes (or 0), -errno, or a signal as kSignalBase - signo.
inline constexpr int64_t kSignalBase = -1000;
inline constexpr int64_t signal_result(int sig) { return kSignalBase - sig; }
std::string result_name(int64_t ret);

inline constexpr uint32_t kMaxOpBytes = uint32_t(kMaxFileBytes);

// What a system call returned: the result and, for load and read, the bytes.
struct OpOutput {
  int64_t ret = 0;
  uint32_t ndata = 0;
  uint8_t data[kMaxOpBytes];
};

struct UserTask {
  sim::TaskId id = 0;
  mm_struct* mm = nullptr;
  std::span<const Op> ops;
  OpOutput* out = nullptr;  // one per op (a repeating task's last round)
  uint32_t repeat = 0;      // runs the ops 1 + repeat times
};

// The body of a simulated user task.
void user_task_main(void* arg);
// Runs one system call in the current task (also used to set up mappings).
void do_syscall(const Op& op, OpOutput* out);

}  // namespace faultline::mm
