// The structure-aware mutator as libFuzzer's custom mutator and crossover
// (libfuzzer_mutator.cc): linked into each libFuzzer target, which supplies
// its mutator.
#pragma once

#include "toolkit/mutator.h"

namespace faultline::fuzz {

// The target's mutator (its kernel pin, labels and output restriction).
ScheduleMutator& libfuzzer_mutator();

}  // namespace faultline::fuzz
