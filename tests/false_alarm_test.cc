// No false alarms: thousands of random interleavings of every shipped
// scenario run clean on v2.6.26, while the same exploration finds the race on
// v2.6.20 (so the checkers are awake).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

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

TEST(NoFalseAlarms, RandomAndPctInterleavingsOfEverySeedRunCleanOn2626) {
  const auto files = seed_files();
  ASSERT_GE(files.size(), 10u);
  for (const auto& file : files) {
    const Schedule s = schedule_from_file(file);
    sim::RandomStrategy random(2026);
    sim::PctStrategy pct(2026, 3, 300);
    for (sim::Strategy* strategy : {static_cast<sim::Strategy*>(&random), static_cast<sim::Strategy*>(&pct)})
      for (const auto& [what, n] : explore(s, "v2.6.26", 1000, *strategy))
        if (what != "Ok ") ADD_FAILURE() << file.filename() << ": " << n << "x " << what;
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
// EOF only until that write returns: no violation (the check's window ends
// with the truncate, not when the truncating task next runs).
TEST(NoFalseAlarms, APageAnExtendingWriteBringsInAfterATruncateMayBeMappedBeforeItReturns) {
  const Schedule s = schedule_from_file(source_dir() / "tests/data/extending_write_after_truncate.txtpb");
  const Outcome out = replay(s, RunOptions{.kernel = mm::preset_config("v2.6.26"), .keep_trace = true});
  EXPECT_EQ(out.kind, OutcomeKind::Ok) << out.report;
  ASSERT_EQ(out.results.size(), 4u);
  EXPECT_EQ(out.results[2][0].ret, 0) << "the fault maps the page, no SIGBUS";
  EXPECT_EQ(out.results[3][0].ret, 1) << "the extending write";
  // The state the check saw: the faulter mapped page 1 before the write grew i_size.
  int map_step = -1, grow_step = -1;
  for (const sim::Event& e : out.trace) {
    const std::string_view label = e.label.name;
    if (e.task == 2 && label.starts_with("do_no_page:pte_offset_map_lock") && map_step < 0) map_step = int(e.step);
    if (e.task == 3 && label == "shmem_file_write:i_size_write") grow_step = int(e.step);
  }
  const bool mapped_before_growth = map_step >= 0 && grow_step > map_step;
  EXPECT_TRUE(mapped_before_growth);
}

}  // namespace
}  // namespace faultline
