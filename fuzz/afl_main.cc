// AFL++ target: build/bin/fuzz_schedule_afl, persistent mode with shared-memory
// input; compiled with afl-clang-fast++. Interleaving coverage goes into
// AFL++'s own coverage map.
#include <cstdint>

#include "fuzz/fuzz_input.h"

extern "C" {
extern unsigned char* __afl_area_ptr;
extern unsigned int __afl_map_size;
}

__AFL_FUZZ_INIT();

namespace {

// Once per run, as in the libFuzzer target (AFL++ buckets hit counts itself,
// but repetitions of an interleaving feature are noise).
void count_feature(uint32_t feature) { __afl_area_ptr[feature % __afl_map_size] |= 1; }

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
