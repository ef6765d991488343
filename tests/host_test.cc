// The host kernel as oracle: what runs there, how results are compared, the
// known differences, and the seeds' single-task parts on the newest preset.
#include <dirent.h>
#include <sys/mman.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "tests/host_test_util.h"

namespace faultline {
namespace {

using host::HostVerdict;
using testing::host_env;
using testing::schedule_from_text;

host::HostComparison compare(const std::string& text, const char* preset,
                             const host::KnownDifferences& known = host::KnownDifferences::builtin()) {
  return host::compare_with_host(schedule_from_text(text), *mm::preset_config(preset), host_env(), known);
}

const host::KnownDifferences& no_known_differences() {
  static const host::KnownDifferences none = [] {
    std::string error;
    return *host::KnownDifferences::parse(R"({"differences": []})", &error);
  }();
  return none;
}

size_t entries(const std::filesystem::path& dir) {
  return size_t(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

constexpr const char* kPunchRegular = R"(
  files { kind: REGULAR size: 32 contents: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB" }
  processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
  tasks { process: 0
    syscalls { madvise { addr: 272 length: 16 advice: REMOVE } }
    syscalls { load { addr: 272 len: 2 } }
    syscalls { read { file: 0 offset: 14 len: 4 } }
  })";

TEST(HostOracle, ScaledResultsAgreeOnTheNewestPreset) {
  const auto c = compare(kPunchRegular, testing::newest_preset());
  ASSERT_EQ(c.verdict, HostVerdict::Agree) << host::render_comparison(schedule_from_text(kPunchRegular), c, host_env());
  ASSERT_EQ(c.rows.size(), 3u);
  ASSERT_TRUE(c.rows[2].host);
  EXPECT_EQ(std::string(c.rows[2].host->data.begin(), c.rows[2].host->data.end()), std::string("AA\0\0", 4));
  EXPECT_TRUE(c.applied.empty());
}

TEST(HostOracle, AKnownDifferenceKeepsTheOldKernelsResultAndIsNamed) {
  // 2.6.26: MADV_REMOVE on ext3 is -ENOSYS; the host does not punch either.
  const auto c = compare(kPunchRegular, "v2.6.26");
  ASSERT_EQ(c.verdict, HostVerdict::Agree) << c.refusal;
  ASSERT_EQ(c.applied.size(), 1u);
  EXPECT_EQ(c.applied[0].name, "madvise-remove-needs-truncate-range");
  EXPECT_EQ(c.rows[0].note, "known: madvise-remove-needs-truncate-range");
  EXPECT_EQ(std::string(c.rows[1].model.data.begin(), c.rows[1].model.data.end()), "BB");
  EXPECT_EQ(std::string(c.rows[1].host->data.begin(), c.rows[1].host->data.end()), "BB");
}

TEST(HostOracle, AnUnlistedDifferenceNamesTaskSyscallFieldAndBothValues) {
  const auto c = compare(kPunchRegular, "v2.6.26", no_known_differences());
  ASSERT_EQ(c.verdict, HostVerdict::Differ);
  ASSERT_TRUE(c.first);
  EXPECT_EQ(c.first->task, 0u);
  EXPECT_EQ(c.first->index, 0u);
  EXPECT_EQ(c.first->field, "ret");
  EXPECT_EQ(c.first->model, "-ENOSYS");
  EXPECT_EQ(c.first->host, "0");
  EXPECT_EQ(c.first->dedup_token(), "host-diff:madvise:ret");
  // The punched page then reads zeros on the host only.
  EXPECT_TRUE(c.rows[1].differs);
}

TEST(HostOracle, AModelViolationIsADifferenceUnlessTheKernelIsKnownForIt) {
  const std::string text = R"(
    files { kind: REGULAR size: 32 contents: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB" }
    processes { mappings { file: 0 addr: 256 length: 32 shared: false writable: true } }
    tasks { process: 0
      syscalls { store { addr: 272 len: 1 value: 80 } }
      syscalls { ftruncate { file: 0 size: 16 } }
      syscalls { load { addr: 272 len: 1 } }
    })";
  const auto known = compare(text, "seed");
  EXPECT_EQ(known.verdict, HostVerdict::Agree);
  ASSERT_EQ(known.applied.size(), 1u);
  EXPECT_EQ(known.applied[0].name, "seed-private-cow-beyond-eof");
  const auto unknown = compare(text, "seed", no_known_differences());
  ASSERT_EQ(unknown.verdict, HostVerdict::Differ);
  EXPECT_EQ(unknown.first->dedup_token(), "host-diff:outcome:outcome");
  EXPECT_EQ(compare(text, "v2.6.23").verdict, HostVerdict::Agree);
}

TEST(HostOracle, TasksThatRunOneAfterAnotherInSeparateProcessesAgree) {
  // The same model address in two processes: separate host mappings.
  const std::string text = R"(
    files { kind: SHMEM size: 16 contents: "AAAAAAAAAAAAAAAA" }
    processes { mappings { file: 0 addr: 256 length: 16 shared: true writable: true } }
    processes { mappings { file: 0 addr: 256 length: 16 shared: false writable: true } }
    tasks { process: 0 syscalls { store { addr: 256 len: 1 value: 83 } } }
    tasks { process: 1
      syscalls { store { addr: 257 len: 1 value: 80 } }
      syscalls { load { addr: 256 len: 2 } }
    }
    tasks { process: 0 syscalls { load { addr: 256 len: 2 } } })";
  const auto c = compare(text, testing::newest_preset());
  ASSERT_EQ(c.verdict, HostVerdict::Agree) << c.refusal;
  ASSERT_EQ(c.rows.size(), 4u);
  EXPECT_EQ(std::string(c.rows[2].host->data.begin(), c.rows[2].host->data.end()), "SP");
  EXPECT_EQ(std::string(c.rows[3].host->data.begin(), c.rows[3].host->data.end()), "SA");
}

TEST(HostOracle, RefusesWhatTheHostCannotRunAndSaysWhy) {
  const std::string file = "files { kind: REGULAR size: 32 } processes { }\n";
  struct Case {
    std::string text;
    const char* why;
  } cases[] = {
      {file + "tasks { syscalls { stat { file: 0 } } } decisions { step: 0 task: 0 }", "interleaving decisions"},
      {file + "tasks { syscalls { stat { file: 0 } } } faults { kind: ALLOC_FAIL }", "injects faults"},
      {"files { kind: DRIVER size: 32 } processes { } tasks { syscalls { stat { file: 0 } } }", "DRIVER"},
      {file + "tasks { syscalls { direct_write { file: 0 offset: 1 len: 2 } } }", "not aligned"},
      // Task 0 sleeps on the readpage I/O and task 1 runs meanwhile.
      {file + "tasks { syscalls { read { file: 0 offset: 0 len: 4 } } } tasks { syscalls { stat { file: 0 } } }",
       "in flight"},
      {"files { kind: REGULAR size: 99999 } tasks { }", "invalid schedule"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const auto got = compare(c.text, testing::newest_preset());
    EXPECT_EQ(got.verdict, HostVerdict::Refused);
    EXPECT_NE(got.refusal.find(c.why), std::string::npos) << got.refusal;
  }
}

TEST(HostOracle, ARunLeavesNoFileNoMappingAndNoDescriptorBehind) {
  const size_t files_before = entries(host_env().dir);
  const size_t fds_before = entries("/proc/self/fd");
  // Each kind of host resource: a file, a memfd, an O_DIRECT descriptor, mappings.
  const std::string text = R"(
    files { kind: REGULAR size: 32 cached_pages: 0 cached_pages: 1 }
    files { kind: SHMEM size: 16 }
    processes { mappings { file: 0 addr: 256 length: 32 shared: true writable: true } }
    processes { mappings { file: 1 addr: 256 length: 16 shared: false writable: true } }
    tasks { process: 0
      syscalls { direct_write { file: 0 offset: 0 len: 16 value: 68 } }
      syscalls { direct_write { file: 1 offset: 0 len: 16 value: 68 } }
      syscalls { load { addr: 256 len: 2 } }
    })";
  EXPECT_EQ(compare(text, testing::newest_preset()).verdict, HostVerdict::Agree);
  EXPECT_EQ(entries(host_env().dir), files_before);
  EXPECT_EQ(entries("/proc/self/fd"), fds_before);
  // The mappings' region is free again.
  void* region = reinterpret_cast<void*>(0x300000000000ull);
  void* got = mmap(region, 1ull << 32, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT_EQ(got, region);
  if (got != MAP_FAILED) munmap(got, 1ull << 32);
}

TEST(HostOracle, TheBuiltInKnownDifferencesParseAndMalformedListsAreRejected) {
  EXPECT_FALSE(host::KnownDifferences::builtin().entries().empty());
  const char* const bad[][2] = {
      {"[]", "\"differences\" list"},
      {R"({"differences": [{"name": "a", "presets": ["v9"], "syscall": "read", "model": "0", "action": "accept",
          "host": "1", "reason": "r", "kernel": "k"}]})", "unknown preset"},
      {R"({"differences": [{"name": "a", "presets": ["v5.15"], "syscall": "reed", "model": "0", "action": "accept",
          "host": "1", "reason": "r", "kernel": "k"}]})", "unknown syscall"},
      {R"({"differences": [{"name": "a", "presets": ["v5.15"], "syscall": "read", "model": "0", "action": "accept",
          "reason": "r", "kernel": "k"}]})", "needs the \"host\""},
      {R"({"differences": [{"name": "a", "presets": ["v5.15"], "syscall": "read", "model": "0", "action": "accept",
          "host": "1", "reason": "r", "kernel": "k", "when": {"size": 1}}]})", "no field \"size\""},
      {R"({"differences": [{"name": "a", "presets": ["v5.15"], "outcome": "x", "reson": "r", "kernel": "k"}]})",
       "unknown key \"reson\""},
  };
  for (const auto& [text, why] : bad) {
    std::string error;
    EXPECT_FALSE(host::KnownDifferences::parse(text, &error));
    EXPECT_NE(error.find(why), std::string::npos) << error;
  }
}

// corpus/host: what fuzz_host_diff found, each with its expectations:
// "# host: PRESET agree [KNOWN-DIFFERENCE...]" (the known differences applied).
TEST(HostOracle, TheHostFindingsKeepTheirVerdicts) {
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_dir() / "corpus/host")) {
    const std::string text = testing::read_file(entry.path());
    const Schedule s = schedule_from_text(text);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("# host: ")) continue;
      std::istringstream words(line.substr(8));
      std::string preset, verdict;
      words >> preset >> verdict;
      std::set<std::string> want;
      for (std::string name; words >> name;) want.insert(name);
      SCOPED_TRACE(entry.path().filename().string() + " on " + preset);
      ASSERT_TRUE(mm::preset_config(preset)) << preset;
      ASSERT_EQ(verdict, "agree");
      const auto c = host::compare_with_host(s, *mm::preset_config(preset), host_env());
      EXPECT_EQ(c.verdict, HostVerdict::Agree) << host::render_comparison(s, c, host_env());
      std::set<std::string> got;
      for (const auto& d : c.applied) got.insert(d.name);
      EXPECT_EQ(got, want);
      ++checked;
    }
  }
  EXPECT_GE(checked, 5u);
}

// Every task of every seed and regression, alone, on the newest preset.
TEST(HostOracle, EverySingleTaskPartOfTheCorpusAgreesOnTheNewestPreset) {
  size_t ran = 0;
  std::vector<std::string> skipped;
  for (const char* dir : {"corpus/seeds", "corpus/regressions"})
    for (const auto& entry : std::filesystem::directory_iterator(testing::source_dir() / dir)) {
      const Schedule s = testing::schedule_from_file(entry.path());
      const auto parts = host::single_task_parts(s);
      for (size_t t = 0; t < parts.size(); ++t) {
        SCOPED_TRACE(entry.path().filename().string() + " task " + std::to_string(t));
        const auto c = host::compare_with_host(parts[t], *mm::preset_config(testing::newest_preset()), host_env());
        if (c.verdict == HostVerdict::Refused) {
          skipped.push_back(entry.path().filename().string() + " task " + std::to_string(t) + ": " + c.refusal);
          continue;
        }
        ++ran;
        EXPECT_EQ(c.verdict, HostVerdict::Agree) << host::render_comparison(parts[t], c, host_env());
      }
    }
  for (const std::string& why : skipped) std::cout << "[ HOST SKIP ] " << why << "\n";
  EXPECT_GT(ran, 50u);
}

class HostCli : public testing::TempDirTest {};

TEST_F(HostCli, ExitsZeroWhenAllAgreeOneOnADifferenceTwoOnWhatItCannotRun) {
  write("punch.txtpb", std::string("kernel { preset: \"v2.6.26\" }\n") + kPunchRegular);
  write("none.json", R"({"differences": []})");
  write("race.txtpb", "files { kind: DRIVER size: 16 } processes { } tasks { syscalls { stat { file: 0 } } }");
  const auto ok = testing::faultline_cmd("host " + path("punch.txtpb"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("known difference applied: madvise-remove-needs-truncate-range"), std::string::npos);
  EXPECT_NE(ok.output.find("agree: 3 syscalls"), std::string::npos) << ok.output;
  const auto newest = testing::faultline_cmd("host --kernel " + std::string(testing::newest_preset()) + " " +
                                             path("punch.txtpb") + " --dir " + dir_.string());
  EXPECT_EQ(newest.exit_code, 0) << newest.output;
  EXPECT_EQ(entries(dir_), 3u);  // its own files only: the host's files had no name
  const auto differ = testing::faultline_cmd("host --differences " + path("none.json") + " " + path("punch.txtpb"));
  EXPECT_EQ(differ.exit_code, 1) << differ.output;
  EXPECT_NE(differ.output.find("DIFFERENCE: task 0 syscall 0 (madvise), ret: model -ENOSYS, host 0"),
            std::string::npos)
      << differ.output;
  const auto refused = testing::faultline_cmd("host " + path("race.txtpb"));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.output.find("not run on the host: files[0] is a DRIVER file"), std::string::npos);
}

TEST_F(HostCli, BadDirectoriesAndListsAreErrors) {
  write("punch.txtpb", kPunchRegular);
  write("bad.json", R"({"differences": [{"name": "x"}]})");
  for (const std::string& args : {"--dir " + path("missing"), "--dir " + path("punch.txtpb"),
                                  "--differences " + path("bad.json"), "--differences " + path("missing.json"),
                                  std::string("--kernel v9.9")}) {
    SCOPED_TRACE(args);
    const auto r = testing::faultline_cmd("host " + args + " " + path("punch.txtpb"));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("faultline: "), std::string::npos) << r.output;
  }
}

TEST_F(HostCli, TheTemporaryDirectoryGoesAtExitAndOnSigterm) {
  write("punch.txtpb", kPunchRegular);
  const auto r = testing::faultline_cmd("host " + path("punch.txtpb"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t at = r.output.find("unnamed files in ");
  ASSERT_NE(at, std::string::npos);
  const std::string used = r.output.substr(at + 17, r.output.find(' ', at + 17) - at - 17);
  EXPECT_TRUE(used.find("faultline-host-") != std::string::npos) << used;
  EXPECT_FALSE(std::filesystem::exists(used)) << used;
  // Many files keep it running; a SIGTERM once its directory exists.
  std::string files;
  for (int i = 0; i < 30000; ++i) files += " punch.txtpb";
  write("run.sh", "#!/bin/bash\ncd " + dir_.string() + "\n" + testing::bin("faultline") + " host" + files +
                      " > out.txt &\n"
                      "pid=$!\n"
                      "for i in $(seq 400); do\n"
                      "  new=$(sed -n 's/^host files: unnamed files in \\([^ ]*\\) .*/\\1/p' out.txt)\n"
                      "  [ -n \"$new\" ] && [ -d \"$new\" ] && break; sleep 0.01\n"
                      "done\n"
                      "kill -TERM $pid; wait $pid; echo \"status $?\"\n"
                      "[ -n \"$new\" ] && [ ! -e \"$new\" ] && echo removed\n");
  const auto killed = testing::run_command("bash " + path("run.sh"));
  EXPECT_NE(killed.output.find("status 143"), std::string::npos) << killed.output;
  EXPECT_NE(killed.output.find("removed"), std::string::npos) << killed.output;
}

bool have_fuzz_host_diff() { return std::filesystem::exists(testing::bin("fuzz_host_diff")); }

TEST_F(HostCli, FuzzHostDiffAbortsOnAnUnexplainedDifferenceAndLeavesNoFile) {
  if (!have_fuzz_host_diff()) GTEST_SKIP() << "fuzz_host_diff not built (needs clang)";
  write("punch.txtpb", kPunchRegular);
  write("none.json", R"({"differences": []})");
  std::filesystem::create_directories(dir_ / "host");
  ASSERT_EQ(testing::faultline_cmd("corpus convert " + path("punch.txtpb") + " " + path("punch.pb")).exit_code, 0);
  const std::string env = "FAULTLINE_HOST_DIR=" + path("host") + " FAULTLINE_KERNEL=v2.6.26 ";
  const auto known = testing::run_command(env + testing::bin("fuzz_host_diff") + " " + path("punch.pb"));
  EXPECT_EQ(known.exit_code, 0) << known.output;
  const auto differ = testing::run_command(env + "FAULTLINE_HOST_DIFFERENCES=" + path("none.json") + " " +
                                           testing::bin("fuzz_host_diff") + " -artifact_prefix=" + path("") + " " +
                                           path("punch.pb"));
  EXPECT_NE(differ.exit_code, 0);
  EXPECT_NE(differ.output.find("DEDUP_TOKEN: host-diff:madvise:ret"), std::string::npos) << differ.output;
  EXPECT_NE(differ.output.find("DIFFERENCE: task 0 syscall 0 (madvise), ret: model -ENOSYS, host 0"),
            std::string::npos);
  EXPECT_EQ(entries(dir_ / "host"), 0u);
}

TEST_F(HostCli, FuzzHostDiffKilledMidCampaignLeavesNoFile) {
  if (!have_fuzz_host_diff()) GTEST_SKIP() << "fuzz_host_diff not built (needs clang)";
  std::filesystem::create_directories(dir_ / "host");
  std::filesystem::create_directories(dir_ / "out");
  const auto parts = testing::faultline_cmd("corpus host-parts " + path("parts") + " " + source("corpus/seeds"));
  ASSERT_EQ(parts.exit_code, 0) << parts.output;
  write("run.sh", "FAULTLINE_HOST_DIR=" + path("host") + " " + testing::bin("fuzz_host_diff") + " " + path("out") +
                      " " + path("parts") + " -max_total_time=60 > " + path("log") + " 2>&1 &\n" +
                      // Killed once it runs inputs, however long its start takes.
                      "pid=$!; for i in $(seq 600); do grep -q INITED " + path("log") +
                      " && break; sleep 0.1; done; kill -9 $pid; wait $pid; echo status $?\n");
  const auto r = testing::run_command("bash " + path("run.sh"));
  EXPECT_NE(r.output.find("status 137"), std::string::npos) << r.output;
  EXPECT_NE(testing::read_file(path("log")).find("INITED"), std::string::npos) << testing::read_file(path("log"));
  EXPECT_EQ(entries(dir_ / "host"), 0u);
}

}  // namespace
}  // namespace faultline
