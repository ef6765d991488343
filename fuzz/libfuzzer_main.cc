// libFuzzer entry points: build/bin/fuzz_schedule. Inputs are binary schedules.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "fuzz/libfuzzer_mutator.h"
#include "toolkit/mutator.h"

namespace {

// Interleaving coverage, read by libFuzzer after every run as extra counters.
// A feature counts once per run: counting repetitions would turn every small
// change in how often a conflict recurs into "new coverage" and flood the corpus.
constexpr size_t kCounters = 1 << 14;
__attribute__((used, section("__libfuzzer_extra_counters"))) uint8_t g_counters[kCounters];

void count_feature(uint32_t feature) { g_counters[feature % kCounters] = 1; }

faultline::ScheduleMutator& mutator() {
  static faultline::ScheduleMutator m = [] {
    faultline::ScheduleMutator mut(0);
    mut.pin_kernel(faultline::fuzz::config().kernel_message);
    if (!faultline::fuzz::config().dictionary.empty())
      mut.set_labels(faultline::dictionary_labels(faultline::fuzz::config().dictionary));
    return mut;
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  faultline::fuzz::config();
  faultline::fuzz::read_engine_flags(*argc, *argv);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  return faultline::fuzz::run_input(data, size, count_feature, mutator().recent_output(bytes));
}

faultline::ScheduleMutator& faultline::fuzz::libfuzzer_mutator() { return mutator(); }
