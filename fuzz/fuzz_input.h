// One fuzzing input end to end, shared by the libFuzzer and AFL++ targets:
// parse (or reject), run on the pinned kernel, feed interleaving coverage, and
// turn a failure into a report, a DEDUP_TOKEN line and abort().
//
// Environment:
//   FAULTLINE_KERNEL=<preset>   run every input on this preset (recorded in mutants)
//   FAULTLINE_IGNORE=<sig>,...  signature prefixes that are known and not crashes
//   FAULTLINE_ONLY=<sig>,...    only these signature prefixes are crashes (time-to-bug runs)
//   FAULTLINE_INTERLEAVING_COVERAGE=0   code coverage only
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmcore/mm/kernel_config.h"
#include "vmcore/schedule/schedule.pb.h"

namespace faultline::fuzz {

struct Config {
  std::optional<mm::KernelConfig> kernel;
  std::optional<Kernel> kernel_message;
  std::vector<std::string> ignore;
  std::vector<std::string> only;
  bool interleaving_coverage = true;
};

// Read from the environment once; exits with status 2 on a bad setting.
const Config& config();

using FeatureSink = void (*)(uint32_t feature);

// -1: rejected (does not parse or is not a valid schedule); 0: ran.
int run_input(const uint8_t* data, size_t size, FeatureSink sink);

}  // namespace faultline::fuzz
