// One fuzzing input end to end, shared by the libFuzzer and AFL++ targets:
// parse (or reject), run on the pinned kernel, feed interleaving coverage, and
// turn a failure into a report, a DEDUP_TOKEN line and abort().
//
// Environment:
//   FAULTLINE_KERNEL=<preset>   run every input on this preset (recorded in mutants)
//   FAULTLINE_IGNORE=<sig>,...  signature prefixes that are known and not crashes
//   FAULTLINE_ONLY=<sig>,...    only these signature prefixes are crashes (time-to-bug runs)
//   FAULTLINE_DICT=<file>       labels for the mutator's label-hit decisions (AFL++;
//                               libFuzzer takes its -dict= file)
//   FAULTLINE_INTERLEAVING_COVERAGE=0|1|conflict,handoff,switch
//                               code coverage only, all interleaving features (the
//                               default), or only the kinds listed
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "toolkit/coverage.h"
#include "vmcore/mm/kernel_config.h"
#include "vmcore/schedule/schedule.pb.h"

namespace faultline::fuzz {

struct Config {
  std::optional<mm::KernelConfig> kernel;
  std::optional<Kernel> kernel_message;
  std::vector<std::string> ignore;
  std::vector<std::string> only;
  FeatureKinds interleaving = kInterleavingFeatures;
  // Where the engine writes crash files (libFuzzer's -artifact_prefix), for
  // the pinned copy of a crashing input that records another kernel.
  std::string artifact_prefix;
  // The fuzzing dictionary, whose labels the mutator uses.
  std::string dictionary;
};

// Read from the environment once; exits with status 2 on a bad setting.
const Config& config();
// The engine's own flags (libFuzzer's argv), read once at start-up.
void read_engine_flags(int argc, char** argv);

using FeatureSink = void (*)(uint32_t feature);

// -1: rejected (does not parse or is not a valid schedule); 0: ran.
// `decoded`, if not null, is what the bytes decode to (the mutator's
// recent_output), and they are not parsed again.
int run_input(const uint8_t* data, size_t size, FeatureSink sink, const Schedule* decoded = nullptr);

}  // namespace faultline::fuzz
