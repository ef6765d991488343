#include "toolkit/bisect.h"

#include <fmt/format.h>

namespace faultline {

namespace {

// At most this many runs per transition: a combination search over many
// differing switches stops there.
constexpr size_t kMaxRunsPerTransition = 4096;

BisectOutcome run_on(Runner& runner, const Schedule& s, const mm::KernelConfig& cfg) {
  sim::ReplayStrategy strategy = replay_strategy(s);
  const Outcome out = runner.run(s, strategy, RunOptions{.kernel = cfg, .keep_results = false, .trace_hash = false});
  return {out.kind, out.signature};
}

// Calls visit(subset) for each k-subset of [0, n) in lexicographic order
// until it returns false.
template <class Visit>
bool for_each_subset(size_t n, size_t k, Visit visit) {
  std::vector<size_t> idx(k);
  for (size_t i = 0; i < k; ++i) idx[i] = i;
  while (true) {
    if (!visit(idx)) return false;
    size_t i = k;
    while (i > 0 && idx[i - 1] == n - k + (i - 1)) --i;
    if (i == 0) return true;
    ++idx[i - 1];
    for (size_t j = i; j < k; ++j) idx[j] = idx[j - 1] + 1;
  }
}

// The smallest sets of base's switches set to other's values that give target.
void search(Runner& runner, const Schedule& s, const mm::PresetInfo* base, const mm::PresetInfo* other,
            const BisectOutcome& target, size_t max_combination, Transition& t) {
  t.base = base;
  std::vector<SwitchChange> differing;
  for (const mm::SwitchInfo& sw : mm::kernel_switches())
    if (base->config.*sw.field != other->config.*sw.field) differing.push_back({&sw, other->config.*sw.field});
  t.differing = differing.size();
  for (size_t k = 1; k <= std::min(max_combination, differing.size()) && t.culprits.empty(); ++k) {
    for_each_subset(differing.size(), k, [&](const std::vector<size_t>& subset) {
      if (t.runs >= kMaxRunsPerTransition) return false;
      std::vector<mm::SwitchSetting> settings;
      for (size_t i : subset) settings.push_back({differing[i].info->name, differing[i].enabled});
      std::string error;
      const auto cfg = mm::build_config(base->name, settings, &error);
      if (!cfg) return true;  // no kernel: a switch without the one it needs
      ++t.runs;
      if (run_on(runner, s, *cfg) == target) {
        std::vector<SwitchChange> culprit;
        for (size_t i : subset) culprit.push_back(differing[i]);
        t.culprits.push_back(std::move(culprit));
      }
      return true;
    });
  }
}

// The older preset with the newer one's switches first; across eras, when
// that does not do it, the newer preset with the older one's switches (its
// functions are the newer era's).
void explain(Runner& runner, const Schedule& s, Transition& t, size_t max_combination) {
  search(runner, s, t.from, t.to, t.to_outcome, max_combination, t);
  if (t.culprits.empty() && t.from->era != t.to->era) {
    const size_t forward_runs = t.runs;
    search(runner, s, t.to, t.from, t.from_outcome, max_combination, t);
    t.runs += forward_runs;
  }
}

const char* verdict(const BisectOutcome& before, const BisectOutcome& after) {
  if (is_failure(before.kind) && !is_failure(after.kind)) return "fixed";
  if (!is_failure(before.kind) && is_failure(after.kind)) return "introduced";
  return "changed";
}

std::string changes_text(const std::vector<SwitchChange>& changes) {
  std::string text;
  for (const SwitchChange& c : changes)
    text += fmt::format("{}{} {}", text.empty() ? "" : " + ", c.info->name, c.enabled ? "on" : "off");
  return text;
}

}  // namespace

std::string describe(const BisectOutcome& o) {
  return o.signature.empty() ? outcome_name(o.kind) : fmt::format("{} {}", outcome_name(o.kind), o.signature);
}

BisectReport bisect(const Schedule& s, size_t max_combination) {
  BisectReport report;
  report.max_combination = max_combination;
  Runner runner;
  for (const mm::PresetInfo& p : mm::kernel_presets()) report.presets.emplace_back(&p, run_on(runner, s, p.config));
  for (size_t i = 1; i < report.presets.size(); ++i) {
    const auto& [from, from_outcome] = report.presets[i - 1];
    const auto& [to, to_outcome] = report.presets[i];
    if (from_outcome == to_outcome) continue;
    Transition t{.from = from, .to = to, .from_outcome = from_outcome, .to_outcome = to_outcome, .base = nullptr};
    explain(runner, s, t, max_combination);
    report.transitions.push_back(std::move(t));
  }
  return report;
}

std::string render_bisect(const std::string& file, const BisectReport& report) {
  std::string text = fmt::format("{} on every preset, in version order (its decisions replayed):\n", file);
  for (const auto& [preset, outcome] : report.presets)
    text += fmt::format("  {:<9} {:<8} {}\n", preset->name, mm::era_name(preset->era), describe(outcome));
  if (report.transitions.empty()) return text + "The outcome is the same on every preset.\n";
  for (const Transition& t : report.transitions) {
    text += fmt::format("\n{} -> {}: {} -> {}: {}\n", t.from->name, t.to->name, describe(t.from_outcome),
                        describe(t.to_outcome), verdict(t.from_outcome, t.to_outcome));
    if (t.differing == 0) {
      text += "  no switch differs between them (the release alone, which changes no behaviour of the model?)\n";
      continue;
    }
    const bool forward = t.base == t.from;
    const mm::PresetInfo* other = forward ? t.to : t.from;
    for (const auto& culprit : t.culprits) {
      text += fmt::format("  by {}: {} with {}'s value{} gives {}\n", changes_text(culprit), t.base->name,
                          other->name, culprit.size() == 1 ? "" : "s",
                          describe(forward ? t.to_outcome : t.from_outcome));
      for (const SwitchChange& c : culprit)
        text += fmt::format("    {}: {} ({})\n", c.info->name, c.info->summary, c.info->since);
    }
    if (t.culprits.empty())
      text += fmt::format("  no combination of up to {} differing switches gives it ({} runs){}\n",
                          report.max_combination, t.runs,
                          t.from->era == t.to->era
                              ? ""
                              : fmt::format(": the {} era's own functions decide", mm::era_name(t.to->era)));
    else
      text += fmt::format("  ({} of the {} switches that differ; {} combinations run)\n", t.culprits[0].size(),
                          t.differing, t.runs);
  }
  return text;
}

}  // namespace faultline
