// No false alarms: thousands of random interleavings of every shipped
// scenario run clean on v2.6.26 (but for its known findings), while the same exploration finds the race on
// v2.6.20 (so the checkers are awake).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "tests/test_util.h"
#include "vmcore/sim/pct_strategy.h"
#include "vmcore/sim/random_strategy.h"

namespace faultline {
namespace {

using testing::schedule_from_file;
using testing::source_dir;

std::vector<std::filesystem::path> seed_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "corpus/seeds"))
    if (entry.path().extension() == ".txtpb") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Outcome (kind and signature) -> count over `runs` interleavings.
std::map<std::string, int> explore(const Schedule& s, const char* preset, int runs, sim::Strategy& strategy) {
  std::map<std::string, int> seen;
  RunOptions options;
  options.kernel = mm::preset_config(preset);
  options.keep_results = false;
  Runner runner;
  for (int i = 0; i < runs; ++i) {
    const Outcome out = runner.run(s, strategy, options);
    ++seen[std::string(outcome_name(out.kind)) + " " + out.signature];
  }
  return seen;
}

std::map<std::string, int> explore_random(const Schedule& s, const char* preset, int runs) {
  sim::RandomStrategy random(2026);
  return explore(s, preset, runs, random);
}

// "Outcome signature" of each real v2.6.26 finding: what corpus/regressions/
// expects on v2.6.26 other than Ok (bug #3, page_mkwrite against writeback,
// reaches some seeds).
std::set<std::string> known_on_2626() {
  std::set<std::string> known;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "corpus/regressions")) {
    std::istringstream in(testing::read_file(entry.path()));
    for (std::string line; std::getline(in, line);) {
      const std::string tag = "# expect: v2.6.26 ";
      if (line.rfind(tag, 0) == 0 && line.substr(tag.size()) != "Ok") known.insert(line.substr(tag.size()));
    }
  }
  return known;
}

TEST(NoFalseAlarms, RandomAndPctInterleavingsOfEverySeedRunCleanOn2626) {
  const auto files = seed_files();
  ASSERT_GE(files.size(), 10u);
  const auto known = known_on_2626();
  for (const auto& file : files) {
    const Schedule s = schedule_from_file(file);
    sim::RandomStrategy random(2026);
    sim::PctStrategy pct(2026, 3, 300);
    for (sim::Strategy* strategy : {static_cast<sim::Strategy*>(&random), static_cast<sim::Strategy*>(&pct)})
      for (const auto& [what, n] : explore(s, "v2.6.26", 1000, *strategy))
        if (what != "Ok " && !known.count(what)) ADD_FAILURE() << file.filename() << ": " << n << "x " << what;
  }
}

TEST(NoFalseAlarms, TheSameExplorationFindsTheRaceOn2620) {
  const auto seen =
      explore_random(schedule_from_file(source_dir() / "corpus/seeds/fault_vs_odirect.txtpb"), "v2.6.20", 3000);
  int dangling = 0;
  for (const auto& [what, n] : seen)
    if (what.find("dangling-mapping") != std::string::npos) dangling += n;
  EXPECT_GT(dangling, 0);
}

// A page that an extending write brings in after a truncate, mapped by a
// fault that passed its i_size check before the truncate, is mapped beyond
// EOF only until that write returns: no violation.
TEST(NoFalseAlarms, APageAnExtendingWriteBringsInAfterATruncateMayBeMappedBeforeItReturns) {
  const Schedule s = schedule_from_file(source_dir() / "corpus/regressions/fault_maps_page_of_extending_write.txtpb");
  ASSERT_EQ(s.kernel().preset(), "v2.6.23");
  RunOptions options;
  options.keep_trace = true;
  const Outcome out = replay(s, options);
  EXPECT_EQ(out.kind, OutcomeKind::Ok) << out.report;
  ASSERT_EQ(out.results.size(), 3u);
  EXPECT_EQ(out.results[0][0].ret, 0) << "the fault maps the page, no SIGBUS";
  EXPECT_EQ(out.results[0][0].data, std::vector<uint8_t>{0}) << "before the write's copy";
  EXPECT_EQ(out.results[1][0].ret, 0) << "the truncate";
  EXPECT_EQ(out.results[2][0].ret, 1) << "the extending write";
  // The state the truncate check saw: page 1 mapped, i_size not grown yet.
  ptrdiff_t mapped = -1, grown = -1, truncated = -1;
  for (ptrdiff_t i = 0; i < ptrdiff_t(out.trace.size()); ++i) {
    const sim::Event& e = out.trace[size_t(i)];
    const std::string_view label = e.label.name;
    if (e.task == 0 && label == "__do_fault:pte_offset_map_lock" && mapped < 0) mapped = i;
    if (e.task == 2 && label == "shmem_file_write:i_size_write") grown = i;
    if (e.task == 1 && e.kind == sim::EventKind::SyscallEnd) truncated = i;
  }
  EXPECT_GE(mapped, 0);
  EXPECT_LT(mapped, truncated);
  EXPECT_LT(truncated, grown);
}

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

// PCT's guarantee (Burckhardt et al., ASPLOS 2010): a bug of depth d is hit
// with probability at least 1 / (n k^(d-1)), n tasks, k the decision points
// (schedule points where more than one task can run) the change points are
// drawn from. The O_DIRECT race on 2.6.20 needs one preemption: depth 2.
TEST(Pct, HitsADepthTwoRaceAtLeastAsOftenAsItsBound) {
  const Schedule s = testing::schedule_from_file(testing::source_dir() / "corpus/seeds/fault_vs_odirect.txtpb");
  RunOptions options;
  options.kernel = mm::preset_config("v2.6.20");
  sim::PctStrategy pct(7, 2);
  constexpr int kRuns = 4000;
  int hits = 0;
  size_t ntasks = 0;
  uint32_t steps = 0;
  for (int i = 0; i < kRuns; ++i) {
    const Outcome out = run(s, pct, options);
    ntasks = std::max(ntasks, out.task_names.size());
    steps = std::max(steps, out.steps);
    if (out.signature.starts_with("dangling-mapping")) ++hits;
  }
  const double bound = 1.0 / (double(ntasks) * double(pct.k()));
  EXPECT_GE(double(hits) / kRuns, bound) << hits << " hits, n " << ntasks << ", k " << pct.k();
  // k counts decision points only: fewer than the run's schedule points.
  EXPECT_LT(pct.k(), steps);
}

}  // namespace
}  // namespace faultline
