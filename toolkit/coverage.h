// Interleaving coverage. Code coverage barely moves when only the
// interleaving changes, so a run also yields features from its labelled
// events:
//   - conflict: task A touched an object, then task B touched it, at least one
//     of them writing (write->read, read->write, write->write), keyed by both
//     labels and accesses;
//   - hand-off: a lock taken at a label right after another task released it;
//   - switch: the schedule point at which the scheduler moved to a task.
// Features are 32-bit hashes; engines fold them into their own maps.
#pragma once

#include <cstdint>
#include <span>

#include "vmcore/sim/event.h"

namespace faultline {

// Outcome: a failure signature, which corpus merging keeps like coverage.
enum class FeatureKind : uint8_t { Conflict = 1, Handoff = 2, Switch = 3, Outcome = 4 };

class InterleavingCoverage {
 public:
  // Calls sink(feature) for every feature of the run, in event order.
  template <class Sink>
  void collect(std::span<const sim::Event> events, Sink&& sink);

 private:
  struct LastAccess {
    uint64_t obj = 0;
    uint32_t label = 0;
    sim::TaskId task = sim::kNoTask;
    sim::Access access = sim::Access::None;
  };
  static constexpr uint32_t kSlots = 1024;  // objects a run touches are far fewer
  LastAccess* slot(uint64_t obj);
  void reset();

  LastAccess table_[kSlots];
  uint32_t used_[kSlots];
  uint32_t nused_ = 0;
};

uint32_t feature_hash(FeatureKind kind, uint64_t a, uint64_t b = 0);

template <class Sink>
void InterleavingCoverage::collect(std::span<const sim::Event> events, Sink&& sink) {
  reset();
  const sim::Event* last_point = nullptr;
  for (const sim::Event& e : events) {
    switch (e.kind) {
      case sim::EventKind::Acquired:
        if (e.other != sim::kNoTask) sink(feature_hash(FeatureKind::Handoff, e.label.id, uint64_t(e.obj.kind)));
        break;
      case sim::EventKind::Point:
      case sim::EventKind::Acquire:
      case sim::EventKind::Release:
      case sim::EventKind::SyscallBegin:
      case sim::EventKind::Block:
      case sim::EventKind::TaskExit:
        if (last_point && last_point->task != e.task)
          sink(feature_hash(FeatureKind::Switch, last_point->label.id, e.task));
        last_point = &e;
        break;
      default: break;
    }
    if (e.access == sim::Access::None || e.obj.kind == sim::ObjKind::None) continue;
    LastAccess* prev = slot(e.obj.bits());
    if (prev->task != sim::kNoTask && prev->task != e.task &&
        (prev->access == sim::Access::Write || e.access == sim::Access::Write)) {
      sink(feature_hash(FeatureKind::Conflict, (uint64_t(prev->label) << 32) | e.label.id,
                        (uint64_t(prev->access) << 8) | uint64_t(e.access)));
    }
    *prev = LastAccess{e.obj.bits(), e.label.id, e.task, e.access};
  }
}

}  // namespace faultline
