// AFL++ target: build/bin/fuzz_schedule_afl, persistent mode with shared-memory
// input; compiled with afl-clang-fast++. Interleaving coverage goes into
// AFL++'s own coverage map, in slots of its own after the code edges.
#include <cstdint>

#include "fuzz/fuzz_input.h"

// AFL++'s runtime (afl-compiler-rt). Guards handed to the sanitizer-coverage
// init hook get map slots after every instrumented edge and grow the map that
// the forkserver reports; __afl_coverage_interesting sets one slot. The map
// pointer itself is not declared here: the instrumentation pass owns that name.
extern "C" void __sanitizer_cov_trace_pc_guard_init(uint32_t* start, uint32_t* stop);
extern "C" void __afl_coverage_interesting(unsigned char value, unsigned int id);

__AFL_FUZZ_INIT();

namespace {

constexpr uint32_t kInterleavingSlots = 1 << 14;  // as many as the libFuzzer target's counters
uint32_t g_slots[kInterleavingSlots];

// Before AFL++ maps its shared memory (its constructors run at priorities 3
// and 5), like the instrumented modules' own guard initialisation.
__attribute__((constructor(2))) void reserve_interleaving_slots() {
  __sanitizer_cov_trace_pc_guard_init(g_slots, g_slots + kInterleavingSlots);
}

// Once per run, as in the libFuzzer target (AFL++ buckets hit counts itself,
// but repetitions of an interleaving feature are noise).
void count_feature(uint32_t feature) { __afl_coverage_interesting(1, g_slots[feature % kInterleavingSlots]); }

}  // namespace

int main() {
  faultline::fuzz::config();
  __AFL_INIT();
  unsigned char* buf = __AFL_FUZZ_TESTCASE_BUF;
  while (__AFL_LOOP(10000)) {
    const int len = __AFL_FUZZ_TESTCASE_LEN;
    faultline::fuzz::run_input(buf, size_t(len), count_feature);
  }
  return 0;
}
