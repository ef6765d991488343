// The fuzzing pieces end to end: the libFuzzer target's crash handling and
// kernel pinning, -minimize_crash, the corpus tools, and (when built) the
// AFL++ target and custom mutator.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tests/test_util.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;
using testing::bin;
using testing::faultline_cmd;
using testing::run_command;

class Fuzzing : public testing::TempDirTest {
 protected:
  // The race of model.md section 3 as a binary libFuzzer input.
  std::string race_binary() {
    const std::string out = path("race.pb");
    EXPECT_EQ(
        faultline_cmd("corpus convert " + source("corpus/regressions/fault_vs_invalidate.txtpb") + " " + out).exit_code,
        0);
    return out;
  }
};

TEST_F(Fuzzing, LibFuzzerTargetReportsDedupTokenAndAborts) {
  const auto r = run_command(bin("fuzz_schedule") + " " + race_binary());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("==faultline== Violation dangling-mapping:invalidate_complete_page2 on v2.6.20"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("DEDUP_TOKEN: dangling-mapping:invalidate_complete_page2"), std::string::npos);
  EXPECT_NE(r.output.find("deadly signal"), std::string::npos);  // abort() reached libFuzzer
}

TEST_F(Fuzzing, MakeFuzzShowsProgressOnATerminalOnly) {
  const std::string build = fs::path(bin("faultline")).parent_path().parent_path().string();
  const std::string script = source("tools/fuzz.sh");
  const std::string env = "BUILD=" + build + " FUZZ_SECONDS=4 FUZZ_JOBS=1 FUZZ_OUT=";
  const auto piped = run_command(env + path("piped") + " " + script);
  EXPECT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_EQ(piped.output.find(" s left"), std::string::npos) << piped.output;
  EXPECT_NE(piped.output.find("== fuzzing v2.6.20 for 4s"), std::string::npos) << piped.output;
  // util-linux script(1) gives it a terminal.
  const auto tty = run_command("script -qec '" + env + path("tty") + " " + script + "' /dev/null");
  EXPECT_EQ(tty.exit_code, 0) << tty.output;
  EXPECT_NE(tty.output.find(" executions  "), std::string::npos) << tty.output;
  EXPECT_NE(tty.output.find(" crash inputs, "), std::string::npos) << tty.output;
  EXPECT_NE(tty.output.find(" s left"), std::string::npos) << tty.output;
}

TEST_F(Fuzzing, PinnedKernelOverridesTheInput) {
  const std::string race = race_binary();
  EXPECT_EQ(run_command("FAULTLINE_KERNEL=seed " + bin("fuzz_schedule") + " " + race).exit_code, 0);
  const auto r = run_command("FAULTLINE_KERNEL=bogus " + bin("fuzz_schedule") + " " + race);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown kernel preset \"bogus\""), std::string::npos);
  EXPECT_EQ(run_command("FAULTLINE_IGNORE=dangling-mapping " + bin("fuzz_schedule") + " " + race).exit_code, 0);
  EXPECT_EQ(run_command("FAULTLINE_ONLY=deadlock " + bin("fuzz_schedule") + " " + race).exit_code, 0);
}

TEST_F(Fuzzing, ACrashOnThePinnedKernelOfAnInputRecordingAnotherLeavesAPinnedCopy) {
  Schedule s = testing::schedule_from_file(source("corpus/regressions/fault_vs_invalidate.txtpb"));
  s.mutable_kernel()->set_preset("v2.6.26");  // clean there
  write("other_kernel.pb", to_binary(s));
  fs::create_directories(path("art"));
  const auto r = run_command("FAULTLINE_KERNEL=v2.6.20 " + bin("fuzz_schedule") + " -artifact_prefix=" + path("art/") +
                             " " + path("other_kernel.pb"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("the input records kernel v2.6.26, not FAULTLINE_KERNEL"), std::string::npos) << r.output;
  std::vector<fs::path> copies;
  for (const auto& e : fs::directory_iterator(path("art")))
    if (e.path().filename().string().rfind("pinned-", 0) == 0) copies.push_back(e.path());
  ASSERT_EQ(copies.size(), 1u) << r.output;
  const auto again = faultline_cmd("replay " + copies[0].string());
  EXPECT_NE(again.output.find("Violation dangling-mapping:invalidate_complete_page2 on v2.6.20"), std::string::npos)
      << again.output;
}

TEST_F(Fuzzing, TriageSetsKnownFindingsApartWithTheirReproducer) {
  fs::create_directories(path("crashes"));
  fs::copy_file(race_binary(), path("crashes/crash-1"));
  const auto r = faultline_cmd("triage " + path("crashes") + " --known " + source("corpus/regressions"));
  EXPECT_EQ(r.exit_code, 0) << r.output;  // nothing new
  EXPECT_NE(r.output.find("KNOWN Violation dangling-mapping:invalidate_complete_page2 on v2.6.20"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("reproducer: " + source("corpus/regressions/fault_vs_invalidate.txtpb")), std::string::npos)
      << r.output;
}

TEST_F(Fuzzing, InputsThatDoNotParseAreRejectedNotCrashes) {
  write("garbage", std::string("\xff\xfe\x01\x02garbage", 11));
  write("invalid.pb", std::string("\x2a\x02\x08\x07", 4));  // tasks { process: 7 } with no processes
  for (const char* f : {"garbage", "invalid.pb"}) {
    const auto r = run_command(bin("fuzz_schedule") + " " + path(f));
    EXPECT_EQ(r.exit_code, 0) << f << r.output;
  }
}

TEST_F(Fuzzing, MinimizeCrashStaysOnTheSameBug) {
  const auto r =
      run_command(bin("fuzz_schedule") + " -minimize_crash=1 -runs=300 -exact_artifact_path=" + path("minimized") +
                  " " + race_binary());
  ASSERT_TRUE(fs::exists(path("minimized"))) << r.output;
  const auto again = faultline_cmd("replay " + path("minimized"));
  EXPECT_NE(again.output.find("dangling-mapping"), std::string::npos) << again.output;
}

TEST_F(Fuzzing, CorpusConvertCheckStatsAndMergeWithoutTouchingInputs) {
  // convert: text -> binary -> text keeps the schedule.
  ASSERT_EQ(faultline_cmd("corpus convert " + source("corpus/seeds") + " " + path("bin")).exit_code, 0);
  ASSERT_EQ(faultline_cmd("corpus convert " + path("bin") + " " + path("text") + " --to text").exit_code, 0);
  const auto a = faultline_cmd("corpus stats " + source("corpus/seeds"));
  const auto b = faultline_cmd("corpus stats " + path("bin"));
  EXPECT_EQ(a.output.substr(a.output.find("interleaving features"), 26),
            b.output.substr(b.output.find("interleaving features"), 26));
  EXPECT_EQ(a.output.substr(a.output.find("kernels")), b.output.substr(b.output.find("kernels")));
  // check: every seed replays; a corrupt file is reported and fails the check.
  EXPECT_EQ(faultline_cmd("corpus check " + path("bin")).exit_code, 0);
  fs::create_directories(path("mixed"));
  fs::copy_file(path("bin/fault_vs_odirect.pb"), path("mixed/good.pb"));
  std::ofstream(path("mixed/bad.pb"), std::ios::binary) << std::string("\xff\xff\xff\xff", 4);
  const auto check = faultline_cmd("corpus check " + path("mixed"));
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("FAIL " + path("mixed/bad.pb")), std::string::npos) << check.output;
  // merge: two copies of a corpus (one text, one binary, as libFuzzer and
  // AFL++ would leave them) give one deduplicated corpus; inputs untouched.
  fs::create_directories(path("afl/default/queue"));
  for (const auto& e : fs::directory_iterator(path("bin")))
    fs::copy_file(e.path(), path("afl/default/queue/id:" + e.path().stem().string()));
  std::ofstream(path("afl/default/fuzzer_stats")) << "not a schedule\n";
  const auto before = fs::last_write_time(path("bin/fault_vs_odirect.pb"));
  const auto merged = faultline_cmd("corpus merge " + path("merged") + " " + path("text") + " " + path("afl"));
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  size_t kept = 0;
  for (const auto& e : fs::directory_iterator(path("merged"))) kept += e.is_regular_file();
  EXPECT_GT(kept, 0u);
  size_t seeds = 0;
  for (const auto& e : fs::directory_iterator(source("corpus/seeds"))) seeds += e.is_regular_file();
  EXPECT_LE(kept, seeds);  // each seed twice: the copies add nothing
  EXPECT_EQ(fs::last_write_time(path("bin/fault_vs_odirect.pb")), before);
  EXPECT_TRUE(fs::exists(path("afl/default/fuzzer_stats")));
  // What OUT holds already counts: merging the seeds again (text this time,
  // comments changed) adds nothing.
  fs::create_directories(path("again"));
  for (const auto& e : fs::directory_iterator(source("corpus/seeds")))
    std::ofstream(path("again/" + e.path().filename().string())) << "# another comment\n"
                                                                 << testing::read_file(e.path());
  // A merge killed while writing left its temporary file; one of a merge
  // still running (this test's pid) stays.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string stale = path("merged/.0123abcd.pb.tmp." + std::to_string(dead));
  const std::string live = path("merged/.4567cdef.pb.tmp." + std::to_string(getpid()));
  std::ofstream(stale) << "half";
  std::ofstream(live) << "half";
  const auto again = faultline_cmd("corpus merge " + path("merged") + " " + path("again"));
  EXPECT_NE(again.output.find(" 0 added to"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("removed 1 temporary file of a merge that was killed"), std::string::npos)
      << again.output;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  fs::remove(live);
  size_t kept2 = 0;
  for (const auto& e : fs::directory_iterator(path("merged"))) kept2 += e.is_regular_file();
  EXPECT_EQ(kept2, kept);
}

TEST_F(Fuzzing, CorpusConvertKeepsEqualNamesApartAndNeverWritesIntoItsInput) {
  const std::string race = race_binary();
  for (const char* node : {"sync/main/queue", "sync/node7/queue"}) {
    fs::create_directories(path(node));
    fs::copy_file(race, path(std::string(node) + "/id:000000,time:0"));
  }
  std::ofstream(path("sync/main/fuzzer_setup")) << "# environment variables:\n";
  const auto r = faultline_cmd("corpus convert " + path("sync") + " " + path("text") + " --to text");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(path("text/main/queue/id:000000,time:0.txtpb")));
  EXPECT_TRUE(fs::exists(path("text/node7/queue/id:000000,time:0.txtpb")));
  EXPECT_EQ(faultline_cmd("corpus check " + path("sync")).exit_code, 0);  // AFL++'s bookkeeping is skipped
  const std::string before = testing::read_file(path("text/main/queue/id:000000,time:0.txtpb"));
  const auto into_itself = faultline_cmd("corpus convert " + path("text") + " " + path("text") + " --to binary");
  EXPECT_EQ(into_itself.exit_code, 2);
  EXPECT_NE(into_itself.output.find("inputs are never modified"), std::string::npos) << into_itself.output;
  EXPECT_EQ(faultline_cmd("corpus convert " + race + " " + race).exit_code, 2);
  EXPECT_EQ(testing::read_file(path("text/main/queue/id:000000,time:0.txtpb")), before);
}

// The AFL++ custom mutator library, loaded as afl-fuzz loads it (in a
// process of its own: this one already registered the schedule's descriptors).
TEST_F(Fuzzing, AflCustomMutatorLibraryProducesValidSchedules) {
  ASSERT_EQ(
      faultline_cmd("corpus convert " + source("corpus/seeds/fault_vs_odirect.txtpb") + " " + path("a.pb")).exit_code,
      0);
  ASSERT_EQ(
      faultline_cmd("corpus convert " + source("corpus/seeds/fault_vs_truncate.txtpb") + " " + path("b.pb")).exit_code,
      0);
  fs::create_directories(path("mutants"));
  const auto r = run_command(bin("afl_mutator_host") + " " + FAULTLINE_LIB_DIR + "/libfaultline_afl_mutator.so " +
                             path("a.pb") + " " + path("b.pb") + " 200 " + path("mutants"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(path("mutants"))) {
    const std::string data = testing::read_file(e.path());
    Schedule s;
    ASSERT_TRUE(s.ParseFromString(data)) << e.path();
    ASSERT_FALSE(validate_schedule(s)) << e.path();
    ++n;
  }
  EXPECT_EQ(n, 200u);
}

// Interleaving features get map slots of their own: with them on, a run
// covers every slot it covers without them, and more.
TEST_F(Fuzzing, AflInterleavingFeaturesHaveSlotsOfTheirOwn) {
  if (!fs::exists(bin("fuzz_schedule_afl"))) GTEST_SKIP() << "fuzz_schedule_afl was not built";
  const auto size = run_command("AFL_DUMP_MAP_SIZE=1 " + bin("fuzz_schedule_afl"));
  const long map_size = std::stol(size.output);
  EXPECT_GT(map_size, 1 << 14) << "16 K interleaving slots plus the code edges";
  const std::string race = race_binary();
  auto slots = [&](const char* coverage) {  // slot numbers, in order
    const std::string map = path(std::string("map") + coverage);
    run_command("FAULTLINE_INTERLEAVING_COVERAGE=" + std::string(coverage) +
                " FAULTLINE_IGNORE=dangling-mapping AFL_MAP_SIZE=" + std::to_string(map_size) + " afl-showmap -q -o " +
                map + " -- " + bin("fuzz_schedule_afl") + " < " + race);
    std::set<long> out;
    std::ifstream in(map);
    for (std::string line; std::getline(in, line);) out.insert(std::stol(line.substr(0, line.find(':'))));
    return out;
  };
  const std::set<long> with = slots("1"), code = slots("0");
  ASSERT_FALSE(code.empty());
  EXPECT_TRUE(std::includes(with.begin(), with.end(), code.begin(), code.end()));
  std::set<long> features;
  std::set_difference(with.begin(), with.end(), code.begin(), code.end(), std::inserter(features, features.end()));
  ASSERT_GT(features.size(), 5u);
  // A range apart from the code edges, not folded onto them.
  EXPECT_TRUE(*features.rbegin() < *code.begin() || *features.begin() > *code.rbegin())
      << "features " << *features.begin() << ".." << *features.rbegin() << ", code edges " << *code.begin() << ".."
      << *code.rbegin();
}

// Needs the AFL++ build (fixture: cmake --build build --target fuzz_schedule_afl_target).
TEST_F(Fuzzing, AflTargetReportsTheRaceAndRunsUnderAflFuzz) {
  if (!fs::exists(bin("fuzz_schedule_afl"))) GTEST_SKIP() << "fuzz_schedule_afl was not built";
  const std::string race = race_binary();
  const auto r = run_command(bin("fuzz_schedule_afl") + " < " + race);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("DEDUP_TOKEN: dangling-mapping:invalidate_complete_page2"), std::string::npos) << r.output;
  // A short afl-fuzz run with the custom mutator finds the race from the
  // seeds of fault races (it stops at the first crash). Not all of
  // corpus/seeds: one AFL++ seed's time to the race changes with every seed
  // added there (from 1 s to beyond 150 s).
  fs::create_directories(path("seeds"));
  for (const char* seed : {"fault_vs_odirect", "fault_vs_revalidate", "fault_vs_truncate"})
    fs::copy_file(source(std::string("corpus/seeds/") + seed + ".txtpb"), path(std::string("seeds/") + seed + ".txtpb"));
  ASSERT_EQ(faultline_cmd("corpus convert " + path("seeds") + " " + path("in")).exit_code, 0);
  const auto afl = run_command(
      "AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_BENCH_UNTIL_CRASH=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 "
      "AFL_CUSTOM_MUTATOR_LIBRARY=" +
      std::string(FAULTLINE_LIB_DIR) +
      "/libfaultline_afl_mutator.so "
      "AFL_CUSTOM_MUTATOR_ONLY=1 AFL_DISABLE_TRIM=1 FAULTLINE_KERNEL=v2.6.20 FAULTLINE_ONLY=dangling-mapping "
      "timeout 400 afl-fuzz -s 1 -V 300 -i " +
      path("in") + " -o " + path("out") + " -- " + bin("fuzz_schedule_afl"));
  size_t crashes = 0;
  for (const auto& e : fs::directory_iterator(path("out/default/crashes")))
    if (e.path().filename().string().rfind("id:", 0) == 0) ++crashes;
  ASSERT_GT(crashes, 0u) << afl.output.substr(afl.output.size() > 2000 ? afl.output.size() - 2000 : 0);
  const auto triage = faultline_cmd("triage " + path("out/default/crashes") + " --kernel v2.6.20");
  EXPECT_NE(triage.output.find("dangling-mapping"), std::string::npos) << triage.output;
}

}  // namespace
}  // namespace faultline
