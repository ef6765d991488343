// The structure-aware mutator and interleaving coverage.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "tests/test_util.h"
#include "toolkit/coverage.h"
#include "toolkit/mutator.h"
#include "vmcore/sim/random_strategy.h"

namespace faultline {
namespace {

using testing::schedule_from_file;
using testing::source_dir;

std::vector<Schedule> seeds() {
  std::vector<Schedule> out;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "corpus/seeds"))
    out.push_back(schedule_from_file(entry.path()));
  std::sort(out.begin(), out.end(), [](const Schedule& a, const Schedule& b) { return to_binary(a) < to_binary(b); });
  return out;
}

TEST(Mutator, SameSeedSameMutants) {
  const Schedule base = seeds()[0];
  auto run = [&](uint64_t seed) {
    ScheduleMutator m(seed);
    Schedule s = base;
    std::string trail;
    for (int i = 0; i < 200; ++i) {
      trail += m.mutate(s, 4096) + ",";
      trail += to_binary(s);
    }
    return trail;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

// The dictionary the build generates from the model's sources.
std::vector<std::string> model_labels() {
  return dictionary_labels(std::filesystem::path(FAULTLINE_BIN_DIR) / ".." / "fuzz_schedule.dict");
}

TEST(Mutator, TheDictionaryNamesEveryLabelTheCorpusDecisionsUse) {
  const std::vector<std::string> labels = model_labels();
  ASSERT_GT(labels.size(), 100u);
  const std::set<std::string> known(labels.begin(), labels.end());
  size_t checked = 0;
  for (const char* dir : {"corpus/seeds", "corpus/regressions"})
    for (const auto& entry : std::filesystem::directory_iterator(source_dir() / dir)) {
      const Schedule s = schedule_from_file(entry.path());
      for (const Decision& d : s.decisions())
        if (d.when_case() == Decision::kAt) {
          EXPECT_TRUE(known.count(d.at().label())) << entry.path() << ": " << d.at().label();
          ++checked;
        }
    }
  EXPECT_GT(checked, 10u);
}

TEST(Mutator, EveryMutantIsAValidScheduleWithinBounds) {
  const MutatorLimits limits;
  std::map<std::string, int> applied;
  for (const Schedule& seed : seeds()) {
    ScheduleMutator m(7);
    m.set_labels(model_labels());
    Schedule s = seed;
    for (int i = 0; i < 300; ++i) {
      ++applied[m.mutate(s, 4096)];
      ASSERT_FALSE(validate_schedule(s)) << *validate_schedule(s) << "\n" << to_text(s);
      ASSERT_LE(s.ByteSizeLong(), 4096u);
      ASSERT_LE(uint32_t(s.tasks_size()), std::max<uint32_t>(limits.tasks, uint32_t(seed.tasks_size())));
      ASSERT_LE(uint32_t(s.decisions_size()), limits.decisions);
      for (const Task& t : s.tasks()) ASSERT_LE(uint32_t(t.syscalls_size()), limits.syscalls_per_task + 1);
    }
  }
  // Every mutation in the table gets used.
  for (const char* name : ScheduleMutator::mutation_names()) EXPECT_GT(applied[name], 0) << name;
}

TEST(Mutator, ASmallMaxSizeShrinksTheScheduleNotEmptiesIt) {
  for (const Schedule& seed : seeds()) {
    ScheduleMutator m(3);
    for (size_t max_size : {200u, 120u, 80u, 60u}) {
      Schedule s = seed;
      m.mutate(s, max_size);
      EXPECT_LE(s.ByteSizeLong(), max_size);
      EXPECT_FALSE(validate_schedule(s)) << max_size << ": " << validate_schedule(s).value_or("") << "\n" << to_text(s);
    }
  }
}

TEST(Mutator, ShrinksToTheMaximumSizeAskedFor) {
  Schedule big = seeds()[0];
  ScheduleMutator m(1);
  for (int i = 0; i < 400; ++i) m.mutate(big, 1 << 16);
  ASSERT_GT(big.ByteSizeLong(), 200u);
  for (size_t max : {200u, 100u, 40u}) {
    Schedule s = big;
    m.mutate(s, max);
    EXPECT_LE(s.ByteSizeLong(), max);
    EXPECT_FALSE(validate_schedule(s));
  }
}

TEST(Mutator, BytesThatDoNotParseBecomeAValidSchedule) {
  ScheduleMutator m(3);
  std::vector<uint8_t> buf(4096, 0xff);
  const size_t n = m.mutate_bytes(buf.data(), 17, buf.size());
  Schedule s;
  ASSERT_TRUE(s.ParseFromArray(buf.data(), int(n)));
  EXPECT_FALSE(validate_schedule(s));
  EXPECT_GT(s.tasks_size(), 0);
}

// The glue keeps its last outputs decoded; a chain of mutations and
// crossovers through it gives the same bytes as a fresh mutator for every
// step (nothing but the bytes carries over), and each kept output is exactly
// what its bytes parse to.
TEST(Mutator, RecentOutputsAreWhatTheirBytesDecodeTo) {
  const auto all = seeds();
  std::vector<std::string> corpus;
  for (const Schedule& s : all) corpus.push_back(to_binary(s));
  corpus.push_back("not a schedule");
  Kernel pin;
  pin.set_preset("v2.6.26");
  ScheduleMutator kept(0);
  kept.pin_kernel(pin);
  std::string buf = corpus[0];
  size_t crossovers = 0, hits = 0;
  for (unsigned step = 0; step < 600; ++step) {
    ScheduleMutator fresh(0);
    fresh.pin_kernel(pin);
    kept.reseed(step);
    fresh.reseed(step);
    const std::string& other = corpus[step % corpus.size()];
    auto apply = [&](ScheduleMutator& m, std::string in) {
      std::string out(4096, '\0');
      auto* data = reinterpret_cast<uint8_t*>(out.data());
      if (step % 3 == 0) {
        out.resize(m.crossover_bytes(reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                                     reinterpret_cast<const uint8_t*>(other.data()), other.size(), data, 4096));
      } else {
        std::copy(in.begin(), in.end(), out.begin());
        out.resize(m.mutate_bytes(data, in.size(), 4096));
      }
      return out;
    };
    hits += kept.recent_output(buf) != nullptr;
    const std::string next = apply(kept, buf);
    ASSERT_EQ(next, apply(fresh, buf)) << "step " << step;
    crossovers += step % 3 == 0;
    const Schedule* decoded = kept.recent_output(next);
    ASSERT_NE(decoded, nullptr);
    Schedule parsed;
    ASSERT_FALSE(parse_binary(next, &parsed));
    EXPECT_EQ(decoded->SerializeAsString(), parsed.SerializeAsString());
    EXPECT_EQ(decoded->DebugString(), parsed.DebugString());
    EXPECT_FALSE(validate_schedule(*decoded));
    // Now and then libFuzzer starts again from a corpus input.
    buf = step % 5 == 4 ? corpus[(step * 7) % corpus.size()] : next;
  }
  EXPECT_GT(crossovers, 100u);
  EXPECT_GT(hits, 300u);
}

TEST(Mutator, PinnedKernelIsWrittenIntoEveryMutant) {
  ScheduleMutator m(5);
  Kernel k;
  k.set_preset("v2.6.26");
  m.pin_kernel(k);
  Schedule s = seeds()[1];
  for (int i = 0; i < 50; ++i) {
    m.mutate(s, 4096);
    EXPECT_EQ(s.kernel().preset(), "v2.6.26");
  }
}

TEST(Mutator, CrossoverSplicesTasksAndDecisions) {
  const auto all = seeds();
  ScheduleMutator m(9);
  int spliced = 0;
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    Schedule b = all[i + 1];
    Decision* d = b.add_decisions();
    d->set_step(5);
    d->set_task(1);
    const Schedule child = m.crossover(all[i], b, 4096);
    EXPECT_FALSE(validate_schedule(child));
    spliced += child.decisions_size() > all[i].decisions_size() || child.tasks_size() != all[i].tasks_size() ||
               to_binary(child) != to_binary(all[i]);
  }
  EXPECT_GT(spliced, int(all.size()) / 2);
}

Schedule punch_seed_on(const char* preset) {
  Schedule s = schedule_from_file(source_dir() / "corpus/seeds/shmem_fallocate_punch_vs_fault.txtpb");
  s.mutable_kernel()->set_preset(preset);
  return s;
}

TEST(Mutator, PreemptsOnlyWhereATaskReallyGoes) {
  const Schedule seed = punch_seed_on("v3.15");
  std::map<std::pair<uint32_t, std::string>, uint32_t> reached;  // (task, label) -> hits
  for (const sim::Event& e : replay(seed, RunOptions{.keep_trace = true}).trace)
    if (sim::is_schedule_point(e.kind)) ++reached[{e.task, e.label.name}];
  ScheduleMutator m(11);
  m.pin_kernel(seed.kernel());
  int placed = 0, periodic = 0;
  for (int i = 0; i < 3000; ++i) {
    Schedule s = seed;
    if (m.mutate(s, 4096) != "preempt_where_reached") continue;
    ASSERT_GE(s.decisions_size(), 1);
    for (const Decision& d : s.decisions()) {
      ASSERT_EQ(d.when_case(), Decision::kAt);
      const auto it = reached.find({d.at().task(), d.at().label()});
      ASSERT_NE(it, reached.end()) << d.ShortDebugString();
      EXPECT_LE(d.at().hit(), it->second) << d.ShortDebugString();
      EXPECT_NE(d.task(), d.at().task());
      periodic += d.at().every() > 0;
    }
    ++placed;
  }
  EXPECT_GT(placed, 50);
  EXPECT_GT(periodic, 20);
}

// CVE-2014-4171 from its scenario alone: one mutation puts the punch's
// restart and the looping task's fault in alternation.
TEST(Mutator, OneMutationOfThePunchSeedCanStarveThePunch) {
  const Schedule seed = punch_seed_on("v3.15");
  ASSERT_EQ(replay(seed).kind, OutcomeKind::Ok);
  ScheduleMutator m(1);
  m.pin_kernel(seed.kernel());
  int found = 0;
  for (int i = 0; i < 20000 && !found; ++i) {
    Schedule s = seed;
    m.mutate(s, 4096);
    found += replay(s, RunOptions{.keep_results = false}).signature == "starvation:fallocate:i_mutex";
  }
  EXPECT_TRUE(found);
}

std::set<uint32_t> features_of(const Schedule& s) {
  Runner runner;
  sim::ReplayStrategy strategy = replay_strategy(s);
  runner.run(s, strategy);
  InterleavingCoverage coverage;
  std::set<uint32_t> out;
  coverage.collect(runner.events(), [&](uint32_t f) { out.insert(f); });
  return out;
}

TEST(InterleavingCoverage, AChangeOfInterleavingAloneChangesTheFeatures) {
  // Same tasks and syscalls, two interleavings: code coverage barely differs,
  // interleaving coverage does.
  Schedule a = schedule_from_file(source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb");
  Schedule b = a;
  b.clear_decisions();
  const auto fa = features_of(a), fb = features_of(b);
  EXPECT_FALSE(fa.empty());
  std::vector<uint32_t> only_a;
  std::set_difference(fa.begin(), fa.end(), fb.begin(), fb.end(), std::back_inserter(only_a));
  EXPECT_FALSE(only_a.empty());
  EXPECT_EQ(features_of(a), fa);  // and it is deterministic
}

TEST(InterleavingCoverage, ConflictsNeedTwoTasksAndAWrite) {
  using sim::Access;
  using sim::Event;
  using sim::EventKind;
  const sim::Obj obj{sim::ObjKind::ISize, 0, 0};
  auto ev = [&](sim::TaskId t, Access a) {
    Event e;
    e.task = t;
    e.kind = EventKind::Point;
    e.access = a;
    e.obj = obj;
    return e;
  };
  InterleavingCoverage coverage;
  auto conflicts = [&](std::vector<Event> events) {
    int n = 0;
    coverage.collect(events, [&](uint32_t f) {
      n += f == conflict_feature(0, Access::Write, 0, Access::Read) ||
           f == conflict_feature(0, Access::Read, 0, Access::Write) ||
           f == conflict_feature(0, Access::Write, 0, Access::Write);
    });
    return n;
  };
  EXPECT_EQ(conflicts({ev(0, Access::Read), ev(1, Access::Read)}), 0);
  EXPECT_EQ(conflicts({ev(0, Access::Write), ev(0, Access::Read)}), 0);
  EXPECT_EQ(conflicts({ev(0, Access::Write), ev(1, Access::Read)}), 1);
  EXPECT_EQ(conflicts({ev(0, Access::Read), ev(1, Access::Write)}), 1);
  EXPECT_EQ(conflicts({ev(0, Access::Write), ev(1, Access::Write)}), 1);
  // B reads what A wrote even though A read it back in between.
  EXPECT_EQ(conflicts({ev(0, Access::Write), ev(0, Access::Read), ev(1, Access::Read)}), 1);
  // Another task reads B's write (write->read), then B writes again
  // (read->write; B's own earlier write is no conflict).
  EXPECT_EQ(conflicts({ev(1, Access::Write), ev(0, Access::Read), ev(1, Access::Write)}), 2);
}

TEST(InterleavingCoverage, OnlyTheSelectedKindsAreYielded) {
  Schedule race = schedule_from_file(source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb");
  Runner runner;
  sim::ReplayStrategy strategy = replay_strategy(race);
  runner.run(race, strategy);
  auto count = [&](FeatureKinds kinds) {
    InterleavingCoverage coverage(kinds);
    std::set<uint32_t> out;
    coverage.collect(runner.events(), [&](uint32_t f) { out.insert(f); });
    return out.size();
  };
  const size_t conflict = count(feature_bit(FeatureKind::Conflict));
  const size_t handoff = count(feature_bit(FeatureKind::Handoff));
  const size_t switches = count(feature_bit(FeatureKind::Switch));
  EXPECT_GT(conflict, 0u);
  EXPECT_GT(handoff, 0u);
  EXPECT_GT(switches, 0u);
  EXPECT_EQ(count(0), 0u);
  EXPECT_EQ(count(kInterleavingFeatures), conflict + handoff + switches);
  EXPECT_EQ(parse_feature_kinds("conflict,switch"),
            feature_bit(FeatureKind::Conflict) | feature_bit(FeatureKind::Switch));
  EXPECT_EQ(parse_feature_kinds("1"), kInterleavingFeatures);
  EXPECT_EQ(parse_feature_kinds("0"), FeatureKinds{0});
  EXPECT_FALSE(parse_feature_kinds("conflict,bogus"));
}

}  // namespace
}  // namespace faultline
