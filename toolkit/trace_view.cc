#include "toolkit/trace_view.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

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

// Breaks s into lines of at most width characters at spaces, each padded to
// width; a word longer than width keeps its own line whole (the column is
// made at least that wide, see longest_word).
std::vector<std::string> wrap(const std::string& s, int width) {
  std::vector<std::string> lines;
  std::string_view rest = s;
  const size_t w = size_t(width);
  while (rest.size() > w) {
    size_t cut = rest.rfind(' ', w);
    if (cut == std::string_view::npos || cut == 0) cut = std::min(rest.find(' '), rest.size());
    lines.emplace_back(rest.substr(0, cut));
    rest.remove_prefix(cut);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  if (!rest.empty() || lines.empty()) lines.emplace_back(rest);
  for (std::string& l : lines) l.resize(std::max(w, l.size()), ' ');
  return lines;
}

size_t longest_word(const std::string& s) {
  size_t longest = 0, start = 0;
  while (start < s.size()) {
    const size_t end = std::min(s.find(' ', start), s.size());
    longest = std::max(longest, end - start);
    start = end + 1;
  }
  return longest;
}

std::string trim_right(std::string row) {
  while (!row.empty() && (row.back() == ' ' || row.back() == '|')) row.pop_back();
  return row + "\n";
}

}  // namespace

int terminal_width() {
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) return std::max(0, std::atoi(columns));
  return 0;
}

TimelineOptions terminal_timeline(int column_width, bool verbose, std::optional<uint32_t> task) {
  TimelineOptions options{.column_width = column_width, .verbose = verbose, .task = task};
  if (const int width = terminal_width()) options.width = width;
  return options;
}

std::string render_timeline(const Outcome& out, const TimelineOptions& options) {
  const size_t ntasks = out.task_names.size();
  std::vector<bool> used(ntasks, false);
  for (const Event& e : out.trace)
    if (e.task < ntasks && e.kind != EventKind::FuncEnter && e.kind != EventKind::FuncExit) used[e.task] = true;
  if (options.task) {
    for (size_t t = 0; t < ntasks; ++t) used[t] = t == *options.task;
  }
  const int ncolumns = int(std::count(used.begin(), used.end(), true));
  constexpr int kStepColumn = 8, kSeparator = 3, kNarrowest = 24;
  const int fitted = options.column_width > 0
                         ? options.column_width
                         : std::max(kNarrowest, (options.width - kStepColumn) / std::max(ncolumns, 1) - kSeparator);
  // A column is never narrower than its longest word: names are not cut.
  std::vector<std::string> cells(out.trace.size());
  std::vector<int> column(ntasks, fitted);
  for (size_t i = 0; i < out.trace.size(); ++i) {
    const Event& e = out.trace[i];
    if (e.task >= ntasks || !used[e.task]) continue;
    cells[i] = cell(e, out, options.verbose);
    column[e.task] = std::max(column[e.task], int(longest_word(cells[i])));
  }
  auto row_of = [&](const std::string& step, size_t task, const std::string& line) {
    std::string row = fmt::format("{:>6} |", step);
    for (size_t t = 0; t < ntasks; ++t)
      if (used[t]) row += " " + (t == task ? line : std::string(size_t(column[t]), ' ')) + " |";
    return trim_right(row);
  };
  std::string text = fmt::format("{:>6} |", "step");
  for (size_t t = 0; t < ntasks; ++t)
    if (used[t]) {
      const std::string title = fmt::format("task {} ({})", t, out.task_names[t]);
      text += " " + title + std::string(size_t(std::max(0, column[t] - int(title.size()))), ' ') + " |";
    }
  text += "\n";
  // --task: the other tasks' events between two of its own, as one line.
  uint32_t folded = 0;
  std::vector<bool> folded_tasks(ntasks, false);
  auto flush_folded = [&] {
    if (!folded) return;
    std::string who;
    for (size_t t = 0; t < ntasks; ++t)
      if (folded_tasks[t]) who += fmt::format("{}task {} ({})", who.empty() ? "" : ", ", t, out.task_names[t]);
    text += fmt::format("{:>6} | ... {} event{} of {}\n", "", folded, folded == 1 ? "" : "s", who);
    folded = 0;
    folded_tasks.assign(ntasks, false);
  };
  for (size_t i = 0; i < out.trace.size(); ++i) {
    const Event& e = out.trace[i];
    if (e.task >= ntasks) continue;
    if (!used[e.task]) {
      if (!cell(e, out, options.verbose).empty()) {
        ++folded;
        folded_tasks[e.task] = true;
      }
      continue;
    }
    if (cells[i].empty()) continue;
    flush_folded();
    const std::vector<std::string> lines = wrap(cells[i], column[e.task]);
    for (size_t i = 0; i < lines.size(); ++i) text += row_of(i ? "" : std::to_string(e.step), e.task, lines[i]);
  }
  flush_folded();
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
