// The sequential contract (model.md section 6): what a user of Linux sees when
// nothing runs concurrently. Each case is a small schedule run on every preset;
// where a preset really behaves differently the case says so and why.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/host_test_util.h"
#include "vmcore/kernel/syscalls.h"

namespace faultline {
namespace {

using testing::schedule_from_text;

constexpr int64_t kSigbus = mm::signal_result(SIGBUS);
constexpr int64_t kSigsegv = mm::signal_result(SIGSEGV);

struct Expect {
  int64_t ret;
  std::optional<std::string> data = std::nullopt;  // bytes a load or read returned
};

std::string zeros(size_t n) { return std::string(n, '\0'); }

const char* const kPresets[] = {"v2.6.20", "seed",  "v2.6.23",   "v2.6.26", "v3.15",    "v3.16", "v4.4",
                                "v4.5",    "v5.15", "v6.12",     "v6.18-rc1", "v6.18",  "v7.0-rc3", "v7.0"};

// Runs a one-task schedule and compares every syscall's result; on the newest
// preset the host kernel must give the same results.
void expect_results(const std::string& text, const std::vector<Expect>& expect, const char* preset,
                    OutcomeKind kind = OutcomeKind::Ok, bool on_host = true) {
  SCOPED_TRACE(preset);
  if (on_host && std::string_view(preset) == testing::newest_preset())
    testing::expect_agrees_on_host(schedule_from_text(text));
  const Outcome out = testing::replay_on(schedule_from_text(text), preset);
  ASSERT_EQ(out.kind, kind) << out.report;
  ASSERT_EQ(out.results.size(), 1u);
  const auto& got = out.results[0];
  ASSERT_EQ(got.size(), expect.size()) << out.report;
  for (size_t i = 0; i < expect.size(); ++i) {
    EXPECT_EQ(got[i].ret, expect[i].ret) << "syscall " << i << ": " << mm::result_name(got[i].ret);
    if (expect[i].data)
      EXPECT_EQ(std::string(got[i].data.begin(), got[i].data.end()), *expect[i].data) << "syscall " << i;
  }
}

// Two pages: "AAAA..." then four bytes "BBBB"; i_size 20.
std::string two_page_file(const char* kind) {
  return std::string("files { kind: ") + kind + " size: 20 contents: \"AAAAAAAAAAAAAAAABBBB\" }\n";
}

class Contract : public ::testing::TestWithParam<const char*> {
 protected:
  const char* preset() const { return GetParam(); }
  const char* kind() const { return kind_; }
  const char* kind_ = "REGULAR";
};

TEST_P(Contract, AccessBeyondEofIsSigbusOutsideAnyVmaOrToReadOnlyIsSigsegv) {
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text = two_page_file(kind) + R"(
      processes { mappings { file: 0 addr: 256 length: 64 shared: true writable: false } }
      tasks { process: 0
        syscalls { load { addr: 256 len: 4 } }
        syscalls { load { addr: 276 len: 4 } }
        syscalls { load { addr: 288 len: 1 } }
        syscalls { load { addr: 1024 len: 1 } }
        syscalls { store { addr: 256 len: 1 value: 90 } }
      })";
    expect_results(text, {{0, "AAAA"}, {0, std::string("\0\0\0\0", 4)}, {kSigbus}, {kSigsegv}, {kSigsegv}}, preset());
  }
}

TEST_P(Contract, TheTailOfTheLastPageReadsZeroAndCutDataNeverComesBack) {
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text =
        std::string("files { kind: ") + kind + " size: 32 contents: \"AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB\" }\n" + R"(
      processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
      tasks { process: 0
        syscalls { load { addr: 272 len: 16 } }
        syscalls { ftruncate { file: 0 size: 20 } }
        syscalls { load { addr: 272 len: 16 } }
        syscalls { ftruncate { file: 0 size: 32 } }
        syscalls { read { file: 0 offset: 16 len: 16 } }
        syscalls { load { addr: 272 len: 16 } }
      })";
    const std::string kept = "BBBB" + zeros(12);
    expect_results(text, {{0, std::string(16, 'B')}, {0}, {0, kept}, {0}, {16, kept}, {0, kept}}, preset());
  }
}

TEST_P(Contract, SharedMappingsAndReadWriteSeeTheSameBytesBothWays) {
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text = two_page_file(kind) + R"(
      processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
      processes { mappings { file: 0 addr: 512 length: 32 shared: true writable: false } }
      tasks { process: 0
        syscalls { store { addr: 258 len: 2 value: 88 } }
        syscalls { read { file: 0 offset: 0 len: 4 } }
        syscalls { write { file: 0 offset: 16 len: 2 value: 89 } }
        syscalls { load { addr: 272 len: 4 } }
        syscalls { fsync { file: 0 } }
      }
      tasks { process: 1
        syscalls { load { addr: 512 len: 4 } }
        syscalls { load { addr: 528 len: 4 } }
      })";
    SCOPED_TRACE(preset());
    const Outcome out = testing::replay_on(schedule_from_text(text), preset());
    ASSERT_EQ(out.kind, OutcomeKind::Ok) << out.report;
    EXPECT_EQ(std::string(out.results[0][1].data.begin(), out.results[0][1].data.end()), "AAXX");
    EXPECT_EQ(std::string(out.results[0][3].data.begin(), out.results[0][3].data.end()), "YYBB");
    // Another process's mapping sees the same page.
    EXPECT_EQ(std::string(out.results[1][0].data.begin(), out.results[1][0].data.end()), "AAXX");
    EXPECT_EQ(std::string(out.results[1][1].data.begin(), out.results[1][1].data.end()), "YYBB");
  }
}

TEST_P(Contract, PrivateMappingsCopyOnFirstStoreAndLoseCopiesBeyondEof) {
  // On `seed` the truncate unmaps page by page with even_cows=0, so the
  // private copy beyond EOF stays mapped: the load returns the copy instead
  // of SIGBUS, and the mapped-beyond-EOF checker reports it. 2.6.23 unmaps
  // with even_cows=1 before and after truncate_inode_pages for this reason.
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text =
        std::string("files { kind: ") + kind + " size: 32 contents: \"AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB\" }\n" + R"(
      processes { mappings { file: 0 addr: 256 length: 32 shared: false writable: true } }
      tasks { process: 0
        syscalls { load { addr: 272 len: 2 } }
        syscalls { write { file: 0 offset: 16 len: 2 value: 88 } }
        syscalls { load { addr: 272 len: 2 } }
        syscalls { store { addr: 272 len: 1 value: 80 } }
        syscalls { write { file: 0 offset: 16 len: 2 value: 89 } }
        syscalls { load { addr: 272 len: 2 } }
        syscalls { read { file: 0 offset: 16 len: 2 } }
        syscalls { ftruncate { file: 0 size: 16 } }
        syscalls { load { addr: 272 len: 1 } }
      })";
    std::vector<Expect> expect = {{0, "BB"}, {2}, {0, "XX"}, {0}, {2}, {0, "PX"}, {2, "YY"}};
    if (std::string(preset()) == "seed") {
      // The checker stops the run as the ftruncate returns.
      expect_results(text, expect, preset(), OutcomeKind::Violation);
      const Outcome out = testing::replay_on(schedule_from_text(text), preset());
      EXPECT_EQ(out.signature, "mapped-beyond-eof:private-copy");
    } else {
      expect.push_back({0});
      expect.push_back({kSigbus});
      expect_results(text, expect, preset());
    }
  }
}

TEST_P(Contract, HolePunchReadsBackZerosAndKeepsTheSize) {
  // A second mapping below the punched one: 2.6.20's sys_madvise dereferences
  // a NULL prev when the punched vma is the process's lowest (see
  // corpus/regressions/madvise_remove_prev_oops.txtpb).
  const std::string text = R"(
    files { kind: SHMEM size: 48 contents: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC" }
    processes {
      mappings { file: 0 addr: 128 length: 16 shared: false writable: false }
      mappings { file: 0 addr: 256 length: 48 shared: true writable: true }
    }
    tasks { process: 0
      syscalls { load { addr: 272 len: 4 } }
      syscalls { madvise { addr: 272 length: 16 advice: REMOVE } }
      syscalls { load { addr: 272 len: 4 } }
      syscalls { read { file: 0 offset: 0 len: 48 } }
    })";
  expect_results(text, {{0, "BBBB"}, {0}, {0, zeros(4)}, {48, std::string(16, 'A') + zeros(16) + std::string(16, 'C')}},
                 preset());
}

TEST_P(Contract, DontneedKeepsSharedDataAndDiscardsPrivateCopies) {
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text = two_page_file(kind) + R"(
      processes {
        mappings { file: 0 addr: 256 length: 16 shared: true writable: true }
        mappings { file: 0 addr: 512 length: 16 shared: false writable: true }
      }
      tasks { process: 0
        syscalls { store { addr: 256 len: 1 value: 83 } }
        syscalls { store { addr: 513 len: 1 value: 80 } }
        syscalls { madvise { addr: 256 length: 16 advice: DONTNEED } }
        syscalls { madvise { addr: 512 length: 16 advice: DONTNEED } }
        syscalls { load { addr: 256 len: 2 } }
        syscalls { load { addr: 512 len: 2 } }
      })";
    expect_results(text, {{0}, {0}, {0}, {0}, {0, "SA"}, {0, "SA"}}, preset());
  }
}

TEST_P(Contract, WriteFromAMappingOfTheSamePageCompletes) {
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text = two_page_file(kind) + R"(
      processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
      tasks { process: 0
        syscalls { write { file: 0 offset: 4 len: 8 buf: 256 } }
        syscalls { read { file: 0 offset: 0 len: 16 } }
      })";
    expect_results(text, {{8}, {16, "AAAAAAAAAAAAAAAA"}}, preset());
  }
}

TEST_P(Contract, ODirectWriteReachesReadAndTheMapping) {
  const std::string text = two_page_file("REGULAR") + R"(
    files { kind: SHMEM size: 16 }
    processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
    tasks { process: 0
      syscalls { load { addr: 256 len: 2 } }
      syscalls { direct_write { file: 0 offset: 0 len: 16 value: 68 } }
      syscalls { read { file: 0 offset: 0 len: 2 } }
      syscalls { load { addr: 256 len: 2 } }
      syscalls { direct_write { file: 1 offset: 0 len: 4 value: 68 } }
    })";
  // tmpfs has no O_DIRECT before 6.6; e88e0d366f9c makes it a buffered write.
  const int64_t tmpfs_direct = testing::kernel_from_spec(preset())->era == mm::Era::Linux6 ? 4 : -EINVAL;
  expect_results(text, {{0, "AA"}, {16}, {2, "DD"}, {0, "DD"}, {tmpfs_direct}}, preset());
}

TEST_P(Contract, FadviseDropsOnlyCleanUnmappedPages) {
  const std::string text = two_page_file("REGULAR") + R"(
    processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
    tasks { process: 0
      syscalls { write { file: 0 offset: 0 len: 2 value: 87 } }
      syscalls { load { addr: 272 len: 2 } }
      syscalls { fadvise { file: 0 offset: 0 len: 0 } }
      syscalls { read { file: 0 offset: 0 len: 20 } }
    })";
  expect_results(text, {{2}, {0, "BB"}, {0}, {20, "WWAAAAAAAAAAAAAABBBB"}}, preset());
}

bool has_punch(const char* preset) { return mm::preset_config(preset)->falloc_punch_hole; }

// Linux today (tmpfs and ext4): a punch of a whole, mapped and faulted page
// unmaps it; the hole reads zeros through the mapping and read(), with no
// SIGBUS, and i_size stays.
TEST_P(Contract, FallocatePunchUnmapsTheWholePageAndKeepsTheSize) {
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text = std::string("files { kind: ") + kind +
                             R"( size: 48 contents: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC" }
      processes { mappings { file: 0 addr: 256 length: 48 shared: true writable: true } }
      tasks { process: 0
        syscalls { load { addr: 272 len: 4 } }
        syscalls { fallocate { file: 0 mode: 3 offset: 16 len: 16 } }
        syscalls { load { addr: 272 len: 4 } }
        syscalls { read { file: 0 offset: 0 len: 48 } }
        syscalls { stat { file: 0 } }
      })";
    if (!has_punch(preset())) {
      // sys_fallocate came with 2.6.23; before 2.6.38 no punch mode and no
      // ->fallocate on these filesystems.
      const int64_t err = mm::preset_config(preset())->sys_fallocate ? -EOPNOTSUPP : -ENOSYS;
      expect_results(text, {{0, "BBBB"}, {err}, {0, "BBBB"}, {48}, {48}}, preset());
      continue;
    }
    expect_results(
        text, {{0, "BBBB"}, {0}, {0, zeros(4)}, {48, std::string(16, 'A') + zeros(16) + std::string(16, 'C')}, {48}},
        preset());
  }
}

// A partial punch zeroes exactly its bytes (host Linux: [100, 150) of a 4096
// byte page; in model units the same sides of the range on the same pages:
// inside one page, and across a page boundary).
TEST_P(Contract, FallocatePartialPunchZeroesOnlyItsBytes) {
  if (!has_punch(preset())) GTEST_SKIP() << "no FALLOC_FL_PUNCH_HOLE before 2.6.38";
  for (const char* kind : {"REGULAR", "SHMEM"}) {
    SCOPED_TRACE(kind);
    const std::string text = std::string("files { kind: ") + kind +
                             R"( size: 48 contents: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv" }
      processes { mappings { file: 0 addr: 256 length: 48 shared: true writable: true } }
      tasks { process: 0
        syscalls { load { addr: 256 len: 16 } }
        syscalls { fallocate { file: 0 mode: 3 offset: 4 len: 6 } }
        syscalls { fallocate { file: 0 mode: 3 offset: 28 len: 8 } }
        syscalls { load { addr: 256 len: 16 } }
        syscalls { read { file: 0 offset: 0 len: 48 } }
      })";
    const std::string after = std::string("ABCD") + zeros(6) + "KLMNOPQRSTUVWXYZab" + zeros(8) + "klmnopqrstuv";
    expect_results(text, {{0, "ABCDEFGHIJKLMNOP"}, {0}, {0}, {0, after.substr(0, 16)}, {48, after}}, preset());
  }
}

// The errors of each kernel: modes it does not know, a punch without
// FALLOC_FL_KEEP_SIZE, an empty range, a range past s_maxbytes, a file whose
// filesystem has no ->fallocate. (Offsets and lengths beyond the model's
// address range are InvalidSchedule: see schedule_io_test.)
TEST_P(Contract, FallocateRejectsWhatTheKernelRejects) {
  const std::string text = two_page_file("REGULAR") + R"(
    processes { }
    tasks { process: 0
      syscalls { fallocate { file: 0 mode: 2 offset: 0 len: 16 } }
      syscalls { fallocate { file: 0 mode: 16 offset: 0 len: 16 } }
      syscalls { fallocate { file: 0 mode: 3 offset: 0 len: 0 } }
      syscalls { fallocate { file: 0 mode: 3 offset: 500 len: 16 } }
      syscalls { stat { file: 0 } }
    })";
  // A DRIVER file exists only in the model: not compared with the host.
  const std::string driver = R"(
    files { kind: DRIVER size: 16 }
    processes { }
    tasks { process: 0 syscalls { fallocate { file: 0 mode: 3 offset: 0 len: 16 } } })";
  const mm::KernelConfig cfg = *mm::preset_config(preset());
  if (!cfg.sys_fallocate) {
    expect_results(text, {{-ENOSYS}, {-ENOSYS}, {-ENOSYS}, {-ENOSYS}, {20}}, preset());
    expect_results(driver, {{-ENOSYS}}, preset(), OutcomeKind::Ok, false);
    return;
  }
  // 2.6.23: only a mode without FALLOC_FL_KEEP_SIZE is refused up front.
  const int64_t nomode = -EOPNOTSUPP;
  expect_results(text, {{nomode}, {nomode}, {-EINVAL}, {-EFBIG}, {20}}, preset());
  expect_results(driver, {{-EOPNOTSUPP}}, preset(), OutcomeKind::Ok, false);
}

INSTANTIATE_TEST_SUITE_P(Presets, Contract, ::testing::ValuesIn(kPresets), [](const auto& info) {
  std::string name = info.param;
  for (char& c : name)
    if (c == '.' || c == '-') c = '_';
  return name;
});

}  // namespace
}  // namespace faultline
