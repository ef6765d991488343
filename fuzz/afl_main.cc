// AFL++ target: build/bin/fuzz_schedule_afl, persistent mode with shared-memory
// input; compiled with afl-clang-fast++. Interleaving coverage goes into
// AFL++'s own coverage map.
#include <cstdint>

#include "fuzz/fuzz_input.h"

// AFL++'s runtime (afl-compiler-rt): set a byte of the coverage map. The map
// pointer itself is not declared here: the instrumentation pass owns that name.
extern "C" void __afl_coverage_interesting(unsigned char value, unsigned int id);
extern "C" unsigned int __afl_map_size;

__AFL_FUZZ_INIT();

namespace {

// Once per run, as in the libFuzzer target (AFL++ buckets hit counts itself,
// but repetitions of an interleaving feature are noise).
void count_feature(uint32_t feature) { __afl_coverage_interesting(1, feature % __afl_map_size); }

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
