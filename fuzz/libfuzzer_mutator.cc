#include "fuzz/libfuzzer_mutator.h"

#include <cstddef>
#include <cstdint>

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  faultline::ScheduleMutator& m = faultline::fuzz::libfuzzer_mutator();
  m.reseed(seed);
  return m.mutate_bytes(data, size, max_size);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                                            uint8_t* out, size_t max_out_size, unsigned int seed) {
  faultline::ScheduleMutator& m = faultline::fuzz::libfuzzer_mutator();
  m.reseed(seed);
  return m.crossover_bytes(data1, size1, data2, size2, out, max_out_size);
}
