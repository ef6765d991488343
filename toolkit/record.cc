#include "toolkit/record.h"

#include <map>
#include <utility>

namespace faultline {

Kernel kernel_message(const mm::KernelConfig& cfg) {
  Kernel k;
  const mm::ConfigAsPreset as = mm::as_preset(cfg);
  k.set_preset(as.preset->name);
  for (const mm::SwitchSetting& s : as.switches) {
    Switch* sw = k.add_switches();
    sw->set_name(std::string(s.name));
    sw->set_enabled(s.enabled);
  }
  return k;
}

Schedule recorded_schedule(const Schedule& base, const Outcome& out, const mm::KernelConfig& cfg,
                           const std::string& recorder) {
  Schedule s = base;
  *s.mutable_kernel() = kernel_message(cfg);
  s.clear_decisions();
  for (const sim::RecordedDecision& d : out.decisions) {
    Decision* dec = s.add_decisions();
    dec->set_step(d.step);
    dec->set_task(d.task);
    dec->set_label(d.label.name);
  }
  Recording* r = s.mutable_recording();
  r->set_trace_hash(out.trace_hash);
  r->set_outcome(outcome_name(out.kind));
  r->set_signature(out.signature);
  r->set_steps(out.steps);
  r->set_recorder(recorder);
  return s;
}

namespace {

// The schedule-point event of each step (points are the events that open a step).
std::map<uint32_t, const sim::Event*> points_by_step(const Outcome& out) {
  std::map<uint32_t, const sim::Event*> points;
  for (const sim::Event& e : out.trace)
    if (sim::is_schedule_point(e.kind)) points.emplace(e.step, &e);
  return points;
}

}  // namespace

uint32_t count_preemptions(const Outcome& out) {
  const auto points = points_by_step(out);
  uint32_t n = 0;
  for (const sim::RecordedDecision& d : out.decisions) {
    auto it = points.find(d.step);
    if (it == points.end()) continue;  // the start of the run
    const sim::EventKind k = it->second->kind;
    if (k != sim::EventKind::Block && k != sim::EventKind::TaskExit) ++n;
  }
  return n;
}

Schedule with_label_decisions(const Schedule& s, const Outcome& traced) {
  // Hit counts of (task, label) at every point, in step order.
  std::map<uint32_t, std::pair<sim::TaskId, uint32_t>> hit_at_step;  // step -> (task, hit)
  std::map<std::pair<sim::TaskId, uint32_t>, uint32_t> hits;
  std::map<uint32_t, const char*> label_at_step;
  for (const auto& [step, e] : points_by_step(traced)) {
    const uint32_t n = ++hits[{e->task, e->label.id}];
    hit_at_step[step] = {e->task, n};
    label_at_step[step] = e->label.name;
  }
  Schedule out = s;
  out.clear_decisions();
  for (const Decision& d : s.decisions()) {
    Decision* nd = out.add_decisions();
    nd->set_task(d.task());
    auto it = hit_at_step.find(d.step());
    if (d.when_case() == Decision::kAt || it == hit_at_step.end()) {
      *nd = d;  // already a label hit, or the start of the run
      continue;
    }
    LabelHit* at = nd->mutable_at();
    at->set_task(it->second.first);
    at->set_label(label_at_step[d.step()]);
    at->set_hit(it->second.second);
  }
  return out;
}

}  // namespace faultline
