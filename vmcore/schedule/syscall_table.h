// The syscalls of schedule.proto as data: for each, its fields and what each
// field holds. The mutator draws and changes arguments by it, the minimizer
// shrinks numbers by it, validation bounds them by it, and the run turns a
// Syscall into the kernel's Op by it. A new syscall or field is one entry
// here (and its kernel code); tests check the table against the descriptor.
#pragma once

#include <cstdint>
#include <span>

#include "vmcore/kernel/syscalls.h"
#include "vmcore/schedule/schedule.pb.h"

namespace faultline {

// What a field holds: how the mutator draws it and how validation bounds it.
enum class FieldRole : uint8_t {
  File,       // an index into Schedule.files
  Addr,       // a user address, in or beside the process's mappings
  PageAddr,   // the same, page aligned
  MapAddr,    // where a new mapping goes (page aligned)
  Offset,     // a byte offset in the syscall's file, around its size
  MapOffset,  // a mapping's file offset (page aligned, small)
  Len,        // the bytes of one transfer (at most mm::kMaxOpBytes)
  RangeLen,   // an address range in bytes (a page or a few)
  MapLen,     // a mapping's length in bytes
  AdviceLen,  // a file range of fadvise: 0 (to the end) or a few bytes
  Mode,       // fallocate's mode bits (FALLOC_FL_*)
  MsyncFlags, // msync's flags (MS_*)
  Value,      // a byte value
  Flag,       // a bool
  Enum,       // an enum of the message
};

struct SyscallField {
  const char* name;  // the field's name in schedule.proto
  FieldRole role;
  bool shrink;  // the minimizer tries smaller values
  uint64_t (*get)(const Syscall& c);
  void (*set)(Syscall& c, uint64_t v);
  // proto3 `optional` fields: whether it is set, and unsetting it.
  bool (*has)(const Syscall& c) = nullptr;
  void (*clear)(Syscall& c) = nullptr;
  // Enum fields: whether v names a value, and the largest value.
  bool (*valid)(uint64_t v) = nullptr;
  uint64_t max = 0;
};

struct SyscallKind {
  Syscall::CallCase call;
  const char* name;  // the oneof field's name
  uint32_t weight;   // how often the mutator draws it
  std::span<const SyscallField> fields;
  // The call's message has no fields this build does not know.
  bool (*known)(const Syscall& c);
  // The kernel's value of the call.
  mm::Op (*to_op)(const Syscall& c);
};

std::span<const SyscallKind> syscall_kinds();
// The kind of c's call, or nullptr if none is set.
const SyscallKind* syscall_kind(const Syscall& c);

}  // namespace faultline
