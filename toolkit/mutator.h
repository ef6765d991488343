// The structure-aware schedule mutator: a table of small named mutations with
// weights (add a syscall, move a preemption, swap two decisions, ...) and a
// crossover that splices tasks and decision runs. Deterministic for a seed;
// every result is a valid schedule within the size asked for.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmcore/schedule/schedule.pb.h"
#include "vmcore/sim/strategy.h"

namespace faultline {

struct MutatorLimits {
  uint32_t tasks = 6;
  uint32_t syscalls_per_task = 12;
  uint32_t decisions = 80;  // a periodic interleaving of 33 rounds fits
  uint32_t faults = 4;
};

// Where each task of a schedule goes when it runs: the mutations that place
// preemptions at points a task really reaches ask it.
class RunProbe;

class ScheduleMutator {
 public:
  explicit ScheduleMutator(uint64_t seed, MutatorLimits limits = {});
  ~ScheduleMutator();
  ScheduleMutator(ScheduleMutator&&) noexcept;
  ScheduleMutator& operator=(ScheduleMutator&&) noexcept;

  // Every output runs on this kernel (a pinned fuzzing campaign).
  void pin_kernel(std::optional<Kernel> kernel);
  // Schedule-point labels for label-hit decisions (from the dictionary).
  void set_labels(std::vector<std::string> labels) { labels_ = std::move(labels); }
  void reseed(uint64_t seed) { rng_.seed(seed); }
  // Every output is passed through this (it must keep the schedule valid):
  // a campaign restricted to schedules of one kind, as the host oracle's.
  void restrict_outputs(std::function<void(Schedule&)> restriction) { restriction_ = std::move(restriction); }

  // Mutates s in place; returns the name of the mutation applied ("" if none
  // applied). The result is valid and serializes to at most max_size bytes.
  std::string mutate(Schedule& s, size_t max_size);
  // A child of a and b: tasks and a run of decisions from b spliced into a.
  Schedule crossover(const Schedule& a, const Schedule& b, size_t max_size);

  // The libFuzzer/AFL++ glue: binary in, binary out (at most max_size bytes).
  // Input that does not parse is replaced by a small valid schedule.
  size_t mutate_bytes(uint8_t* data, size_t size, size_t max_size);
  size_t crossover_bytes(const uint8_t* a, size_t a_size, const uint8_t* b, size_t b_size, uint8_t* out,
                         size_t max_size);
  // The schedule these bytes decode to, if they are one of the last outputs
  // of the glue (nullptr otherwise). libFuzzer mutates its mutant again
  // (-mutate_depth) and runs each one as soon as it is made: the glue and the
  // target take it from here instead of parsing and validating it again.
  const Schedule* recent_output(std::string_view bytes) const;

  // The names of the mutations, for tests and statistics.
  static std::span<const char* const> mutation_names();

 private:
  // A schedule of the glue and its bytes: an output, or an input it parsed.
  struct Decoded {
    Schedule schedule;
    std::string bytes;
    bool valid = false;
  };

  std::string mutate_into(const Schedule& from, Schedule& out, size_t max_size);
  void crossover_into(const Schedule& a, const Schedule& b, Schedule& child, size_t max_size);
  // What the bytes decode to: a recent output or input, else parsed (the
  // starter schedule if they do not parse or are not valid) into the oldest
  // input slot other than `keep`'s.
  const Schedule& decode(std::string_view bytes, const Schedule* keep = nullptr);
  // The oldest output slot that holds neither input; its messages are reused.
  Decoded& next_output(const Schedule& in1, const Schedule& in2);
  size_t emit(Decoded& o, uint8_t* out, size_t max_size);
  void normalize(Schedule& s) const;
  bool fits(const Schedule& s, size_t max_size) const;
  void shrink_to(Schedule& s, size_t max_size);

  sim::SplitMix64 rng_;
  MutatorLimits limits_;
  std::optional<Kernel> kernel_;
  std::function<void(Schedule&)> restriction_;
  std::vector<std::string> labels_;
  std::unique_ptr<RunProbe> probe_;
  std::array<Decoded, 4> outputs_;
  size_t next_output_ = 0;
  // libFuzzer crosses a whole chain of mutations over with one input.
  std::array<Decoded, 2> inputs_;
  size_t next_input_ = 0;
};

// The labels of a fuzzing dictionary (libFuzzer/AFL++ format, the `label=`
// entries tools/labels_dict.sh writes); empty if the file cannot be read.
std::vector<std::string> dictionary_labels(const std::filesystem::path& dict);

}  // namespace faultline
