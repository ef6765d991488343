// faultline bisect: which kernel change makes a schedule fail or pass. The
// schedule runs on every preset in version order; between two adjacent
// presets whose outcomes differ, the switches that differ are set one at a
// time, then in the smallest combinations, until the outcome flips.
#pragma once

#include <string>
#include <vector>

#include "vmcore/mm/kernel_config.h"
#include "vmcore/run.h"

namespace faultline {

struct BisectOutcome {
  OutcomeKind kind = OutcomeKind::Ok;
  std::string signature;
  friend bool operator==(const BisectOutcome&, const BisectOutcome&) = default;
};

std::string describe(const BisectOutcome& o);

struct SwitchChange {
  const mm::SwitchInfo* info;
  bool enabled;  // the value it is set to on the base preset
};

// Two adjacent presets with different outcomes, and what explains it.
struct Transition {
  const mm::PresetInfo* from;
  const mm::PresetInfo* to;
  BisectOutcome from_outcome, to_outcome;
  // Where the switches were set: `from` (set to `to`'s values) within an era;
  // across eras `to` (set back to `from`'s values), whose functions are the
  // newer era's.
  const mm::PresetInfo* base;
  size_t differing = 0;  // switches that differ between the two presets
  size_t runs = 0;       // combinations run
  // The smallest sets of switch changes that give the other preset's outcome
  // on the base; empty when none of at most max_combination does.
  std::vector<std::vector<SwitchChange>> culprits;
};

struct BisectReport {
  std::vector<std::pair<const mm::PresetInfo*, BisectOutcome>> presets;
  std::vector<Transition> transitions;
  size_t max_combination = 0;
};

// Replays s's decisions on each preset (the schedule's own kernel aside).
BisectReport bisect(const Schedule& s, size_t max_combination = 3);
std::string render_bisect(const std::string& file, const BisectReport& report);

}  // namespace faultline
