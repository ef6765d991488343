// The folio era (v6.12 to v7.0): large folios from readahead, their split on
// truncate and why it fails, PMD mappings, and the presets' switches.
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "vmcore/kernel/syscalls.h"

namespace faultline {
namespace {

using testing::schedule_from_file;
using testing::schedule_from_text;

constexpr int64_t kSigbus = mm::signal_result(SIGBUS);

Schedule regression(const char* name) {
  return schedule_from_file(testing::source_dir() / "corpus/regressions" / name);
}

TEST(Folios, ASplitThatSucceedsLeavesNoFolioAcrossEofAndTheAccessBeyondGetsSigbus) {
  // #11b's schedule without the injected split failure: the PMD-order folio
  // splits, its pages beyond the new EOF leave the cache, the refault maps
  // one page, and the load beyond EOF gets SIGBUS on every 6.x preset.
  Schedule s = regression("folio_pmd_across_eof_after_split_failure.txtpb");
  s.clear_faults();
  for (const char* preset : {"v6.12", "v6.18-rc1", "v6.18", "v7.0"}) {
    const Outcome out = testing::replay_on(s, preset);
    ASSERT_EQ(out.kind, OutcomeKind::Ok) << preset << "\n" << out.report;
    EXPECT_EQ(out.results[0][3].ret, 0) << preset;
    EXPECT_EQ(out.results[0][4].ret, kSigbus) << preset;
  }
}

// A fault that sleeps on the folio lock holds a reference: the truncate's
// split sees more references than the cache, the mappings and its own
// (can_split_folio), fails with -EAGAIN, and keeps the dirty folio.
constexpr const char* kSplitVsSleepingFault = R"(
files {
  size: 128
  contents: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFGGGGGGGGGGGGGGGGHHHHHHHHHHHHHHHH"
  ra_pages: 8
  folio_order: 3
}
processes { mappings { addr: 256 length: 128 shared: true } }
processes { }
tasks { process: 0
  syscalls { read { offset: 0 len: 128 } }
  syscalls { write { offset: 0 len: 1 value: 90 } }
  syscalls { load { addr: 288 len: 1 } }
}
tasks { process: 1 syscalls { ftruncate { size: 83 } } }
decisions { at { task: 1 label: "syscall:ftruncate" } task: 2 }
decisions { at { task: 0 label: "syscall:load" } task: 1 }
decisions { at { task: 1 label: "split_huge_page:can_split_folio" } task: 0 }
)";

TEST(Folios, AnExtraReferenceMakesTheSplitFailAndTheDirtyFolioStays) {
  const Schedule s = schedule_from_text(kSplitVsSleepingFault);
  // v6.12: the refault maps the kept folio with a PMD across the new EOF.
  const Outcome v612 = testing::replay_on(s, "v6.12");
  EXPECT_EQ(v612.kind, OutcomeKind::Violation) << v612.report;
  EXPECT_EQ(v612.signature, "mapped-beyond-eof:pmd");
  // v6.18 keeps the folio too, but maps only the faulting page.
  const Outcome v618 = testing::replay_on(s, "v6.18");
  ASSERT_EQ(v618.kind, OutcomeKind::Ok) << v618.report;
  EXPECT_EQ(v618.results[0][2].ret, 0);
}

TEST(Folios, TheFolioEraKeepsEveryRunsAccountingAndIsDeterministic) {
  // The end-of-run checks add up the folio's references (a page-cache slot,
  // a pte or a PMD each) and map counts; a run is a function of its schedule.
  for (const char* name : {"folio_whole_map_beyond_eof.txtpb", "folio_pmd_across_eof_after_split_failure.txtpb",
                           "fault_around_nr_pages_underflow.txtpb"}) {
    const Schedule s = regression(name);
    for (const char* preset : {"v7.0"}) {
      const Outcome a = testing::replay_on(s, preset, /*keep_trace=*/true);
      const Outcome b = testing::replay_on(s, preset, /*keep_trace=*/true);
      EXPECT_EQ(a.kind, OutcomeKind::Ok) << name << " " << preset << "\n" << a.report;
      EXPECT_EQ(a.trace.size(), b.trace.size()) << name;
      EXPECT_EQ(a.trace_hash, b.trace_hash) << name;
    }
  }
}

TEST(Folios, A26ScheduleReplaysOnV70) {
  const auto r = testing::faultline_cmd("replay --kernel v7.0 " +
                                        (testing::source_dir() / "corpus/seeds/fault_vs_truncate.txtpb").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Ok on v7.0"), std::string::npos) << r.output;
}

TEST(Folios, KernelsListsTheFolioEraPresetsAndTheirCommits) {
  const auto r = testing::faultline_cmd("kernels");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"v6.12", "v6.18-rc1", "v6.18", "v7.0-rc3", "v7.0", "743a2753a02e", "19773df031bc",
                        "357b92761d94", "74207de2ba10", "fa04f5b60fda", "Baolin Wang"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

TEST(Folios, FolioOrderIsIgnoredBeforeTheFolioEra) {
  // 5.15 has no large folios: the same schedule reads the file in pages, and
  // the failed-split fault never fires.
  const Outcome out = testing::replay_on(regression("folio_pmd_across_eof_after_split_failure.txtpb"), "v5.15");
  ASSERT_EQ(out.kind, OutcomeKind::Ok) << out.report;
  EXPECT_EQ(out.results[0][4].ret, kSigbus);
}

}  // namespace
}  // namespace faultline
