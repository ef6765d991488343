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

// Where a field is: formatted only when there is something wrong with it.
struct Where {
  const char* section;  // "files", "processes", "tasks", ...
  int i = -1;
  const char* sub = nullptr;  // "mappings", "syscalls", ...
  int j = -1;
  const char* call = nullptr;  // the syscall's name

  std::string str(const char* leaf) const {
    std::string out = section;
    if (i >= 0) out += fmt::format("[{}]", i);
    if (sub) out += fmt::format(".{}", sub);
    if (j >= 0) out += fmt::format("[{}]", j);
    if (call) out += fmt::format(".{}", call);
    if (leaf && *leaf) out += fmt::format(".{}", leaf);
    return out;
  }
};

struct Validator {
  const Schedule& s;
  std::optional<std::string> error;

  template <class... Args>
  bool fail(fmt::format_string<Args...> f, Args&&... args) {
    if (!error) error = fmt::format(f, std::forward<Args>(args)...);
    return false;
  }

  bool number(const Where& w, const char* leaf, uint64_t v, uint64_t max = L::kMaxNumber) {
    if (v > max) return fail("{}: {} is too large (at most {})", w.str(leaf), v, max);
    return true;
  }
  bool file_index(const Where& w, uint32_t f) {
    if (f >= uint32_t(s.files_size()))
      return fail("{}: file {} does not exist ({} files)", w.str("file"), f, s.files_size());
    return true;
  }
  bool page_aligned(const Where& w, const char* leaf, uint64_t v) {
    if (v % mm::PAGE_SIZE) return fail("{}: {} is not page aligned (PAGE_SIZE is {})", w.str(leaf), v, mm::PAGE_SIZE);
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
      const Where at{"files", i};
      if (!File::Kind_IsValid(f.kind())) return fail("{}: unknown kind {}", at.str("kind"), int(f.kind()));
      if (!number(at, "size", f.size(), uint64_t(mm::kMaxFileBytes))) return false;
      const uint64_t pages = (f.size() + mm::PAGE_SIZE - 1) / mm::PAGE_SIZE;
      for (int j = 0; j < f.cached_pages_size(); ++j) {
        if (f.kind() == File::SHMEM) return fail("{}: tmpfs files are always in the page cache", at.str("cached_pages"));
        if (f.cached_pages(j) >= pages)
          return fail("{}[{}]: page {} is beyond the file ({} pages)", at.str("cached_pages"), j, f.cached_pages(j), pages);
      }
      if (f.has_ra_pages() && !number(at, "ra_pages", f.ra_pages(), 16)) return false;
      if (f.page_mkwrite() && f.kind() != File::REGULAR)
        return fail("{}: only REGULAR files have ->page_mkwrite", at.str("page_mkwrite"));
      if (f.launder_page() && f.kind() == File::SHMEM) return fail("{}: tmpfs has no ->launder_page", at.str("launder_page"));
    }
    return true;
  }

  bool mmap(const Where& w, const Mmap& m) {
    return file_index(w, m.file()) && number(w, "addr", m.addr()) && number(w, "length", m.length()) &&
           number(w, "offset", m.offset());
  }

  bool processes() {
    if (uint32_t(s.processes_size()) > mm::kMaxProcesses)
      return fail("processes: {} processes, at most {}", s.processes_size(), mm::kMaxProcesses);
    for (int i = 0; i < s.processes_size(); ++i) {
      const Process& p = s.processes(i);
      if (uint32_t(p.mappings_size()) > mm::kMaxVmas)
        return fail("processes[{}].mappings: {} mappings, at most {}", i, p.mappings_size(), mm::kMaxVmas);
      for (int j = 0; j < p.mappings_size(); ++j) {
        const Where at{"processes", i, "mappings", j};
        const Mmap& m = p.mappings(j);
        if (!mmap(at, m) || !page_aligned(at, "addr", m.addr()) || !page_aligned(at, "offset", m.offset())) return false;
        if (m.length() == 0) return fail("{}: an empty mapping", at.str("length"));
        if (m.addr() + m.length() > mm::TASK_SIZE)
          return fail("{}: [{:#x}, {:#x}) is beyond the address space ({:#x})", at.str(""), m.addr(),
                      m.addr() + m.length(), mm::TASK_SIZE);
      }
    }
    return true;
  }

  bool syscall(Where w, const Syscall& c) {
    switch (c.call_case()) {
      case Syscall::kMmap: w.call = "mmap"; return mmap(w, c.mmap());
      case Syscall::kMunmap:
        w.call = "munmap";
        return number(w, "addr", c.munmap().addr()) && number(w, "length", c.munmap().length());
      case Syscall::kLoad:
        w.call = "load";
        return number(w, "addr", c.load().addr()) && number(w, "len", c.load().len(), mm::kMaxOpBytes);
      case Syscall::kStore:
        w.call = "store";
        return number(w, "addr", c.store().addr()) && number(w, "len", c.store().len(), mm::kMaxOpBytes) &&
               number(w, "value", c.store().value(), 255);
      case Syscall::kRead:
        w.call = "read";
        return file_index(w, c.read().file()) && number(w, "offset", c.read().offset()) &&
               number(w, "len", c.read().len(), mm::kMaxOpBytes) && number(w, "buf", c.read().buf());
      case Syscall::kWrite:
        w.call = "write";
        return file_index(w, c.write().file()) && number(w, "offset", c.write().offset()) &&
               number(w, "len", c.write().len(), mm::kMaxOpBytes) && number(w, "value", c.write().value(), 255) &&
               number(w, "buf", c.write().buf());
      case Syscall::kFtruncate:
        w.call = "ftruncate";
        return file_index(w, c.ftruncate().file()) && number(w, "size", c.ftruncate().size());
      case Syscall::kDirectWrite:
        w.call = "direct_write";
        return file_index(w, c.direct_write().file()) && number(w, "offset", c.direct_write().offset()) &&
               number(w, "len", c.direct_write().len(), mm::kMaxOpBytes) &&
               number(w, "value", c.direct_write().value(), 255);
      case Syscall::kRevalidate: w.call = "revalidate"; return file_index(w, c.revalidate().file());
      case Syscall::kMadvise:
        w.call = "madvise";
        if (!Madvise::Advice_IsValid(c.madvise().advice()))
          return fail("{}: unknown advice {}", w.str("advice"), int(c.madvise().advice()));
        return number(w, "addr", c.madvise().addr()) && number(w, "length", c.madvise().length());
      case Syscall::kFadvise:
        w.call = "fadvise";
        return file_index(w, c.fadvise().file()) && number(w, "offset", c.fadvise().offset()) &&
               number(w, "len", c.fadvise().len());
      case Syscall::kFsync: w.call = "fsync"; return file_index(w, c.fsync().file());
      case Syscall::CALL_NOT_SET: return fail("{}: no system call set", w.str(""));
    }
    return fail("{}: unknown system call", w.str(""));
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
        if (!syscall(Where{"tasks", i, "syscalls", j}, t.syscalls(j))) return false;
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
      const Where at{"decisions", i};
      if (d.task() >= ntasks)
        return fail("{}: task {} does not exist ({} tasks with the daemons)", at.str("task"), d.task(), ntasks);
      if (d.when_case() == Decision::kAt) {
        if (d.at().task() >= ntasks)
          return fail("{}: task {} does not exist ({} tasks with the daemons)", at.str("at.task"), d.at().task(), ntasks);
        if (d.at().label().empty()) return fail("{}: empty label", at.str("at.label"));
        if (!number(at, "at.hit", d.at().hit(), L::kMaxSteps)) return false;
      } else if (!number(at, "step", d.step(), L::kMaxSteps)) {
        return false;
      }
    }
    return true;
  }

  bool faults() {
    if (uint32_t(s.faults_size()) > L::kMaxFaults) return fail("faults: {} faults, at most {}", s.faults_size(), L::kMaxFaults);
    for (int i = 0; i < s.faults_size(); ++i) {
      const Fault& f = s.faults(i);
      const Where at{"faults", i};
      if (!Fault::Kind_IsValid(f.kind())) return fail("{}: unknown fault kind {}", at.str("kind"), int(f.kind()));
      if (!number(at, "nth", f.nth(), L::kMaxSteps) || !number(at, "count", f.count(), L::kMaxSteps)) return false;
    }
    return true;
  }

  bool limits() {
    const Where at{"limits"};
    return number(at, "max_steps", s.limits().max_steps(), L::kMaxSteps) &&
           number(at, "max_retries", s.limits().max_retries(), L::kMaxRetries);
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
