// The fuzz targets' own work per execution, without the engine: the custom
// mutator and crossover (parse, mutate, validate, serialize) and run_input
// (parse, run on the pinned kernel, interleaving features), over the
// schedules of MUTATOR_BENCH_CORPUS (a campaign's corpus, say) if it is set,
// topped up to 1,000 with mutants of corpus/seeds/ made by the mutator itself
// on v2.6.26.
//   build/bin/mutator_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "toolkit/mutator.h"
#include "toolkit/schedule_file.h"

namespace faultline {
namespace {

constexpr size_t kMaxInput = 4096;  // libFuzzer's default -max_len for this corpus

Kernel pinned() {
  Kernel k;
  k.set_preset("v2.6.26");
  return k;
}

ScheduleMutator make_mutator(uint64_t seed) {
  ScheduleMutator m(seed);
  m.pin_kernel(pinned());
  return m;
}

// Mutants of the seeds, chained five deep as libFuzzer does (-mutate_depth).
const std::vector<std::string>& mutants() {
  static const std::vector<std::string> out = [] {
    setenv("FAULTLINE_KERNEL", "v2.6.26", 1);
    setenv("FAULTLINE_ONLY", "(none)", 1);  // a violation is not a crash here
    std::vector<std::string> seeds;
    for (const auto& e : std::filesystem::directory_iterator(std::string(FAULTLINE_SOURCE_DIR) + "/corpus/seeds"))
      if (auto loaded = load_schedule_file(e.path()); loaded.schedule) seeds.push_back(to_binary(*loaded.schedule));
    std::sort(seeds.begin(), seeds.end());
    ScheduleMutator m = make_mutator(1);
    std::vector<std::string> made;
    if (const char* dir = std::getenv("MUTATOR_BENCH_CORPUS")) {
      for (const auto& e : std::filesystem::directory_iterator(dir))
        if (auto loaded = load_schedule_file(e.path()); loaded.schedule) made.push_back(to_binary(*loaded.schedule));
      std::sort(made.begin(), made.end());
    }
    for (size_t i = 0; made.size() < 1000; ++i) {
      std::string buf = seeds[i % seeds.size()];
      for (int depth = 0; depth < 5; ++depth) {
        buf.resize(kMaxInput);
        buf.resize(m.mutate_bytes(reinterpret_cast<uint8_t*>(buf.data()), buf.size(), kMaxInput));
        made.push_back(buf);
      }
    }
    return made;
  }();
  return out;
}

const uint8_t* bytes_of(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// The mutants in turn: the i-th, and one a stride further on for crossovers.
struct Cycle {
  const std::vector<std::string>& inputs = mutants();
  size_t i = 0;
  const std::string& next() { return inputs[i++ % inputs.size()]; }
  const std::string& partner() const { return inputs[(i * 7 + 3) % inputs.size()]; }
};

void BM_MutateBytes(benchmark::State& state) {
  Cycle inputs;
  ScheduleMutator m = make_mutator(2);
  std::vector<uint8_t> buf(kMaxInput);
  for (auto _ : state) {
    const std::string& in = inputs.next();
    std::copy(in.begin(), in.end(), buf.begin());
    benchmark::DoNotOptimize(m.mutate_bytes(buf.data(), in.size(), kMaxInput));
  }
}
BENCHMARK(BM_MutateBytes);

void BM_CrossoverBytes(benchmark::State& state) {
  Cycle inputs;
  ScheduleMutator m = make_mutator(3);
  std::vector<uint8_t> out(kMaxInput);
  for (auto _ : state) {
    const std::string& b = inputs.partner();
    const std::string& a = inputs.next();
    benchmark::DoNotOptimize(m.crossover_bytes(bytes_of(a), a.size(), bytes_of(b), b.size(), out.data(), kMaxInput));
  }
}
BENCHMARK(BM_CrossoverBytes);

void count(uint32_t feature) { benchmark::DoNotOptimize(feature); }

void BM_RunInput(benchmark::State& state) {
  Cycle inputs;
  for (auto _ : state) {
    const std::string& in = inputs.next();
    benchmark::DoNotOptimize(fuzz::run_input(bytes_of(in), in.size(), count));
  }
}
BENCHMARK(BM_RunInput);

// What the target does per execution inside libFuzzer's loop: a corpus input,
// then five mutations in a row (custom mutation or crossover with another
// input, half each), each run as fuzz_schedule runs it.
void BM_FuzzIteration(benchmark::State& state) {
  Cycle inputs;
  ScheduleMutator m = make_mutator(4);
  std::vector<uint8_t> buf(kMaxInput), out(kMaxInput);
  size_t chain = 0, runs = 0;
  for (auto _ : state) {
    const std::string& other = inputs.partner();  // one per chain, as libFuzzer picks it
    const std::string& in = inputs.next();
    size_t size = in.size();
    std::copy(in.begin(), in.end(), buf.begin());
    for (int depth = 0; depth < 5; ++depth, ++runs) {
      if ((chain + size_t(depth)) % 2) {
        size = m.mutate_bytes(buf.data(), size, kMaxInput);
      } else {
        size = m.crossover_bytes(buf.data(), size, bytes_of(other), other.size(), out.data(), kMaxInput);
        std::copy(out.begin(), out.begin() + ptrdiff_t(size), buf.begin());
      }
      const std::string_view bytes(reinterpret_cast<const char*>(buf.data()), size);
      benchmark::DoNotOptimize(fuzz::run_input(buf.data(), size, count, m.recent_output(bytes)));
    }
    ++chain;
  }
  state.counters["executions/s"] = benchmark::Counter(double(runs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FuzzIteration);

}  // namespace
}  // namespace faultline
