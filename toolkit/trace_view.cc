#include "toolkit/trace_view.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "vmcore/kernel/syscalls.h"

namespace faultline {

namespace {

using sim::Event;
using sim::EventKind;

const char* access_mark(sim::Access a) {
  switch (a) {
    case sim::Access::Read: return " R";
    case sim::Access::Write: return " W";
    default: return "";
  }
}

// What one event says in its task's column, or "" to leave the row out.
std::string cell(const Event& e, const Outcome& out, bool verbose) {
  const std::string obj = e.obj.kind == sim::ObjKind::None ? "" : " " + sim::describe(e.obj);
  auto other = [&](sim::TaskId t) {
    return t < out.task_names.size() ? fmt::format("task {} ({})", t, out.task_names[t]) : fmt::format("task {}", t);
  };
  switch (e.kind) {
    case EventKind::SyscallBegin: return fmt::format("== {}", e.label.name);
    case EventKind::SyscallEnd: return fmt::format("== {} -> {}", e.label.name, mm::result_name(e.arg));
    case EventKind::Point: return fmt::format("{}{}{}", e.label.name, access_mark(e.access), obj);
    case EventKind::Acquire: return fmt::format("lock {}{}", e.label.name, obj);
    case EventKind::Acquired: return e.other == sim::kNoTask ? "" : fmt::format("  got{} from {}", obj, other(e.other));
    case EventKind::Release: return fmt::format("unlock {}{}", e.label.name, obj);
    case EventKind::Block: return fmt::format("** sleeps in {}{}", e.label.name, obj);
    case EventKind::Wake: return fmt::format("** woken by {}", other(e.other));
    case EventKind::TaskExit: return "== exit";
    case EventKind::Violation: return fmt::format("!! {}: {}", outcome_name(out.kind), out.signature);
    case EventKind::Retry: return fmt::format("retry {} (#{})", e.label.name, e.arg);
    case EventKind::FuncEnter: return verbose ? fmt::format("> {}", e.label.name) : "";
    case EventKind::FuncExit: return verbose ? fmt::format("< {}", e.label.name) : "";
    case EventKind::Access: return verbose ? fmt::format("  {}{}{}", e.label.name, access_mark(e.access), obj) : "";
  }
  return "";
}

std::string fit(const std::string& s, int width) {
  if (int(s.size()) <= width) return s + std::string(size_t(width - int(s.size())), ' ');
  return s.substr(0, size_t(width - 1)) + "~";
}

}  // namespace

std::string render_timeline(const Outcome& out, const TimelineOptions& options) {
  const size_t ntasks = out.task_names.size();
  std::vector<bool> used(ntasks, false);
  for (const Event& e : out.trace)
    if (e.task < ntasks && e.kind != EventKind::FuncEnter && e.kind != EventKind::FuncExit) used[e.task] = true;
  std::string text = fmt::format("{:>6} |", "step");
  for (size_t t = 0; t < ntasks; ++t)
    if (used[t]) text += " " + fit(fmt::format("task {} ({})", t, out.task_names[t]), options.column_width) + " |";
  text += "\n";
  for (const Event& e : out.trace) {
    const std::string what = cell(e, out, options.verbose);
    if (what.empty() || e.task >= ntasks) continue;
    std::string row = fmt::format("{:>6} |", e.step);
    for (size_t t = 0; t < ntasks; ++t)
      if (used[t]) row += " " + fit(t == e.task ? what : "", options.column_width) + " |";
    while (!row.empty() && (row.back() == ' ' || row.back() == '|')) row.pop_back();
    text += row + "\n";
  }
  return text;
}

std::string perfetto_json(const Outcome& out, const std::string& title) {
  using nlohmann::json;
  json events = json::array();
  constexpr int kPid = 1;
  events.push_back({{"ph", "M"}, {"pid", kPid}, {"name", "process_name"}, {"args", {{"name", title}}}});
  for (size_t t = 0; t < out.task_names.size(); ++t)
    events.push_back({{"ph", "M"},
                      {"pid", kPid},
                      {"tid", t},
                      {"name", "thread_name"},
                      {"args", {{"name", fmt::format("task {} ({})", t, out.task_names[t])}}}});
  std::vector<int> open(out.task_names.size(), 0);
  uint64_t ts = 0;
  for (const Event& e : out.trace) {
    ts = &e - out.trace.data();
    const int tid = e.task == sim::kNoTask ? 0 : e.task;
    json args = {{"step", e.step}};
    if (e.obj.kind != sim::ObjKind::None) args["object"] = sim::describe(e.obj);
    switch (e.kind) {
      case EventKind::FuncEnter:
      case EventKind::SyscallBegin:
        events.push_back(
            {{"ph", "B"}, {"pid", kPid}, {"tid", tid}, {"ts", ts}, {"name", e.label.name}, {"args", args}});
        if (size_t(tid) < open.size()) ++open[tid];
        break;
      case EventKind::FuncExit:
      case EventKind::SyscallEnd:
        if (e.kind == EventKind::SyscallEnd) args["result"] = mm::result_name(e.arg);
        events.push_back({{"ph", "E"}, {"pid", kPid}, {"tid", tid}, {"ts", ts}, {"args", args}});
        if (size_t(tid) < open.size() && open[tid] > 0) --open[tid];
        break;
      case EventKind::Violation:
        events.push_back({{"ph", "i"},
                          {"pid", kPid},
                          {"tid", tid},
                          {"ts", ts},
                          {"s", "g"},
                          {"name", fmt::format("{}: {}", outcome_name(out.kind), out.signature)},
                          {"args", {{"report", out.report}}}});
        break;
      default: {
        std::string name = e.label.name;
        if (e.kind == EventKind::Acquired) name = "acquired " + name;
        if (e.kind == EventKind::Block) name = "sleep " + name;
        if (e.kind == EventKind::Wake) name = "woken";
        if (e.other != sim::kNoTask) args["other_task"] = e.other;
        args["kind"] = sim::event_kind_name(e.kind);
        events.push_back(
            {{"ph", "i"}, {"pid", kPid}, {"tid", tid}, {"ts", ts}, {"s", "t"}, {"name", name}, {"args", args}});
      }
    }
  }
  // Close the slices of tasks that never returned (blocked, or stopped by the checker).
  for (size_t t = 0; t < open.size(); ++t)
    for (int i = 0; i < open[t]; ++i) events.push_back({{"ph", "E"}, {"pid", kPid}, {"tid", t}, {"ts", ts + 1}});
  json doc = {{"traceEvents", events},
              {"displayTimeUnit", "ns"},
              {"otherData",
               {{"outcome", outcome_name(out.kind)},
                {"signature", out.signature},
                {"kernel", out.kernel},
                {"trace_hash", fmt::format("{:016x}", out.trace_hash)}}}};
  return doc.dump(1);
}

}  // namespace faultline
