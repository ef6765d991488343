// The AFL++ custom mutator (AFL++ 4.04c API; no AFL++ headers needed):
// build/lib/libfaultline_afl_mutator.so. Use with
//   AFL_CUSTOM_MUTATOR_LIBRARY=build/lib/libfaultline_afl_mutator.so AFL_CUSTOM_MUTATOR_ONLY=1
//   FAULTLINE_DICT=build/fuzz_schedule.dict (labels for label-hit decisions)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "toolkit/mutator.h"

namespace {

struct State {
  explicit State(unsigned int seed) : mutator(seed) {}
  faultline::ScheduleMutator mutator;
  std::vector<uint8_t> out;
  faultline::sim::SplitMix64 rng{0};
};

}  // namespace

extern "C" void* afl_custom_init(void* /*afl*/, unsigned int seed) {
  auto* s = new State(seed);
  s->rng.seed(seed);
  s->mutator.pin_kernel(faultline::fuzz::config().kernel_message);
  if (!faultline::fuzz::config().dictionary.empty())
    s->mutator.set_labels(faultline::dictionary_labels(faultline::fuzz::config().dictionary));
  return s;
}

extern "C" size_t afl_custom_fuzz(void* data, uint8_t* buf, size_t buf_size, uint8_t** out_buf, uint8_t* add_buf,
                                  size_t add_buf_size, size_t max_size) {
  auto* s = static_cast<State*>(data);
  // max_size is AFL++'s file limit (1 MB): grow the buffer once, never clear it.
  if (s->out.size() < std::max(max_size, buf_size)) s->out.resize(std::max(max_size, buf_size));
  size_t n;
  if (add_buf && add_buf_size && s->rng.below(4) == 0) {
    n = s->mutator.crossover_bytes(buf, buf_size, add_buf, add_buf_size, s->out.data(), max_size);
  } else {
    std::memcpy(s->out.data(), buf, buf_size);
    n = s->mutator.mutate_bytes(s->out.data(), buf_size, max_size);
  }
  *out_buf = s->out.data();
  return n;
}

extern "C" const char* afl_custom_describe(void* /*data*/, size_t /*max_description_len*/) { return "faultline"; }

extern "C" void afl_custom_deinit(void* data) { delete static_cast<State*>(data); }
