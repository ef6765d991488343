// Interleaving coverage. Code coverage barely moves when only the
// interleaving changes, so a run also yields features from its labelled
// events:
//   - conflict: an access to an object by one task ordered after a
//     conflicting access by another (write->read: the read saw that write;
//     read->write: the write came after that read; write->write), keyed by
//     both labels and the kind of pair;
//   - hand-off: a lock taken at a label right after another task released it;
//   - switch: the schedule point at which the scheduler moved to a task.
// Features are 32-bit hashes; engines fold them into their own maps.
// `corpus merge` adds label features (each event kind and label reached, in
// hit-count buckets), which stand in for the code coverage it has not got.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "vmcore/sim/event.h"

namespace faultline {

// Outcome: a failure signature; Label: a schedule point reached (corpus
// merging keeps both like coverage; the fuzzers get code coverage instead).
enum class FeatureKind : uint8_t { Conflict = 1, Handoff = 2, Switch = 3, Outcome = 4, Label = 5 };

// Which kinds a run yields: a bit per FeatureKind.
using FeatureKinds = uint32_t;
constexpr FeatureKinds feature_bit(FeatureKind k) { return FeatureKinds{1} << unsigned(k); }
inline constexpr FeatureKinds kInterleavingFeatures =
    feature_bit(FeatureKind::Conflict) | feature_bit(FeatureKind::Handoff) | feature_bit(FeatureKind::Switch);

// "conflict,handoff", "all" (the interleaving kinds), "none"; nullopt if a
// name is unknown.
std::optional<FeatureKinds> parse_feature_kinds(std::string_view list);

uint32_t feature_hash(FeatureKind kind, uint64_t a, uint64_t b = 0);

// The key of a conflict feature: the labels of both accesses and the pair.
uint32_t conflict_feature(uint32_t first_label, sim::Access first, uint32_t second_label, sim::Access second);

class InterleavingCoverage {
 public:
  explicit InterleavingCoverage(FeatureKinds kinds = kInterleavingFeatures) : kinds_(kinds) {}

  // Calls sink(feature) for every feature of the run, in event order.
  template <class Sink>
  void collect(std::span<const sim::Event> events, Sink&& sink);

 private:
  // Per object: the last write, and the last read since that write.
  struct LastAccess {
    uint64_t obj = 0;
    bool used = false;
    sim::TaskId writer = sim::kNoTask;
    sim::TaskId reader = sim::kNoTask;
    uint32_t write_label = 0;
    uint32_t read_label = 0;
  };
  static constexpr uint32_t kSlots = 1024;  // objects (and labels) a run touches are far fewer
  LastAccess* slot(uint64_t obj);
  // How often the run reached this event kind and label so far, this one included.
  uint32_t count_label(uint64_t key);
  void reset();
  bool on(FeatureKind k) const { return kinds_ & feature_bit(k); }

  FeatureKinds kinds_;
  LastAccess table_[kSlots];
  uint32_t used_[kSlots];
  uint32_t nused_ = 0;
  struct LabelCount {
    uint64_t key = 0;
    uint32_t count = 0;
  };
  LabelCount labels_[kSlots];
  uint32_t labels_used_[kSlots];
  uint32_t nlabels_ = 0;
};

// libFuzzer's hit-count buckets: a feature when a count reaches 1, 2, 3, 4, 8, 16, 32, 128.
constexpr bool starts_bucket(uint32_t n) {
  return n == 1 || n == 2 || n == 3 || n == 4 || n == 8 || n == 16 || n == 32 || n == 128;
}

template <class Sink>
void InterleavingCoverage::collect(std::span<const sim::Event> events, Sink&& sink) {
  using sim::Access;
  reset();
  const sim::Event* last_point = nullptr;
  for (const sim::Event& e : events) {
    if (e.kind == sim::EventKind::Acquired) {
      if (e.other != sim::kNoTask && on(FeatureKind::Handoff))
        sink(feature_hash(FeatureKind::Handoff, e.label.id, uint64_t(e.obj.kind)));
    } else if (sim::is_schedule_point(e.kind)) {
      if (last_point && last_point->task != e.task && on(FeatureKind::Switch))
        sink(feature_hash(FeatureKind::Switch, last_point->label.id, e.task));
      last_point = &e;
    }
    if (on(FeatureKind::Label) && e.label.id) {
      const uint64_t key = (uint64_t(e.kind) << 32) | e.label.id;
      if (const uint32_t n = count_label(key); starts_bucket(n)) sink(feature_hash(FeatureKind::Label, key, n));
    }
    if (e.access == Access::None || e.obj.kind == sim::ObjKind::None || !on(FeatureKind::Conflict)) continue;
    LastAccess* s = slot(e.obj.bits());
    if (e.access == Access::Read) {
      if (s->writer != sim::kNoTask && s->writer != e.task)
        sink(conflict_feature(s->write_label, Access::Write, e.label.id, Access::Read));
      s->reader = e.task;
      s->read_label = e.label.id;
    } else {
      if (s->reader != sim::kNoTask && s->reader != e.task)
        sink(conflict_feature(s->read_label, Access::Read, e.label.id, Access::Write));
      if (s->writer != sim::kNoTask && s->writer != e.task)
        sink(conflict_feature(s->write_label, Access::Write, e.label.id, Access::Write));
      s->writer = e.task;
      s->write_label = e.label.id;
      s->reader = sim::kNoTask;
    }
  }
}

}  // namespace faultline
