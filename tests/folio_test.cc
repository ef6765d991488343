// The folio era (v6.12 to v7.0): large folios from readahead, their split on
// truncate and why it fails, PMD mappings, and the presets' switches.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

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
                        "357b92761d94", "74207de2ba10", "fa04f5b60fda", "Baolin Wang", "55ac8bbe358b"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

TEST(Folios, FolioOrderIsIgnoredBeforeTheFolioEra) {
  // 5.15 has no large folios: the same schedule reads the file in pages, and
  // the failed-split fault never fires.
  const Outcome out = testing::replay_on(regression("folio_pmd_across_eof_after_split_failure.txtpb"), "v5.15");
  ASSERT_EQ(out.kind, OutcomeKind::Ok) << out.report;
  EXPECT_EQ(out.results[0][4].ret, kSigbus);
}

// ---- tmpfs huge= (#10's allocation) ----------------------------------------

// A tmpfs file of `size` bytes, all hole (ftruncate from 0), mapped shared
// at `addr`: a write fault at page 5, then a load at page 0.
Schedule huge_tmpfs(const char* huge, uint64_t size, uint64_t addr) {
  return schedule_from_text(fmt::format(R"(
kernel {{ preset: "v6.12" }}
files {{ kind: SHMEM shmem_huge: {} }}
processes {{ mappings {{ addr: {} length: 128 shared: true writable: true }} }}
tasks {{
  syscalls {{ ftruncate {{ size: {} }} }}
  syscalls {{ store {{ addr: {} len: 1 value: 85 }} }}
  syscalls {{ load {{ addr: {} len: 1 }} }}
}}
)",
                                        huge, addr, size, addr + 80, addr));
}

size_t faults(const Outcome& out) {
  return size_t(std::count_if(out.trace.begin(), out.trace.end(), [](const sim::Event& e) {
    return std::string_view(e.label.name) == "do_page_fault:down_read" && sim::is_schedule_point(e.kind);
  }));
}

TEST(Folios, AHugeTmpfsFaultMapsAPmdSizeFolioWhereTheMountTheSizeAndTheVmaAllowIt) {
  struct Case {
    const char* huge;
    uint64_t size, addr;
    size_t faults;  // 1: the write fault's PMD maps page 0 too
  };
  for (const Case& c : {Case{"SHMEM_HUGE_ALWAYS", 128, 256, 1}, Case{"SHMEM_HUGE_NEVER", 128, 256, 2},
                        Case{"SHMEM_HUGE_WITHIN_SIZE", 113, 256, 1},   // round_up(i_size) covers pages 0-7
                        Case{"SHMEM_HUGE_WITHIN_SIZE", 112, 256, 2},   // page 7 beyond i_size
                        Case{"SHMEM_HUGE_ALWAYS", 96, 256, 1},         // always: across i_size too
                        Case{"SHMEM_HUGE_ALWAYS", 128, 272, 2}}) {     // the VMA is not PMD-aligned
    const Outcome out = testing::replay_on(huge_tmpfs(c.huge, c.size, c.addr), "v6.12", /*keep_trace=*/true);
    ASSERT_EQ(out.kind, OutcomeKind::Ok) << c.huge << " " << c.size << "\n" << out.report;
    EXPECT_EQ(out.results[0][2].data, std::vector<uint8_t>{0}) << c.huge;
    EXPECT_EQ(faults(out), c.faults) << c.huge << " size " << c.size << " addr " << c.addr;
  }
  // Before the folio era huge= is ignored.
  const Outcome v515 = testing::replay_on(huge_tmpfs("SHMEM_HUGE_ALWAYS", 128, 256), "v5.15", true);
  ASSERT_EQ(v515.kind, OutcomeKind::Ok) << v515.report;
  EXPECT_EQ(faults(v515), 2u);
}

TEST(Folios, ATmpfsTruncateSplitsTheHugeFolioOrKeepsItMappedAcrossEofOnPurpose) {
  // The huge folio of pages 0-7 is cut to 83 bytes: it splits, the load of
  // page 6 gets SIGBUS. With the split failing (FOLIO_SPLIT_FAIL) the dirty
  // folio stays, and the refault maps it with a PMD across i_size, which
  // tmpfs does on purpose: no SIGBUS, and no finding.
  Schedule s = huge_tmpfs("SHMEM_HUGE_ALWAYS", 128, 256);
  *s.mutable_tasks(0)->add_syscalls()->mutable_ftruncate() = [] {
    Ftruncate t;
    t.set_size(83);
    return t;
  }();
  Syscall* load = s.mutable_tasks(0)->add_syscalls();
  load->mutable_load()->set_addr(256 + 96);
  load->mutable_load()->set_len(1);
  for (const char* preset : {"v6.12", "v7.0"}) {
    const Outcome split = testing::replay_on(s, preset);
    ASSERT_EQ(split.kind, OutcomeKind::Ok) << preset << "\n" << split.report;
    EXPECT_EQ(split.results[0][4].ret, kSigbus) << preset;
  }
  Fault* f = s.add_faults();
  f->set_kind(Fault::FOLIO_SPLIT_FAIL);
  f->set_nth(1);
  for (const char* preset : {"v6.12", "v7.0"}) {
    const Outcome kept = testing::replay_on(s, preset);
    ASSERT_EQ(kept.kind, OutcomeKind::Ok) << preset << "\n" << kept.report;
    EXPECT_EQ(kept.results[0][4].ret, 0) << preset;
  }
}

TEST(Folios, Bug10NeedsTheKernelWithoutTheSecondPassSplit) {
  const Schedule s = regression("shmem_thp_faulted_in_during_punch.txtpb");
  const Outcome bug = testing::replay_on(s, "v6.12-shmem_undo_split_large");
  EXPECT_EQ(bug.signature, "punch-outside-range:tmpfs") << bug.report;
  EXPECT_NE(bug.report.find("offset 80 now reads 0x00, it held 0x55"), std::string::npos) << bug.report;
  const auto r = testing::faultline_cmd("replay --kernel v7.0-shmem_undo_split_large " +
                                        (testing::source_dir() / "corpus/regressions/shmem_thp_faulted_in_during_punch.txtpb").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("on v7.0 -shmem_undo_split_large"), std::string::npos) << r.output;
}

TEST(Folios, ACleanThpFaultedInDuringAPunchGoesWholeOnlyWhenItsSplitFails) {
  // The finding: a reader's reference fails the second pass's split, and
  // the clean THP is dropped. Without the read() the split succeeds and the
  // store outside the hole stays.
  Schedule s = regression("shmem_clean_thp_unsplit_during_punch.txtpb");
  EXPECT_EQ(testing::replay_on(s, "v7.0").signature, "punch-outside-range:tmpfs");
  s.mutable_tasks(1)->mutable_syscalls()->RemoveLast();
  const Outcome no_reader = testing::replay_on(s, "v7.0");
  EXPECT_EQ(no_reader.kind, OutcomeKind::Ok) << no_reader.report;
}

}  // namespace
}  // namespace faultline
