// What single kernel switches change, each shown on the smallest schedule
// that reaches the code the switch guards.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/test_util.h"
#include "vmcore/kernel/syscalls.h"

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

}  // namespace
}  // namespace faultline
