// Running a schedule's syscalls on the Linux kernel this process runs on, one
// after another, with the model's units scaled to the host's.
//
// Scaling: one model page (16 bytes) is one host page, and each model byte is
// kScale = host page size / 16 host bytes holding the same value. An offset o
// is o * kScale: it keeps its page and its place in it, so the tail of a
// partial page stays a tail. Bytes read back are scaled down by taking one
// byte of each group of kScale; a group whose bytes differ is reported.
//
// Files: REGULAR files are unnamed (O_TMPFILE) files in the host directory,
// SHMEM files are memfds; nothing is ever linked into a directory, so a
// crash leaves no file behind. Mappings go to MAP_FIXED addresses in a
// region of the address space checked to be free, one gigabyte per model
// process; every model address range stays inside its process's gigabyte.
// The model's s_maxbytes becomes RLIMIT_FSIZE for the run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmcore/run.h"
#include "vmcore/schedule/schedule.pb.h"

namespace faultline::host {

// The host side: where REGULAR files go and what that filesystem can do.
struct HostEnv {
  std::filesystem::path dir;
  std::string fs_type;     // "ext4", "tmpfs", ... (statfs)
  uint32_t dio_align = 0;  // O_DIRECT offset and length alignment (statx); 0: no O_DIRECT
  uint64_t scale = 0;      // host bytes per model byte
  std::string kernel;      // uname release
};

// Probes DIR (which must exist and be a directory); nullopt and *error otherwise.
std::optional<HostEnv> probe_env(const std::filesystem::path& dir, std::string* error);

// One syscall instance in the order the host runs it (a repeating task's
// syscalls appear once per round).
struct HostCall {
  uint32_t task = 0;
  uint32_t index = 0;
  int64_t model_ret = 0;  // what the model's syscall returned in this round
};

// How the host runs one syscall: not at all, taking a result instead (no host
// equivalent, or an old kernel's call that had no effect), or as an old
// kernel did it, with a side effect the host's kernel no longer has.
struct HostDirective {
  std::optional<SyscallResult> take;
  // How an old kernel copied to or from a user buffer, a page at a time:
  // "fault_in_pages_writeable" (read: a zero stored into the first and last
  // byte of each page's destination first) or "fault_in_pages_readable"
  // (write: each page's source touched first, the write stopping where that
  // faults). Empty: as the host's kernel does.
  std::string emulation;
};
using DirectiveFor = std::function<HostDirective(const HostCall&)>;

struct HostRun {
  // Per task, per syscall: the latest result (nullopt: never ran).
  std::vector<std::vector<std::optional<SyscallResult>>> results;
  // Per task, per syscall: the host did not run it and took the directive's result.
  std::vector<std::vector<bool>> taken;
  // Per task, per syscall: what did not scale back to model bytes ("" if all did).
  std::vector<std::vector<std::string>> granularity;
  // Setting up failed on the host (files, mappings): what failed.
  std::string error;
  // A syscall after which the runs cannot be compared: a read() or write()
  // whose user buffer maps bytes of the very range it copies, where the
  // copy's order decides the bytes (the model copies the buffer in one go;
  // a user buffer's bytes are not followed); a store beyond EOF into the last
  // page, which the host's kernel zeroes when the file grows and the model's
  // kernels keep.
  std::string unfollowed;
};

// Runs the calls in order. Assumes a valid schedule that host_refusal() accepts.
HostRun run_on_host(const Schedule& s, std::span<const HostCall> order, const HostEnv& env,
                    const DirectiveFor& directive);

}  // namespace faultline::host
