#include "vmcore/schedule/schedule_io.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/wire_format_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/text_format.h>

#include <mutex>

#include "vmcore/kernel/syscalls.h"
#include "vmcore/mm/kernel_config.h"
#include "vmcore/mm/types.h"
#include "vmcore/run.h"
#include "vmcore/schedule/syscall_table.h"

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

// protobuf reports some parse errors (invalid UTF-8) only to its log: keep the
// last message for our one-line error instead of letting it reach stderr.
thread_local std::string protobuf_log;

void capture_protobuf_log(google::protobuf::LogLevel, const char*, int, const std::string& message) {
  protobuf_log = message;
}

void install_protobuf_log_capture() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(capture_protobuf_log); });
}

std::optional<std::string> malformed(const Schedule& s);
std::optional<std::string> binary_string_not_utf8(std::string_view data);

std::optional<std::string> parse_text(std::string_view data, Schedule* out) {
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  // The text parser takes any bytes in a string; the binary form cannot.
  if (parser.ParseFromString(std::string(data), out)) return malformed(*out);
  return errors.error.empty() ? std::string("not a text schedule") : errors.error;
}

}  // namespace

std::optional<std::string> parse_binary(std::string_view data, Schedule* out) {
  install_protobuf_log_capture();
  protobuf_log.clear();
  if (!out->ParseFromArray(data.data(), int(data.size()))) {
    if (auto where = binary_string_not_utf8(data)) return *where + ": not valid UTF-8";
    return protobuf_log.empty() ? std::string("not a valid binary schedule (protobuf wire format)")
                                : "not a valid binary schedule: " + protobuf_log;
  }
  if (out->format_version() >= kFormatVersion && out->end_marker() != kEndMarker)
    return std::string("truncated: the binary schedule has no end marker (cut short?)");
  return std::nullopt;
}

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
  ScheduleFormat format = hint != ScheduleFormat::Auto ? hint
                          : looks_like_text(data)      ? ScheduleFormat::Text
                                                       : ScheduleFormat::Binary;
  std::optional<std::string> err = format == ScheduleFormat::Text ? parse_text(data, &s) : parse_binary(data, &s);
  if (err && format == ScheduleFormat::Text) {
    // Printable bytes can still be a binary schedule.
    Schedule b;
    if (hint == ScheduleFormat::Auto && !parse_binary(data, &b)) {
      s = std::move(b);
      format = ScheduleFormat::Binary;
      err.reset();
    } else {
      err = "text schedule: " + *err;
    }
  }
  if (err) {
    r.error = *err;
    return r;
  }
  r.schedule = std::move(s);
  r.format = format;
  return r;
}

void seal(Schedule& s) {
  s.set_format_version(kFormatVersion);
  s.set_end_marker(kEndMarker);
}

std::string to_text(const Schedule& s) {
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  if (s.end_marker()) {
    Schedule copy = s;
    copy.clear_end_marker();
    printer.PrintToString(copy, &out);
  } else {
    printer.PrintToString(s, &out);
  }
  return out;
}

std::string to_binary(const Schedule& s) {
  std::string out;
  if (s.format_version() == kFormatVersion && s.end_marker() == kEndMarker) {
    s.SerializeToString(&out);
  } else {
    Schedule copy = s;
    seal(copy);
    copy.SerializeToString(&out);
  }
  return out;
}

namespace {

using L = ScheduleLimits;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool valid_utf8(std::string_view v) {
  for (size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (!n || i + n > v.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(v[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

// Where the wire format of a message of type d holds a string field that is
// not UTF-8 ("tasks[1].name"), which protobuf's parser only logs.
std::optional<std::string> string_not_utf8(google::protobuf::io::CodedInputStream& in,
                                           const google::protobuf::Descriptor* d) {
  using google::protobuf::internal::WireFormatLite;
  std::vector<int> seen(size_t(d->field_count()), 0);  // per field: elements so far
  while (const uint32_t tag = in.ReadTag()) {
    const FieldDescriptor* f = d->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool nested = f && (f->type() == FieldDescriptor::TYPE_STRING || f->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!nested || WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
      continue;
    }
    const int i = seen[size_t(f->index())]++;
    const std::string here = f->is_repeated() ? fmt::format("{}[{}]", f->name(), i) : f->name();
    uint32_t len = 0;
    if (!in.ReadVarint32(&len)) return std::nullopt;
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      std::string v;
      if (!in.ReadString(&v, int(len))) return std::nullopt;
      if (!valid_utf8(v)) return here;
      continue;
    }
    const auto limit = in.PushLimit(int(len));
    auto bad = string_not_utf8(in, f->message_type());
    if (bad) return here + "." + *bad;
    in.PopLimit(limit);
  }
  return std::nullopt;
}

std::optional<std::string> binary_string_not_utf8(std::string_view data) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(data.data()), int(data.size()));
  return string_not_utf8(in, Schedule::descriptor());
}

}  // namespace

namespace {

// A problem somewhere inside a message: where (built on the way out) and what.
struct Malformed {
  std::string where;
  std::string what;
};

// Fields this build does not know (a newer faultline wrote them, or the bytes
// are not a schedule) and strings that are not UTF-8, which the binary form
// cannot carry.
std::optional<Malformed> find_malformed(const Message& m) {
  const auto* refl = m.GetReflection();
  if (const auto& unknown = refl->GetUnknownFields(m); !unknown.empty())
    return Malformed{"", fmt::format("unknown field {} (written by a newer faultline, or not a schedule)",
                                     unknown.field(0).number())};
  std::vector<const FieldDescriptor*> fields;
  refl->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const int n = f->is_repeated() ? refl->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      std::optional<Malformed> bad;
      if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
        bad = find_malformed(f->is_repeated() ? refl->GetRepeatedMessage(m, f, i) : refl->GetMessage(m, f));
      } else if (f->type() == FieldDescriptor::TYPE_STRING) {
        std::string scratch;
        const std::string& v = f->is_repeated() ? refl->GetRepeatedStringReference(m, f, i, &scratch)
                                                : refl->GetStringReference(m, f, &scratch);
        if (!valid_utf8(v)) bad = Malformed{"", "not valid UTF-8"};
      }
      if (bad) {
        const std::string here = f->is_repeated() ? fmt::format("{}[{}]", f->name(), i) : f->name();
        bad->where = bad->where.empty() ? here : here + "." + bad->where;
        return bad;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> malformed(const Schedule& s) {
  if (auto bad = find_malformed(s))
    return fmt::format("{}: {}", bad->where.empty() ? "schedule" : bad->where, bad->what);
  return std::nullopt;
}

// The fast check for unknown fields (the fuzzers validate every input); the
// reflection of each type is looked up once (the look-up costs more than the
// rest of validation); find_malformed then says where.
template <class M>
bool known(const M& m) {
  static const google::protobuf::Reflection* const reflection = M::GetReflection();
  return reflection->GetUnknownFields(m).empty();
}

bool all_known(const Schedule& s) {
  if (!known(s) || !known(s.kernel()) || !known(s.limits()) || !known(s.recording())) return false;
  for (const Switch& w : s.kernel().switches())
    if (!known(w)) return false;
  for (const File& f : s.files())
    if (!known(f)) return false;
  for (const Process& p : s.processes()) {
    if (!known(p)) return false;
    for (const Mmap& m : p.mappings())
      if (!known(m)) return false;
  }
  for (const Task& t : s.tasks()) {
    if (!known(t)) return false;
    for (const Syscall& c : t.syscalls())
      if (!known(c) || (c.call_case() != Syscall::CALL_NOT_SET && !syscall_kind(c)->known(c))) return false;
  }
  for (const Decision& d : s.decisions())
    if (!known(d) || !known(d.at())) return false;
  for (const Fault& f : s.faults())
    if (!known(f)) return false;
  return true;
}

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
    std::string why;
    if (!schedule_kernel(s, &why)) return fail("{}", why);
    return true;
  }

  bool files() {
    if (uint32_t(s.files_size()) > mm::kMaxFiles)
      return fail("files: {} files, at most {}", s.files_size(), mm::kMaxFiles);
    for (int i = 0; i < s.files_size(); ++i) {
      const File& f = s.files(i);
      const Where at{"files", i};
      if (!File::Kind_IsValid(f.kind())) return fail("{}: unknown kind {}", at.str("kind"), int(f.kind()));
      if (!number(at, "size", f.size(), uint64_t(mm::kMaxFileBytes))) return false;
      const uint64_t pages = (f.size() + mm::PAGE_SIZE - 1) / mm::PAGE_SIZE;
      for (int j = 0; j < f.cached_pages_size(); ++j) {
        if (f.kind() == File::SHMEM)
          return fail("{}: tmpfs files are always in the page cache", at.str("cached_pages"));
        if (f.cached_pages(j) >= pages)
          return fail("{}[{}]: page {} is beyond the file ({} pages)", at.str("cached_pages"), j, f.cached_pages(j),
                      pages);
      }
      if (f.has_ra_pages() && !number(at, "ra_pages", f.ra_pages(), 16)) return false;
      if (f.page_mkwrite() && f.kind() != File::REGULAR)
        return fail("{}: only REGULAR files have ->page_mkwrite", at.str("page_mkwrite"));
      if (f.launder_page() && f.kind() == File::SHMEM)
        return fail("{}: tmpfs has no ->launder_page", at.str("launder_page"));
      if (!number(at, "folio_order", f.folio_order(), mm::MAX_PAGECACHE_ORDER)) return false;
      if (f.folio_order() && (f.kind() != File::REGULAR || f.launder_page()))
        return fail("{}: only REGULAR files without ->launder_page take a folio order", at.str("folio_order"));
      if (!File::ShmemHuge_IsValid(f.shmem_huge()))
        return fail("{}: unknown huge= {}", at.str("shmem_huge"), int(f.shmem_huge()));
      if (f.shmem_huge() != File::SHMEM_HUGE_NEVER && f.kind() != File::SHMEM)
        return fail("{}: only tmpfs (SHMEM) files have huge=", at.str("shmem_huge"));
      if (!File::DriverNopage_IsValid(f.driver_nopage()))
        return fail("{}: unknown ->nopage {}", at.str("driver_nopage"), int(f.driver_nopage()));
      if (f.driver_nopage() != File::WRAPS_FILEMAP_NOPAGE && f.kind() != File::DRIVER)
        return fail("{}: only DRIVER files have a ->nopage of their own", at.str("driver_nopage"));
    }
    return true;
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
        Syscall call;
        *call.mutable_mmap() = m;
        if (!fields(at, *syscall_kind(call), call) || !page_aligned(at, "addr", m.addr()) ||
            !page_aligned(at, "offset", m.offset()))
          return false;
        if (m.length() == 0) return fail("{}: an empty mapping", at.str("length"));
        if (m.addr() + m.length() > mm::TASK_SIZE)
          return fail("{}: [{:#x}, {:#x}) is beyond the address space ({:#x})", at.str(""), m.addr(),
                      m.addr() + m.length(), mm::TASK_SIZE);
      }
    }
    return true;
  }

  bool syscall(Where w, const Syscall& c) {
    const SyscallKind* kind = syscall_kind(c);
    if (!kind) return fail("{}: no system call set", w.str(""));
    w.call = kind->name;
    return fields(w, *kind, c);
  }

  bool fields(const Where& w, const SyscallKind& kind, const Syscall& c) {
    for (const SyscallField& f : kind.fields) {
      const uint64_t v = f.get(c);
      switch (f.role) {
        case FieldRole::File:
          if (!file_index(w, uint32_t(v))) return false;
          break;
        case FieldRole::Len:
          if (!number(w, f.name, v, mm::kMaxOpBytes)) return false;
          break;
        case FieldRole::Value:
          if (!number(w, f.name, v, 255)) return false;
          break;
        case FieldRole::Enum:
          if (!f.valid(v)) return fail("{}: unknown {} {}", w.str(f.name), f.name, int64_t(v));
          break;
        case FieldRole::Flag:
        case FieldRole::Mode:
        case FieldRole::MsyncFlags: break;  // any bits: the kernel says which it knows
        default:
          if (!number(w, f.name, v)) return false;
      }
    }
    return true;
  }

  bool tasks() {
    if (uint32_t(s.tasks_size()) > L::kMaxUserTasks)
      return fail("tasks: {} tasks, at most {}", s.tasks_size(), L::kMaxUserTasks);
    uint32_t total = 0;
    for (int i = 0; i < s.tasks_size(); ++i) {
      const Task& t = s.tasks(i);
      if (t.process() >= uint32_t(s.processes_size()))
        return fail("tasks[{}].process: process {} does not exist ({} processes)", i, t.process(), s.processes_size());
      if (!number(Where{"tasks", i}, "repeat", t.repeat(), L::kMaxRepeat)) return false;
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
          return fail("{}: task {} does not exist ({} tasks with the daemons)", at.str("at.task"), d.at().task(),
                      ntasks);
        if (d.at().label().empty()) return fail("{}: empty label", at.str("at.label"));
        if (!number(at, "at.hit", d.at().hit(), L::kMaxSteps) || !number(at, "at.every", d.at().every(), L::kMaxSteps))
          return false;
      } else if (!number(at, "step", d.step(), L::kMaxSteps)) {
        return false;
      }
    }
    return true;
  }

  bool faults() {
    if (uint32_t(s.faults_size()) > L::kMaxFaults)
      return fail("faults: {} faults, at most {}", s.faults_size(), L::kMaxFaults);
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
  if (s.format_version() > kFormatVersion)
    return fmt::format("format_version: unsupported version {} (this build reads versions 1 and {})",
                       s.format_version(), kFormatVersion);
  if (!all_known(s)) return malformed(s);
  Validator v{s, std::nullopt};
  (void)(v.kernel() && v.files() && v.processes() && v.tasks() && v.decisions() && v.faults() && v.limits());
  if (!v.error && s.tasks_size() == 0) return std::string("tasks: a schedule needs at least one task");
  return v.error;
}

}  // namespace faultline
