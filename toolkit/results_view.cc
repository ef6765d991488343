#include "toolkit/results_view.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "vmcore/mm/mm.h"
#include "vmcore/schedule/syscall_table.h"

namespace faultline {

namespace {

using nlohmann::json;

// Bit names of fallocate's mode and msync's flags; bits without a name in hex.
std::string flag_names(uint64_t v, std::initializer_list<std::pair<uint64_t, const char*>> names) {
  std::string text;
  for (const auto& [bit, name] : names)
    if (v & bit) {
      text += (text.empty() ? "" : "|") + std::string(name);
      v &= ~bit;
    }
  if (v || text.empty()) text += fmt::format("{}{:#x}", text.empty() ? "" : "|", v);
  return text;
}

std::string enum_name(const SyscallKind& kind, const SyscallField& field, uint64_t v) {
  const auto* call = Syscall::descriptor()->FindFieldByName(kind.name);
  const auto* f = call ? call->message_type()->FindFieldByName(field.name) : nullptr;
  const auto* value = f && f->enum_type() ? f->enum_type()->FindValueByNumber(int(v)) : nullptr;
  return value ? value->name() : std::to_string(v);
}

// A field's value as the text shows it; "" leaves the field out.
std::string field_text(const Schedule& s, const SyscallKind& kind, const SyscallField& field, const Syscall& c) {
  if (field.has && !field.has(c)) return "";
  const uint64_t v = field.get(c);
  switch (field.role) {
    case FieldRole::Flag: return v ? "true" : "";
    case FieldRole::Enum: return enum_name(kind, field, v);
    case FieldRole::Mode:
      return flag_names(v, {{mm::FALLOC_FL_KEEP_SIZE, "KEEP_SIZE"}, {mm::FALLOC_FL_PUNCH_HOLE, "PUNCH_HOLE"}});
    case FieldRole::MsyncFlags:
      return flag_names(v, {{mm::MS_ASYNC, "MS_ASYNC"}, {mm::MS_INVALIDATE, "MS_INVALIDATE"}, {mm::MS_SYNC, "MS_SYNC"}});
    case FieldRole::File:
      if (v < uint64_t(s.files_size()) && !s.files(int(v)).name().empty())
        return fmt::format("{} \"{}\"", v, s.files(int(v)).name());
      return std::to_string(v);
    case FieldRole::Value: return fmt::format("{:#04x}", v);
    default: return std::to_string(v);
  }
}

std::string printable(const std::vector<uint8_t>& data) {
  std::string text;
  for (uint8_t b : data) text += b >= 0x20 && b < 0x7f ? char(b) : '.';
  return text;
}

std::string hex(const std::vector<uint8_t>& data) {
  std::string text;
  for (uint8_t b : data) text += fmt::format("{}{:02x}", text.empty() ? "" : " ", b);
  return text;
}

std::string task_title(const Schedule& s, const Outcome& out, size_t t) {
  const std::string name = t < out.task_names.size() ? out.task_names[t] : "";
  std::string title = fmt::format("task {} ({})", t, name);
  if (s.tasks(int(t)).repeat())
    title += fmt::format(", {} rounds: the latest result of each syscall", s.tasks(int(t)).repeat() + 1);
  return title;
}

}  // namespace

std::string syscall_text(const Schedule& s, const Syscall& c) {
  const SyscallKind* kind = syscall_kind(c);
  if (!kind) return "(no call)";
  std::string args;
  for (const SyscallField& field : kind->fields) {
    const std::string v = field_text(s, *kind, field, c);
    if (v.empty()) continue;
    args += fmt::format("{}{}{}", args.empty() ? "" : ", ", field.name,
                        field.role == FieldRole::Flag ? "" : "=" + v);
  }
  return fmt::format("{}({})", kind->name, args);
}

std::string result_text(const SyscallResult& r) {
  std::string text = mm::result_name(r.ret);
  if (!r.data.empty()) text += fmt::format("  \"{}\"  [{}]", printable(r.data), hex(r.data));
  return text;
}

std::string render_results(const Schedule& s, const Outcome& out) {
  std::string text;
  for (size_t t = 0; t < size_t(s.tasks_size()); ++t) {
    text += task_title(s, out, t) + ":\n";
    const auto& calls = s.tasks(int(t)).syscalls();
    const size_t done = t < out.results.size() ? out.results[t].size() : 0;
    for (size_t i = 0; i < done; ++i) {
      const SyscallResult& r = out.results[t][i];
      text += fmt::format("  {} = {}\n", syscall_text(s, calls[int(i)]), result_text(r));
    }
    if (done < size_t(calls.size()))
      text += fmt::format("  not run: {} of {} syscalls (the run stopped first)\n", size_t(calls.size()) - done,
                          calls.size());
  }
  return text;
}

json run_json(const std::string& file, const Schedule& s, const Outcome& out) {
  json tasks = json::array();
  for (size_t t = 0; t < size_t(s.tasks_size()); ++t) {
    json syscalls = json::array();
    const auto& calls = s.tasks(int(t)).syscalls();
    const size_t done = t < out.results.size() ? out.results[t].size() : 0;
    for (size_t i = 0; i < size_t(calls.size()); ++i) {
      const Syscall& c = calls[int(i)];
      json args = json::object();
      if (const SyscallKind* kind = syscall_kind(c))
        for (const SyscallField& field : kind->fields)
          if (!field.has || field.has(c)) args[field.name] = field.get(c);
      json call = {{"call", syscall_text(s, c)},
                   {"syscall", syscall_kind(c) ? syscall_kind(c)->name : ""},
                   {"args", std::move(args)},
                   {"ran", i < done}};
      if (i < done) {
        const SyscallResult& r = out.results[t][i];
        call["ret"] = r.ret;
        call["result"] = mm::result_name(r.ret);
        if (!r.data.empty()) {
          call["data_hex"] = hex(r.data);
          call["data_text"] = printable(r.data);
        }
      }
      syscalls.push_back(std::move(call));
    }
    tasks.push_back({{"task", t},
                     {"name", t < out.task_names.size() ? out.task_names[t] : ""},
                     {"rounds", s.tasks(int(t)).repeat() + 1},
                     {"syscalls", std::move(syscalls)}});
  }
  return {{"file", file},
          {"outcome", outcome_name(out.kind)},
          {"signature", out.signature},
          {"kernel", out.kernel},
          {"steps", out.steps},
          {"trace_hash", fmt::format("{:016x}", out.trace_hash)},
          {"results", std::move(tasks)}};
}

}  // namespace faultline
