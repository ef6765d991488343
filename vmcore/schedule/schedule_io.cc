#include "vmcore/schedule/schedule_io.h"

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "vmcore/kernel/syscalls.h"
#include "vmcore/mm/kernel_config.h"
#include "vmcore/mm/types.h"

namespace faultline {

namespace {

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (error.empty()) error = fmt::format("line {}, column {}: {}", line + 1, column + 1, message);
  }
  std::string error;
};

bool looks_like_text(std::string_view data) {
  for (unsigned char c : data)
    if (c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f) return false;
  return true;
}

std::optional<std::string> parse_text(std::string_view data, Schedule* out) {
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(std::string(data), out)) return std::nullopt;
  return errors.error.empty() ? std::string("not a text schedule") : errors.error;
}

}  // namespace

ParsedSchedule parse_schedule(std::string_view data, ScheduleFormat hint) {
  ParsedSchedule r;
  if (data.empty()) {
    r.error = "empty input";
    return r;
  }
  if (data.size() > kMaxScheduleBytes) {
    r.error = fmt::format("input too large: {} bytes (at most {})", data.size(), kMaxScheduleBytes);
    return r;
  }
  Schedule s;
  const bool text_first = hint == ScheduleFormat::Text || (hint == ScheduleFormat::Auto && looks_like_text(data));
  if (text_first) {
    auto err = parse_text(data, &s);
    if (!err) {
      r.schedule = std::move(s);
      r.format = ScheduleFormat::Text;
      return r;
    }
    if (hint == ScheduleFormat::Text) {
      r.error = "text schedule: " + *err;
      return r;
    }
    s.Clear();
    if (s.ParseFromArray(data.data(), int(data.size()))) {
      r.schedule = std::move(s);
      r.format = ScheduleFormat::Binary;
      return r;
    }
    r.error = "text schedule: " + *err;
    return r;
  }
  if (s.ParseFromArray(data.data(), int(data.size()))) {
    r.schedule = std::move(s);
    r.format = ScheduleFormat::Binary;
    return r;
  }
  r.error = "not a valid binary schedule (protobuf wire format) and not text";
  return r;
}

std::string to_text(const Schedule& s) {
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  printer.PrintToString(s, &out);
  return out;
}

std::string to_binary(const Schedule& s) {
  std::string out;
  s.SerializeToString(&out);
  return out;
}

namespace {

using L = ScheduleLimits;

struct Validator {
  const Schedule& s;
  std::optional<std::string> error;

  template <class... Args>
  bool fail(fmt::format_string<Args...> f, Args&&... args) {
    if (!error) error = fmt::format(f, std::forward<Args>(args)...);
    return false;
  }

  bool number(const std::string& field, uint64_t v, uint64_t max = L::kMaxNumber) {
    if (v > max) return fail("{}: {} is too large (at most {})", field, v, max);
    return true;
  }
  bool file_index(const std::string& field, uint32_t f) {
    if (f >= uint32_t(s.files_size()))
      return fail("{}: file {} does not exist ({} files)", field, f, s.files_size());
    return true;
  }
  bool page_aligned(const std::string& field, uint64_t v) {
    if (v % mm::PAGE_SIZE) return fail("{}: {} is not page aligned (PAGE_SIZE is {})", field, v, mm::PAGE_SIZE);
    return true;
  }

  bool kernel() {
    if (!mm::preset_config(s.kernel().preset()))
      return fail("kernel.preset: unknown preset \"{}\" (see `faultline kernels`)", s.kernel().preset());
    for (int i = 0; i < s.kernel().switches_size(); ++i)
      if (!mm::find_switch(s.kernel().switches(i).name()))
        return fail("kernel.switches[{}].name: unknown switch \"{}\"", i, s.kernel().switches(i).name());
    return true;
  }

  bool files() {
    if (uint32_t(s.files_size()) > mm::kMaxFiles) return fail("files: {} files, at most {}", s.files_size(), mm::kMaxFiles);
    for (int i = 0; i < s.files_size(); ++i) {
      const File& f = s.files(i);
      const std::string at = fmt::format("files[{}]", i);
      if (!File::Kind_IsValid(f.kind())) return fail("{}.kind: unknown kind {}", at, int(f.kind()));
      if (!number(at + ".size", f.size(), uint64_t(mm::kMaxFileBytes))) return false;
      const uint64_t pages = (f.size() + mm::PAGE_SIZE - 1) / mm::PAGE_SIZE;
      for (int j = 0; j < f.cached_pages_size(); ++j) {
        if (f.kind() == File::SHMEM) return fail("{}.cached_pages: tmpfs files are always in the page cache", at);
        if (f.cached_pages(j) >= pages)
          return fail("{}.cached_pages[{}]: page {} is beyond the file ({} pages)", at, j, f.cached_pages(j), pages);
      }
      if (f.has_ra_pages() && !number(at + ".ra_pages", f.ra_pages(), 16)) return false;
      if (f.page_mkwrite() && f.kind() != File::REGULAR)
        return fail("{}.page_mkwrite: only REGULAR files have ->page_mkwrite", at);
      if (f.launder_page() && f.kind() == File::SHMEM) return fail("{}.launder_page: tmpfs has no ->launder_page", at);
    }
    return true;
  }

  bool mmap(const std::string& at, const Mmap& m) {
    return file_index(at + ".file", m.file()) && number(at + ".addr", m.addr()) &&
           number(at + ".length", m.length()) && number(at + ".offset", m.offset());
  }

  bool processes() {
    if (uint32_t(s.processes_size()) > mm::kMaxProcesses)
      return fail("processes: {} processes, at most {}", s.processes_size(), mm::kMaxProcesses);
    for (int i = 0; i < s.processes_size(); ++i) {
      const Process& p = s.processes(i);
      if (uint32_t(p.mappings_size()) > mm::kMaxVmas)
        return fail("processes[{}].mappings: {} mappings, at most {}", i, p.mappings_size(), mm::kMaxVmas);
      for (int j = 0; j < p.mappings_size(); ++j) {
        const std::string at = fmt::format("processes[{}].mappings[{}]", i, j);
        const Mmap& m = p.mappings(j);
        if (!mmap(at, m) || !page_aligned(at + ".addr", m.addr()) || !page_aligned(at + ".offset", m.offset()))
          return false;
        if (m.length() == 0) return fail("{}.length: an empty mapping", at);
        if (m.addr() + m.length() > mm::TASK_SIZE)
          return fail("{}: [{:#x}, {:#x}) is beyond the address space ({:#x})", at, m.addr(), m.addr() + m.length(),
                      mm::TASK_SIZE);
      }
    }
    return true;
  }

  bool syscall(const std::string& at, const Syscall& c) {
    switch (c.call_case()) {
      case Syscall::kMmap: return mmap(at + ".mmap", c.mmap());
      case Syscall::kMunmap: return number(at + ".munmap.addr", c.munmap().addr()) &&
                                    number(at + ".munmap.length", c.munmap().length());
      case Syscall::kLoad: return number(at + ".load.addr", c.load().addr()) &&
                                  number(at + ".load.len", c.load().len(), mm::kMaxOpBytes);
      case Syscall::kStore: return number(at + ".store.addr", c.store().addr()) &&
                                   number(at + ".store.len", c.store().len(), mm::kMaxOpBytes) &&
                                   number(at + ".store.value", c.store().value(), 255);
      case Syscall::kRead: return file_index(at + ".read.file", c.read().file()) &&
                                  number(at + ".read.offset", c.read().offset()) &&
                                  number(at + ".read.len", c.read().len(), mm::kMaxOpBytes) &&
                                  number(at + ".read.buf", c.read().buf());
      case Syscall::kWrite: return file_index(at + ".write.file", c.write().file()) &&
                                   number(at + ".write.offset", c.write().offset()) &&
                                   number(at + ".write.len", c.write().len(), mm::kMaxOpBytes) &&
                                   number(at + ".write.value", c.write().value(), 255) &&
                                   number(at + ".write.buf", c.write().buf());
      case Syscall::kFtruncate: return file_index(at + ".ftruncate.file", c.ftruncate().file()) &&
                                       number(at + ".ftruncate.size", c.ftruncate().size());
      case Syscall::kDirectWrite: return file_index(at + ".direct_write.file", c.direct_write().file()) &&
                                         number(at + ".direct_write.offset", c.direct_write().offset()) &&
                                         number(at + ".direct_write.len", c.direct_write().len(), mm::kMaxOpBytes) &&
                                         number(at + ".direct_write.value", c.direct_write().value(), 255);
      case Syscall::kRevalidate: return file_index(at + ".revalidate.file", c.revalidate().file());
      case Syscall::kMadvise:
        if (!Madvise::Advice_IsValid(c.madvise().advice()))
          return fail("{}.madvise.advice: unknown advice {}", at, int(c.madvise().advice()));
        return number(at + ".madvise.addr", c.madvise().addr()) && number(at + ".madvise.length", c.madvise().length());
      case Syscall::kFadvise: return file_index(at + ".fadvise.file", c.fadvise().file()) &&
                                     number(at + ".fadvise.offset", c.fadvise().offset()) &&
                                     number(at + ".fadvise.len", c.fadvise().len());
      case Syscall::kFsync: return file_index(at + ".fsync.file", c.fsync().file());
      case Syscall::CALL_NOT_SET: return fail("{}: no system call set", at);
    }
    return fail("{}: unknown system call", at);
  }

  bool tasks() {
    if (uint32_t(s.tasks_size()) > L::kMaxUserTasks) return fail("tasks: {} tasks, at most {}", s.tasks_size(), L::kMaxUserTasks);
    uint32_t total = 0;
    for (int i = 0; i < s.tasks_size(); ++i) {
      const Task& t = s.tasks(i);
      if (t.process() >= uint32_t(s.processes_size()))
        return fail("tasks[{}].process: process {} does not exist ({} processes)", i, t.process(), s.processes_size());
      if (uint32_t(t.syscalls_size()) > L::kMaxSyscallsPerTask)
        return fail("tasks[{}].syscalls: {} syscalls, at most {}", i, t.syscalls_size(), L::kMaxSyscallsPerTask);
      total += uint32_t(t.syscalls_size());
      for (int j = 0; j < t.syscalls_size(); ++j)
        if (!syscall(fmt::format("tasks[{}].syscalls[{}]", i, j), t.syscalls(j))) return false;
    }
    if (total > L::kMaxSyscalls) return fail("tasks: {} syscalls in all, at most {}", total, L::kMaxSyscalls);
    return true;
  }

  bool decisions() {
    if (uint32_t(s.decisions_size()) > L::kMaxDecisions)
      return fail("decisions: {} decisions, at most {}", s.decisions_size(), L::kMaxDecisions);
    const uint32_t ntasks = uint32_t(s.tasks_size()) + 2;  // + the I/O and writeback tasks
    for (int i = 0; i < s.decisions_size(); ++i) {
      const Decision& d = s.decisions(i);
      const std::string at = fmt::format("decisions[{}]", i);
      if (d.task() >= ntasks) return fail("{}.task: task {} does not exist ({} tasks with the daemons)", at, d.task(), ntasks);
      if (d.when_case() == Decision::kAt) {
        if (d.at().task() >= ntasks)
          return fail("{}.at.task: task {} does not exist ({} tasks with the daemons)", at, d.at().task(), ntasks);
        if (d.at().label().empty()) return fail("{}.at.label: empty label", at);
        if (!number(at + ".at.hit", d.at().hit(), L::kMaxSteps)) return false;
      } else if (!number(at + ".step", d.step(), L::kMaxSteps)) {
        return false;
      }
    }
    return true;
  }

  bool faults() {
    if (uint32_t(s.faults_size()) > L::kMaxFaults) return fail("faults: {} faults, at most {}", s.faults_size(), L::kMaxFaults);
    for (int i = 0; i < s.faults_size(); ++i) {
      const Fault& f = s.faults(i);
      const std::string at = fmt::format("faults[{}]", i);
      if (!Fault::Kind_IsValid(f.kind())) return fail("{}.kind: unknown fault kind {}", at, int(f.kind()));
      if (!number(at + ".nth", f.nth(), L::kMaxSteps) || !number(at + ".count", f.count(), L::kMaxSteps)) return false;
    }
    return true;
  }

  bool limits() {
    return number("limits.max_steps", s.limits().max_steps(), L::kMaxSteps) &&
           number("limits.max_retries", s.limits().max_retries(), L::kMaxRetries);
  }
};

}  // namespace

std::optional<std::string> validate_schedule(const Schedule& s) {
  if (s.format_version() > 1)
    return fmt::format("format_version: unsupported version {} (this build reads version 1)", s.format_version());
  Validator v{s, std::nullopt};
  (void)(v.kernel() && v.files() && v.processes() && v.tasks() && v.decisions() && v.faults() && v.limits());
  return v.error;
}

}  // namespace faultline
