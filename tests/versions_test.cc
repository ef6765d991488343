// What single kernel switches change, each shown on the smallest schedule
// that reaches the code the switch guards.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "tests/test_util.h"
#include "vmcore/kernel/syscalls.h"
#include "vmcore/sim/random_strategy.h"

namespace faultline {
namespace {

using testing::schedule_from_text;

constexpr int64_t kSigbus = mm::signal_result(SIGBUS);

bool passes(const Outcome& out, std::string_view label) {
  return std::any_of(out.trace.begin(), out.trace.end(), [&](const sim::Event& e) { return label == e.label.name; });
}

// A write fault on a shared mapping with ->page_mkwrite while a truncate
// removes the page: the truncator runs while the writer is in ->page_mkwrite.
constexpr const char* kMkwriteVsTruncate = R"(
files { kind: REGULAR size: 32 contents: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB" cached_pages: 1 page_mkwrite: true }
processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
processes { }
tasks { process: 0 syscalls { store { addr: 272 len: 1 value: 87 } } }
tasks { process: 1 syscalls { ftruncate { file: 0 size: 16 } } }
decisions { at { task: 0 label: "blockfs_page_mkwrite:get_block" } task: 1 }
)";

TEST(Versions, On2623PageMkwriteRunsUnlockedAndATruncatedPageIsRefaulted) {
  // 2.6.23: the page is unlocked in ->page_mkwrite, truncate takes it out of
  // the cache, the fault sees page->mapping gone, releases it and refaults:
  // beyond EOF now, so the store gets SIGBUS.
  const Outcome v23 = testing::replay_on(schedule_from_text(kMkwriteVsTruncate), "v2.6.23", /*keep_trace=*/true);
  ASSERT_EQ(v23.kind, OutcomeKind::Ok) << v23.report;
  EXPECT_TRUE(passes(v23, "__do_fault:page_mapping"));
  EXPECT_TRUE(passes(v23, "mmu:refault"));
  EXPECT_EQ(v23.results[0][0].ret, kSigbus);
  // The reference patch calls ->page_mkwrite under the page lock: truncate
  // waits for it, the store lands first and truncate then cuts it off.
  const Outcome seed = testing::replay_on(schedule_from_text(kMkwriteVsTruncate), "seed", /*keep_trace=*/true);
  ASSERT_EQ(seed.kind, OutcomeKind::Ok) << seed.report;
  EXPECT_FALSE(passes(seed, "__do_fault:page_mapping"));
  EXPECT_EQ(seed.results[0][0].ret, 0);
}

// Where in one task's events a label first appears (-1 if nowhere).
ptrdiff_t first(const Outcome& out, std::string_view label) {
  const auto it =
      std::find_if(out.trace.begin(), out.trace.end(), [&](const sim::Event& e) { return label == e.label.name; });
  return it == out.trace.end() ? -1 : it - out.trace.begin();
}

TEST(Versions, On2624TmpfsWritesKeepThePageLockedUntilISizeHasGrown) {
  const Schedule write_only = schedule_from_text(R"(
files { kind: SHMEM size: 0 }
processes { }
tasks { syscalls { write { file: 0 offset: 16 len: 1 value: 87 } } }
)");
  // 2.6.20: shmem_getpage unlocks the new page; shmem_file_write copies and
  // grows i_size afterwards.
  const Outcome v20 = testing::replay_on(write_only, "v2.6.20", /*keep_trace=*/true);
  ASSERT_EQ(v20.kind, OutcomeKind::Ok) << v20.report;
  ASSERT_GE(first(v20, "shmem_file_write:i_size_write"), 0);
  EXPECT_LT(first(v20, "unlock_page"), first(v20, "shmem_file_write:i_size_write"));
  // 2.6.24: generic_perform_write copies under the page lock and
  // shmem_write_end grows i_size before it unlocks.
  const Outcome v26 = testing::replay_on(write_only, "v2.6.26", /*keep_trace=*/true);
  ASSERT_EQ(v26.kind, OutcomeKind::Ok) << v26.report;
  EXPECT_TRUE(passes(v26, "generic_perform_write:copy"));
  EXPECT_FALSE(passes(v26, "shmem_file_write:copy"));
  ASSERT_GE(first(v26, "shmem_write_end:i_size_write"), 0);
  EXPECT_LT(first(v26, "shmem_write_end:i_size_write"), first(v26, "unlock_page"));
  EXPECT_EQ(v26.results[0][0].ret, 1);

  // So a fault that passed its i_size check before a truncate may map the
  // page an extending write brings in before the write's byte is there on
  // 2.6.23, and only after i_size has grown on 2.6.24: it reads the byte.
  const Schedule race = testing::schedule_from_file(testing::source_dir() /
                                                    "corpus/regressions/fault_maps_page_of_extending_write.txtpb");
  const Outcome v23 = testing::replay_on(race, "v2.6.23");
  ASSERT_EQ(v23.kind, OutcomeKind::Ok) << v23.report;
  EXPECT_EQ(v23.results[0][0].data, std::vector<uint8_t>{0});
  RunOptions on26{.kernel = mm::preset_config("v2.6.26")};
  sim::RandomStrategy random(7);
  Runner runner;
  std::map<int64_t, int> loads;
  for (int i = 0; i < 5000; ++i) {
    const Outcome out = runner.run(race, random, on26);
    ASSERT_EQ(out.kind, OutcomeKind::Ok) << out.report;
    const SyscallResult& load = out.results[0][0];
    ++loads[load.ret < 0 ? load.ret : load.data.at(0)];
  }
  EXPECT_EQ(loads.count(0), 0u);
  EXPECT_GT(loads.count('W'), 0u);
}

}  // namespace
}  // namespace faultline
