// A run is a pure function of its schedule: same schedule, same trace hash,
// whatever ran before; a different decision gives a different trace.
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "vmcore/sim/random_strategy.h"

namespace faultline {
namespace {

using testing::schedule_from_file;
using testing::source_dir;

Schedule race() { return schedule_from_file(source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb"); }

TEST(Determinism, TheRaceReplaysToOneTraceHash1000Times) {
  const Schedule s = race();
  const Outcome first = replay(s);
  ASSERT_EQ(first.kind, OutcomeKind::Violation);
  for (int i = 0; i < 1000; ++i) {
    const Outcome again = replay(s);
    ASSERT_EQ(again.trace_hash, first.trace_hash) << "run " << i;
    ASSERT_EQ(again.signature, first.signature) << "run " << i;
    ASSERT_EQ(again.steps, first.steps) << "run " << i;
  }
}

TEST(Determinism, ChangingOneDecisionChangesTheTrace) {
  Schedule s = race();
  const Outcome original = replay(s);
  s.mutable_decisions(0)->mutable_at()->set_label("invalidate_inode_pages2_range:page_mapped");
  const Outcome changed = replay(s);
  EXPECT_NE(changed.trace_hash, original.trace_hash);
  // Switching before page_mapped() is read lets the invalidation see the pte.
  EXPECT_EQ(changed.kind, OutcomeKind::Ok);
}

TEST(Determinism, NothingLeaksFromOneRunIntoTheNext) {
  const Schedule a = race();
  const Schedule b = schedule_from_file(source_dir() / "corpus/regressions/fault_vs_truncate.txtpb");
  Runner fresh;
  sim::ReplayStrategy sa = replay_strategy(a);
  const Outcome on_fresh = fresh.run(a, sa);
  Runner used;
  sim::ReplayStrategy sb = replay_strategy(b);
  for (int i = 0; i < 3; ++i) used.run(b, sb);
  const Outcome on_used = used.run(a, sa);
  EXPECT_EQ(on_used.trace_hash, on_fresh.trace_hash);
  EXPECT_EQ(on_used.signature, on_fresh.signature);
}

TEST(Determinism, RecordedRandomInterleavingsReplayExactly) {
  const Schedule base = schedule_from_file(source_dir() / "corpus/regressions/fault_vs_truncate.txtpb");
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    Schedule s = base;
    s.clear_decisions();
    sim::RandomStrategy random(seed);
    const Outcome recorded = run(s, random);
    for (const sim::RecordedDecision& d : recorded.decisions) {
      Decision* out = s.add_decisions();
      out->set_step(d.step);
      out->set_task(d.task);
      out->set_label(d.label.name);
    }
    const Outcome replayed = replay(s);
    EXPECT_EQ(replayed.trace_hash, recorded.trace_hash) << "seed " << seed;
    EXPECT_EQ(replayed.kind, recorded.kind) << "seed " << seed;
  }
}

}  // namespace
}  // namespace faultline
