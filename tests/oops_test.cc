// A bug in model code is an oops of the run, never a crash of faultline: a
// NULL or freed object through a checked field, and a raw NULL dereference
// (SIGSEGV, caught on the task's stack).
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "toolkit/schedule_file.h"
#include "vmcore/mm/kernel_config.h"
#include "vmcore/mm/types.h"
#include "vmcore/run.h"
#include "vmcore/sim/sanitizer.h"

namespace faultline {
namespace {

// On `seed`, the race's fault sleeps in find_lock_page while O_DIRECT's
// invalidation takes the page out of the cache (page->mapping = NULL).
Outcome race_with_broken_find_lock_page(uint8_t how) {
  const LoadedSchedule loaded =
      load_schedule_file(testing::source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb");
  EXPECT_TRUE(loaded.schedule) << loaded.error;
  mm::KernelConfig cfg = *mm::preset_config("seed");
  cfg.broken_find_lock_page_for_tests = how;
  return replay(*loaded.schedule, RunOptions{.kernel = cfg, .keep_trace = true});
}

TEST(Oops, ANullCheckedFieldIsAnOopsNamingTheFunctionAndTheField) {
  const Outcome out = race_with_broken_find_lock_page(1);
  EXPECT_EQ(out.kind, OutcomeKind::Violation);
  EXPECT_EQ(out.signature, "oops:find_lock_page:page->mapping");
  EXPECT_NE(out.report.find("BUG: unable to handle kernel NULL pointer dereference (page->mapping)"),
            std::string::npos)
      << out.report;
  EXPECT_NE(out.report.find("  [<find_lock_page>]\n  [<filemap_nopage>]"), std::string::npos) << out.report;
  EXPECT_FALSE(out.trace.empty());
  // The same run again: an oops is as deterministic as any outcome.
  EXPECT_EQ(race_with_broken_find_lock_page(1).trace_hash, out.trace_hash);
}

TEST(Oops, ARawNullDereferenceIsCaughtOnTheTaskStack) {
#ifdef FAULTLINE_ASAN
  GTEST_SKIP() << "AddressSanitizer reports the SIGSEGV itself (no oops handler in this build)";
#endif
  for (int round = 0; round < 3; ++round) {  // the task is abandoned; the next run starts clean
    const Outcome out = race_with_broken_find_lock_page(2);
    EXPECT_EQ(out.kind, OutcomeKind::Violation);
    EXPECT_EQ(out.signature, "oops:find_lock_page:NULL");
    EXPECT_NE(out.report.find("BUG: unable to handle kernel NULL pointer dereference at 0x"), std::string::npos)
        << out.report;
    EXPECT_NE(out.report.find("  [<find_lock_page>]"), std::string::npos) << out.report;
  }
  // And a run after it is unaffected.
  const LoadedSchedule loaded =
      load_schedule_file(testing::source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb");
  EXPECT_EQ(replay(*loaded.schedule).signature, "dangling-mapping:invalidate_complete_page2");
}

TEST(Oops, AFreedVmaIsAUseAfterFree) {
  mm::vm_area_struct vma;
  vma.in_use = false;
  EXPECT_TRUE(mm::VmaFile::freed(&vma.vm_file));
  vma.in_use = true;
  EXPECT_FALSE(mm::VmaFile::freed(&vma.vm_file));
  mm::page p;
  p._count = 0;
  EXPECT_TRUE(mm::PageMapping::freed(&p.mapping));
  p._count = 1;
  EXPECT_FALSE(mm::PageMapping::freed(&p.mapping));
}

}  // namespace
}  // namespace faultline
