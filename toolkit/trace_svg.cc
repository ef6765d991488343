#include "toolkit/trace_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "vmcore/kernel/syscalls.h"

namespace faultline {

namespace {

using sim::Event;
using sim::EventKind;

struct Span {
  size_t begin, end;  // event positions
  int row;            // within its lane: 0 syscalls, 1.. functions by depth, then locks
  std::string name, detail;
  const char* color;
};

struct Arrow {
  size_t at;
  size_t from, to;  // lanes
  std::string what;
};

struct Lane {
  std::vector<Span> spans;
  std::vector<std::pair<size_t, size_t>> sleeps;
  int depth = 0;      // deepest function row
  int lock_rows = 0;  // bars below the functions
};

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  return out;
}

const char* lock_color(sim::ObjKind k) {
  static constexpr const char* kPalette[] = {"#e15759", "#f28e2b", "#59a14f", "#b07aa1",
                                             "#edc948", "#ff9da7", "#9c755f", "#76b7b2"};
  return kPalette[size_t(k) % std::size(kPalette)];
}

// Pairs the events of each task into spans, sleeps and hand-offs.
std::vector<Lane> build_lanes(const Outcome& out, std::vector<Arrow>& arrows, size_t& violation_at) {
  const size_t ntasks = out.task_names.size();
  const size_t end = out.trace.size();
  std::vector<Lane> lanes(ntasks);
  struct Open {
    size_t at;
    std::string name;
  };
  std::vector<std::vector<Open>> calls(ntasks);  // syscall at [0], then functions
  std::vector<std::map<uint64_t, size_t>> held(ntasks);   // lock -> since
  std::vector<std::vector<std::pair<size_t, std::string>>> locks(ntasks);  // closed holds, by start
  std::vector<std::vector<Span>> lock_spans(ntasks);
  std::vector<size_t> asleep(ntasks, SIZE_MAX);
  auto close_call = [&](size_t t, size_t at, const std::string& detail) {
    if (calls[t].empty()) return;
    const Open o = calls[t].back();
    calls[t].pop_back();
    const int row = int(calls[t].size());
    lanes[t].spans.push_back({o.at, at, row, o.name, detail, row == 0 ? "#4e79a7" : row % 2 ? "#a0cbe8" : "#c6dbef"});
  };
  for (size_t i = 0; i < end; ++i) {
    const Event& e = out.trace[i];
    if (e.task >= ntasks) continue;
    const size_t t = e.task;
    switch (e.kind) {
      case EventKind::SyscallBegin:
      case EventKind::FuncEnter:
        calls[t].push_back({i, e.label.name});
        lanes[t].depth = std::max(lanes[t].depth, int(calls[t].size()) - 1);
        break;
      case EventKind::FuncExit: close_call(t, i, ""); break;
      case EventKind::SyscallEnd:
        while (calls[t].size() > 1) close_call(t, i, "");
        close_call(t, i, fmt::format("returned {}", mm::result_name(e.arg)));
        break;
      case EventKind::Acquired:
        held[t][e.obj.bits()] = i;
        if (e.other != sim::kNoTask && e.other < ntasks)
          arrows.push_back({i, e.other, t, fmt::format("{} passed from task {} to task {}", sim::describe(e.obj),
                                                       e.other, t)});
        break;
      case EventKind::Release:
        if (auto it = held[t].find(e.obj.bits()); it != held[t].end()) {
          lock_spans[t].push_back({it->second, i, 0, sim::describe(e.obj), e.label.name, lock_color(e.obj.kind)});
          held[t].erase(it);
        }
        break;
      case EventKind::Block: asleep[t] = i; break;
      case EventKind::Wake:
        if (asleep[t] != SIZE_MAX) lanes[t].sleeps.push_back({asleep[t], i});
        asleep[t] = SIZE_MAX;
        if (e.other != sim::kNoTask && e.other < ntasks)
          arrows.push_back({i, e.other, t, fmt::format("task {} wakes task {}", e.other, t)});
        break;
      case EventKind::Violation: violation_at = i; break;
      default: break;
    }
  }
  // What is still open when the run stopped ends there.
  for (size_t t = 0; t < ntasks; ++t) {
    while (!calls[t].empty()) close_call(t, end, "(still running when the run stopped)");
    for (const auto& [obj, since] : held[t]) {
      sim::Obj o{sim::ObjKind(obj >> 56), uint32_t(obj >> 32) & 0xffffff, uint32_t(obj)};
      lock_spans[t].push_back({since, end, 0, sim::describe(o), "held when the run stopped", lock_color(o.kind)});
    }
    if (asleep[t] != SIZE_MAX) lanes[t].sleeps.push_back({asleep[t], end});
    // Lock bars: each in the first row below the functions where it fits.
    std::sort(lock_spans[t].begin(), lock_spans[t].end(),
              [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    std::vector<size_t> row_end;
    for (Span& s : lock_spans[t]) {
      size_t r = 0;
      while (r < row_end.size() && row_end[r] > s.begin) ++r;
      if (r == row_end.size()) row_end.push_back(0);
      row_end[r] = s.end;
      s.row = lanes[t].depth + 1 + int(r);
      lanes[t].spans.push_back(s);
    }
    lanes[t].lock_rows = int(row_end.size());
  }
  return lanes;
}

}  // namespace

std::string trace_svg(const Outcome& out, const std::string& title) {
  std::vector<Arrow> arrows;
  size_t violation_at = SIZE_MAX;
  const std::vector<Lane> lanes = build_lanes(out, arrows, violation_at);
  const size_t n = std::max<size_t>(out.trace.size(), 1);
  constexpr double kLabelWidth = 190, kRow = 15, kLaneGap = 14, kTop = 56;
  const double px = std::clamp(7000.0 / double(n), 3.0, 16.0);
  const double width = kLabelWidth + px * double(n) + 20;
  std::vector<double> lane_y(lanes.size());
  double y = kTop;
  for (size_t t = 0; t < lanes.size(); ++t) {  // a task that never ran keeps its (empty) lane
    lane_y[t] = y;
    y += kRow * (1 + lanes[t].depth + lanes[t].lock_rows) + kLaneGap;
  }
  const double height = y + 24;
  auto x_of = [&](size_t i) { return kLabelWidth + px * double(i); };
  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"monospace\" font-size=\"10\">\n"
      "<defs><marker id=\"head\" markerWidth=\"8\" markerHeight=\"8\" refX=\"6\" refY=\"3\" orient=\"auto\">"
      "<path d=\"M0,0 L6,3 L0,6 z\" fill=\"#333\"/></marker></defs>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"8\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>\n"
      "<text x=\"8\" y=\"34\">{}{} on {}, {} steps, trace {:016x}. Spans: syscalls, kernel functions by depth, "
      "locks held (bars); grey: asleep; arrows: wake-ups and locks handed on. Hover for details.</text>\n",
      width, height, escape(title), outcome_name(out.kind), out.signature.empty() ? "" : " " + escape(out.signature),
      escape(out.kernel), out.steps, out.trace_hash);
  // Step ticks: the first event of every k-th step.
  const uint32_t every = std::max<uint32_t>(1, uint32_t(60.0 / px / 2) + 1) * 5;
  uint32_t last_step = UINT32_MAX;
  for (size_t i = 0; i < out.trace.size(); ++i) {
    const uint32_t step = out.trace[i].step;
    if (step == last_step || step % every) continue;
    last_step = step;
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.0f}\" x2=\"{0:.1f}\" y2=\"{2:.0f}\" stroke=\"#eee\"/>"
                       "<text x=\"{0:.1f}\" y=\"{3:.0f}\" fill=\"#888\">{4}</text>\n",
                       x_of(i), kTop - 4, height - 20, kTop - 6, step);
  }
  for (size_t t = 0; t < lanes.size(); ++t) {
    const Lane& lane = lanes[t];
    const double top = lane_y[t], h = kRow * (1 + lane.depth + lane.lock_rows);
    svg += fmt::format("<g id=\"lane-{}\">\n<rect x=\"0\" y=\"{:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\" "
                       "fill=\"{}\"/>\n<text x=\"6\" y=\"{:.0f}\" font-weight=\"bold\">task {} ({})</text>\n",
                       t, top - 3, width, h + 6, t % 2 ? "#fafafa" : "#f3f3f3", top + 11, t,
                       escape(out.task_names[t]));
    if (lane.spans.empty() && lane.sleeps.empty())
      svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" fill=\"#999\">(did not run)</text>\n", kLabelWidth, top + 11);
    for (const auto& [b, e] : lane.sleeps)
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.0f}\" width=\"{:.1f}\" height=\"{:.0f}\" fill=\"#999\" "
                         "opacity=\"0.35\"><title>asleep from step {} to {}</title></rect>\n",
                         x_of(b), top - 2, std::max(px * double(e - b), 1.0), h + 4, out.trace[b].step,
                         e < out.trace.size() ? out.trace[e].step : out.steps);
    for (const Span& s : lane.spans) {
      const double x = x_of(s.begin), w = std::max(px * double(s.end - s.begin), 2.0);
      const double sy = top + kRow * s.row;
      const uint32_t from = out.trace[s.begin].step;
      const uint32_t to = s.end < out.trace.size() ? out.trace[s.end].step : out.steps;
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.0f}\" width=\"{:.1f}\" height=\"{:.0f}\" fill=\"{}\" stroke=\"white\" "
          "stroke-width=\"0.5\"><title>{}{}{} (steps {} to {})</title></rect>\n",
          x, sy, w, kRow - 2, s.color, escape(s.name), s.detail.empty() ? "" : ": ", escape(s.detail), from, to);
      if (w > 6.0 * double(s.name.size()) + 4)
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" fill=\"{}\" pointer-events=\"none\">{}</text>\n", x + 2,
                           sy + 10, s.row == 0 || s.row > lane.depth ? "white" : "#123", escape(s.name));
    }
    svg += "</g>\n";
  }
  for (const Arrow& a : arrows) {
    const double x = x_of(a.at), y1 = lane_y[a.from] + kRow / 2, y2 = lane_y[a.to] + kRow / 2;
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.0f}\" x2=\"{0:.1f}\" y2=\"{2:.0f}\" stroke=\"#333\" "
                       "stroke-width=\"1.2\" marker-end=\"url(#head)\"><title>{3} (step {4})</title></line>\n",
                       x, y1, y2 + (y2 > y1 ? -4 : 4), escape(a.what), out.trace[a.at].step);
  }
  if (violation_at != SIZE_MAX) {
    const double x = x_of(violation_at);
    svg += fmt::format("<line id=\"violation\" x1=\"{0:.1f}\" y1=\"{1:.0f}\" x2=\"{0:.1f}\" y2=\"{2:.0f}\" "
                       "stroke=\"#d00\" stroke-width=\"2\"/><text x=\"{3:.1f}\" y=\"{4:.0f}\" fill=\"#d00\" "
                       "font-weight=\"bold\" text-anchor=\"end\">step {5}: {6} {7}</text>\n",
                       x, kTop - 2, height - 20, x - 4, height - 8, out.trace[violation_at].step,
                       outcome_name(out.kind), escape(out.signature));
  }
  return svg + "</svg>\n";
}

}  // namespace faultline
