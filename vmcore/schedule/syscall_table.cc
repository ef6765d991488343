#include "vmcore/schedule/syscall_table.h"

#include <array>

#include "vmcore/mm/mm.h"

namespace faultline {

namespace {

using mm::Op;
using mm::OpKind;
using R = FieldRole;

// A field `f` of the call `c` (the oneof member and its message's accessors).
#define FL_FIELD(c, f, role, shrink)                                                                                   \
  SyscallField {                                                                                                       \
#f, role, shrink,                                                                                                  \
        [](const Syscall& s)                                                                                           \
             -> uint64_t { return uint64_t(s.c().f()); },                                                              \
                                                       [](Syscall & s,                                                 \
                                                          uint64_t                                                     \
                                                              v) { s.mutable_##c()->set_##f(decltype(s.c().f())(v)); } \
  }
#define FL_OPTIONAL(c, f, role)                                                                              \
  SyscallField {                                                                                             \
#f, role, false, [](const Syscall& s) -> uint64_t { return s.c().f(); },                                   \
        [](Syscall& s, uint64_t v) { s.mutable_##c()->set_##f(v); }, [](const Syscall& s) { return s.c().has_##f(); }, \
        [](Syscall& s) { s.mutable_##c()->clear_##f(); } \
  }
#define FL_ENUM(c, f, message, type)                                                                  \
  SyscallField {                                                                                      \
#f, R::Enum, false, [](const Syscall& s) -> uint64_t { return uint64_t(s.c().f()); },               \
        [](Syscall& s, uint64_t v) { s.mutable_##c()->set_##f(message::type(v)); }, nullptr, nullptr,   \
        [](uint64_t v) { return v <= uint64_t(INT32_MAX) && message::type##_IsValid(int(v)); },         \
        uint64_t(message::type##_MAX) \
  }

template <class M>
bool known(const M& m) {
  // Each type's reflection is looked up once: the look-up costs more than
  // the rest of validation.
  static const google::protobuf::Reflection* const reflection = M::GetReflection();
  return reflection->GetUnknownFields(m).empty();
}
#define FL_KNOWN(c) [](const Syscall& s) { return known(s.c()); }

const SyscallField kMmap[] = {
    FL_FIELD(mmap, file, R::File, false),     FL_FIELD(mmap, addr, R::MapAddr, false),
    FL_FIELD(mmap, length, R::MapLen, false), FL_FIELD(mmap, offset, R::MapOffset, false),
    FL_FIELD(mmap, shared, R::Flag, false),   FL_FIELD(mmap, writable, R::Flag, false),
};
const SyscallField kMunmap[] = {FL_FIELD(munmap, addr, R::PageAddr, false),
                                FL_FIELD(munmap, length, R::RangeLen, false)};
const SyscallField kLoad[] = {FL_FIELD(load, addr, R::Addr, false), FL_FIELD(load, len, R::Len, true)};
const SyscallField kStore[] = {FL_FIELD(store, addr, R::Addr, false), FL_FIELD(store, len, R::Len, true),
                               FL_FIELD(store, value, R::Value, false)};
const SyscallField kRead[] = {FL_FIELD(read, file, R::File, false), FL_FIELD(read, offset, R::Offset, true),
                              FL_FIELD(read, len, R::Len, true), FL_OPTIONAL(read, buf, R::Addr)};
const SyscallField kWrite[] = {FL_FIELD(write, file, R::File, false), FL_FIELD(write, offset, R::Offset, true),
                               FL_FIELD(write, len, R::Len, true), FL_FIELD(write, value, R::Value, false),
                               FL_OPTIONAL(write, buf, R::Addr)};
const SyscallField kFtruncate[] = {FL_FIELD(ftruncate, file, R::File, false),
                                   FL_FIELD(ftruncate, size, R::Offset, true)};
const SyscallField kDirectWrite[] = {
    FL_FIELD(direct_write, file, R::File, false), FL_FIELD(direct_write, offset, R::Offset, true),
    FL_FIELD(direct_write, len, R::Len, true), FL_FIELD(direct_write, value, R::Value, false)};
const SyscallField kRevalidate[] = {FL_FIELD(revalidate, file, R::File, false)};
const SyscallField kMadvise[] = {FL_FIELD(madvise, addr, R::PageAddr, false),
                                 FL_FIELD(madvise, length, R::RangeLen, true),
                                 FL_ENUM(madvise, advice, Madvise, Advice)};
const SyscallField kFadvise[] = {FL_FIELD(fadvise, file, R::File, false), FL_FIELD(fadvise, offset, R::Offset, true),
                                 FL_FIELD(fadvise, len, R::AdviceLen, true)};
const SyscallField kFsync[] = {FL_FIELD(fsync, file, R::File, false)};
const SyscallField kFallocate[] = {FL_FIELD(fallocate, file, R::File, false), FL_FIELD(fallocate, mode, R::Mode, false),
                                   FL_FIELD(fallocate, offset, R::Offset, true),
                                   FL_FIELD(fallocate, len, R::Len, true)};
const SyscallField kMsync[] = {FL_FIELD(msync, addr, R::PageAddr, false), FL_FIELD(msync, length, R::RangeLen, true),
                               FL_FIELD(msync, flags, R::MsyncFlags, false)};
const SyscallField kStat[] = {FL_FIELD(stat, file, R::File, false)};

const SyscallKind kKinds[] = {
    {Syscall::kMmap, "mmap", 1, kMmap, FL_KNOWN(mmap),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Mmap,
                 .file = c.mmap().file(),
                 .addr = c.mmap().addr(),
                 .offset = c.mmap().offset(),
                 .len = c.mmap().length(),
                 .shared = c.mmap().shared(),
                 .writable = c.mmap().writable()};
     }},
    {Syscall::kMunmap, "munmap", 1, kMunmap, FL_KNOWN(munmap),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Munmap, .addr = c.munmap().addr(), .len = c.munmap().length()};
     }},
    {Syscall::kLoad, "load", 10, kLoad, FL_KNOWN(load),
     [](const Syscall& c) { return Op{.kind = OpKind::Load, .addr = c.load().addr(), .len = c.load().len()}; }},
    {Syscall::kStore, "store", 10, kStore, FL_KNOWN(store),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Store,
                 .addr = c.store().addr(),
                 .len = c.store().len(),
                 .value = uint8_t(c.store().value())};
     }},
    {Syscall::kRead, "read", 6, kRead, FL_KNOWN(read),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Read,
                 .file = c.read().file(),
                 .offset = c.read().offset(),
                 .len = c.read().len(),
                 .has_buf = c.read().has_buf(),
                 .buf = c.read().buf()};
     }},
    {Syscall::kWrite, "write", 6, kWrite, FL_KNOWN(write),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Write,
                 .file = c.write().file(),
                 .offset = c.write().offset(),
                 .len = c.write().len(),
                 .value = uint8_t(c.write().value()),
                 .has_buf = c.write().has_buf(),
                 .buf = c.write().buf()};
     }},
    {Syscall::kFtruncate, "ftruncate", 4, kFtruncate, FL_KNOWN(ftruncate),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Ftruncate, .file = c.ftruncate().file(), .offset = c.ftruncate().size()};
     }},
    {Syscall::kDirectWrite, "direct_write", 4, kDirectWrite, FL_KNOWN(direct_write),
     [](const Syscall& c) {
       return Op{.kind = OpKind::DirectWrite,
                 .file = c.direct_write().file(),
                 .offset = c.direct_write().offset(),
                 .len = c.direct_write().len(),
                 .value = uint8_t(c.direct_write().value())};
     }},
    {Syscall::kRevalidate, "revalidate", 2, kRevalidate, FL_KNOWN(revalidate),
     [](const Syscall& c) { return Op{.kind = OpKind::Revalidate, .file = c.revalidate().file()}; }},
    {Syscall::kMadvise, "madvise", 4, kMadvise, FL_KNOWN(madvise),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Madvise,
                 .addr = c.madvise().addr(),
                 .len = c.madvise().length(),
                 .advice = c.madvise().advice() == Madvise::REMOVE ? mm::MADV_REMOVE : mm::MADV_DONTNEED};
     }},
    {Syscall::kFadvise, "fadvise", 2, kFadvise, FL_KNOWN(fadvise),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Fadvise,
                 .file = c.fadvise().file(),
                 .offset = c.fadvise().offset(),
                 .len = c.fadvise().len()};
     }},
    {Syscall::kFsync, "fsync", 2, kFsync, FL_KNOWN(fsync),
     [](const Syscall& c) { return Op{.kind = OpKind::Fsync, .file = c.fsync().file()}; }},
    {Syscall::kFallocate, "fallocate", 4, kFallocate, FL_KNOWN(fallocate),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Fallocate, .file = c.fallocate().file(), .offset = c.fallocate().offset(),
                 .len = c.fallocate().len(), .flags = c.fallocate().mode()};
     }},
    {Syscall::kMsync, "msync", 1, kMsync, FL_KNOWN(msync),
     [](const Syscall& c) {
       return Op{.kind = OpKind::Msync, .addr = c.msync().addr(), .len = c.msync().length(),
                 .flags = c.msync().flags()};
     }},
    {Syscall::kStat, "stat", 1, kStat, FL_KNOWN(stat),
     [](const Syscall& c) { return Op{.kind = OpKind::Stat, .file = c.stat().file()}; }},
};

// The kinds by oneof field number, for the hot paths (validation, the run).
const std::array<const SyscallKind*, 64> kByCase = [] {
  std::array<const SyscallKind*, 64> by{};
  for (const SyscallKind& k : kKinds) by[size_t(k.call)] = &k;
  return by;
}();

}  // namespace

std::span<const SyscallKind> syscall_kinds() { return kKinds; }

const SyscallKind* syscall_kind(const Syscall& c) {
  const auto n = size_t(c.call_case());
  return n < kByCase.size() ? kByCase[n] : nullptr;
}

}  // namespace faultline
