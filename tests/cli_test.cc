// The faultline command end to end: exit codes, messages, and the acceptance
// scenarios of replay, explore (pct, dfs), minimize and trace.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "tests/test_util.h"
#include "vmcore/sim/dfs_strategy.h"
#include "toolkit/bisect.h"
#include "toolkit/minimize.h"
#include "toolkit/schedule_file.h"
#include "toolkit/record.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;
using testing::source_dir;

using testing::CommandResult;
using testing::faultline_cmd;

using Cli = testing::TempDirTest;
using Result = CommandResult;

TEST_F(Cli, TheRaceReplaysToOneHash1000TimesAndRunsCleanOnSeed) {
  const std::string race = source("corpus/regressions/fault_vs_invalidate.txtpb");
  const Result r = faultline_cmd("replay --repeat 1000 " + race);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("Violation dangling-mapping:invalidate_complete_page2 on v2.6.20"), std::string::npos);
  EXPECT_NE(r.output.find("1000 replays, one trace hash"), std::string::npos) << r.output;
  const Result seed = faultline_cmd("replay --kernel seed " + race);
  EXPECT_EQ(seed.exit_code, 0) << seed.output;
  EXPECT_NE(seed.output.find(": Ok on seed"), std::string::npos) << seed.output;
}

TEST_F(Cli, TraceShowsOneColumnPerTaskAndTheViolationStep) {
  const Result r = faultline_cmd("replay --trace " + source("corpus/regressions/fault_vs_invalidate.txtpb"));
  EXPECT_NE(r.output.find("task 0 (invalidator)"), std::string::npos);
  EXPECT_NE(r.output.find("task 1 (faulter)"), std::string::npos);
  EXPECT_NE(r.output.find("!! Violation: dangling-mapping"), std::string::npos);
  EXPECT_NE(r.output.find("got tree_lock of file0 from task 1"), std::string::npos) << r.output;
}

TEST_F(Cli, PctFindsTheRaceAndMinimizeBringsItToTwoTasksAndTwoPreemptions) {
  const Result r = faultline_cmd("explore " + source("corpus/seeds/fault_vs_odirect.txtpb") +
                                 " --strategy pct --runs 20000 --seed 1 -q -o " + path("found"));
  ASSERT_EQ(r.exit_code, 1) << r.output;
  ASSERT_NE(r.output.find("dangling-mapping"), std::string::npos) << r.output;
  for (const auto& entry : fs::directory_iterator(path("found"))) {
    const std::string out = path("min_" + entry.path().filename().string());
    const Result m = faultline_cmd("minimize " + entry.path().string() + " -o " + out);
    ASSERT_EQ(m.exit_code, 0) << m.output;
    std::smatch after;
    const std::string text = m.output;
    ASSERT_TRUE(std::regex_search(text, after,
                                  std::regex(R"(after:  (\d+) tasks, \d+ syscalls, \d+ decisions, (\d+) preemptions)")))
        << m.output;
    EXPECT_LE(std::stoi(after[1]), 2) << m.output;
    EXPECT_LE(std::stoi(after[2]), 2) << m.output;
    // The result replays to the same signature.
    const Result again = faultline_cmd("replay " + out);
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.output.find(entry.path().stem().string().substr(0, 16)), std::string::npos) << again.output;
  }
}

TEST_F(Cli, DfsFindsTheRaceOn2620AndExhaustsTheBoundCleanOn2626) {
  const std::string scenario = source("corpus/seeds/fault_vs_odirect.txtpb");
  const Result old = faultline_cmd("explore " + scenario + " --strategy dfs --preemption-bound 2 -q --kernel v2.6.20");
  EXPECT_EQ(old.exit_code, 1) << old.output;
  EXPECT_NE(old.output.find("dangling-mapping"), std::string::npos) << old.output;
  const Result fixed =
      faultline_cmd("explore " + scenario + " --strategy dfs --preemption-bound 2 -q --kernel v2.6.26");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("0 distinct failures"), std::string::npos) << fixed.output;
  EXPECT_NE(fixed.output.find("bound 2 exhausted"), std::string::npos) << fixed.output;
}

// "No execution left" is the strategy's answer to begin_execution: the run
// that gets it runs nothing, and every run before it was a new schedule.
TEST(Dfs, SaysThroughBeginExecutionThatItHasNoExecutionLeft) {
  const Schedule s = testing::schedule_from_file(testing::source_dir() / "corpus/seeds/fault_vs_odirect.txtpb");
  RunOptions options{.kernel = mm::preset_config("v2.6.26")};
  sim::DfsStrategy dfs(1);
  std::set<uint64_t> traces;
  uint64_t runs = 0;
  for (;; ++runs) {
    const Outcome out = run(s, dfs, options);
    if (out.kind == OutcomeKind::Exhausted) {
      EXPECT_EQ(out.steps, 0u);
      break;
    }
    ASSERT_EQ(out.kind, OutcomeKind::Ok) << out.report;
    ASSERT_LT(runs, 100000u);
    traces.insert(out.trace_hash);
  }
  EXPECT_EQ(run(s, dfs, options).kind, OutcomeKind::Exhausted);  // and stays so
  EXPECT_NE(dfs.summary().find("bound 1 exhausted"), std::string::npos) << dfs.summary();
  // Bound 1 re-runs the schedules of bound 0 on its way: fewer traces than runs.
  EXPECT_GT(traces.size(), 2u);
  EXPECT_LE(traces.size(), runs);
}

// A punch, a read across its edge, a load beyond EOF and a stat: what each returned.
constexpr const char* kPunchAndLook = R"(
kernel { preset: "v5.15" }
files { kind: SHMEM name: "a" size: 48 contents: "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC" }
processes { name: "p" mappings { file: 0 addr: 256 length: 64 shared: true } }
tasks {
  name: "user"
  syscalls { fallocate { file: 0 mode: 3 offset: 16 len: 16 } }
  syscalls { read { file: 0 offset: 8 len: 16 } }
  syscalls { load { addr: 304 len: 1 } }
  syscalls { stat { file: 0 } }
}
)";

TEST_F(Cli, ResultsShowEachSyscallItsReturnValueAndTheBytesRead) {
  write("look.txtpb", kPunchAndLook);
  const Result r = faultline_cmd("replay --results " + path("look.txtpb"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("task 0 (user):\n"
                          "  fallocate(file=0 \"a\", mode=KEEP_SIZE|PUNCH_HOLE, offset=16, len=16) = 0\n"
                          "  read(file=0 \"a\", offset=8, len=16) = 16  \"AAAAAAAA........\"  "
                          "[41 41 41 41 41 41 41 41 00 00 00 00 00 00 00 00]\n"
                          "  load(addr=304, len=1) = SIGBUS\n"
                          "  stat(file=0 \"a\") = 48\n"),
            std::string::npos)
      << r.output;
  // A run that stops early says which syscalls never ran.
  const Result race = faultline_cmd("replay --results " + source("corpus/regressions/fault_vs_invalidate.txtpb"));
  EXPECT_NE(race.output.find("task 0 (invalidator):\n  not run: 1 of 1 syscalls"), std::string::npos) << race.output;
  EXPECT_NE(race.output.find("task 1 (faulter):\n  load(addr=256, len=1) = 0  \"A\"  [41]"), std::string::npos)
      << race.output;
}

TEST_F(Cli, JsonIsOneObjectPerRunWithTheResults) {
  write("look.txtpb", kPunchAndLook);
  const std::string race = source("corpus/regressions/fault_vs_invalidate.txtpb");
  const Result r = faultline_cmd("replay --json " + path("look.txtpb") + " " + race);
  EXPECT_EQ(r.exit_code, 1) << r.output;  // the race is a failure
  std::istringstream lines(r.output);
  std::vector<nlohmann::json> runs;
  for (std::string line; std::getline(lines, line);) runs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(runs.size(), 2u) << r.output;
  EXPECT_EQ(runs[0]["outcome"], "Ok");
  EXPECT_EQ(runs[0]["kernel"], "v5.15");
  const auto& calls = runs[0]["results"][0]["syscalls"];
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0]["syscall"], "fallocate");
  EXPECT_EQ(calls[0]["args"]["mode"], 3);
  EXPECT_EQ(calls[1]["ret"], 16);
  EXPECT_EQ(calls[1]["data_hex"], "41 41 41 41 41 41 41 41 00 00 00 00 00 00 00 00");
  EXPECT_EQ(calls[2]["result"], "SIGBUS");
  EXPECT_EQ(calls[3]["ret"], 48);
  EXPECT_EQ(runs[1]["outcome"], "Violation");
  EXPECT_EQ(runs[1]["signature"], "dangling-mapping:invalidate_complete_page2");
  EXPECT_EQ(runs[1]["trace_hash"].get<std::string>().size(), 16u);
  EXPECT_EQ(runs[1]["results"][0]["syscalls"][0]["ran"], false);
  EXPECT_EQ(faultline_cmd("replay --json --trace " + race).exit_code, 2);
}

TEST_F(Cli, BisectNamesTheSwitchThatFixesTheRace) {
  const Result r = faultline_cmd("bisect " + source("corpus/regressions/fault_vs_invalidate.txtpb"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("  v2.6.20   2.6      Violation dangling-mapping:invalidate_complete_page2\n"
                          "  seed      2.6      Ok\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("v2.6.20 -> seed: Violation dangling-mapping:invalidate_complete_page2 -> Ok: fixed\n"
                          "  by seed_fault_pagelock on: v2.6.20 with seed's value gives Ok\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("Feb 2007 patch 3/6"), std::string::npos);
  EXPECT_EQ(faultline_cmd("bisect " + path("missing.txtpb")).exit_code, 2);
}

TEST(Bisect, FindsTheFixWithinAnEraAndAcrossOne) {
  auto load = [](const char* name) {
    return *load_schedule_file(testing::source_dir() / "corpus/regressions" / name).schedule;
  };
  auto transition = [](const BisectReport& r, std::string_view from) -> const Transition* {
    for (const Transition& t : r.transitions)
      if (t.from->name == from) return &t;
    return nullptr;
  };
  // CVE-2014-4171: v3.15 starves, v3.16's wait queue fixes it.
  const BisectReport cve = bisect(load("shmem_punch_fault_starvation.txtpb"));
  const Transition* fix = transition(cve, "v3.15");
  ASSERT_TRUE(fix);
  EXPECT_EQ(fix->from_outcome.signature, "starvation:fallocate:i_mutex");
  ASSERT_EQ(fix->culprits.size(), 1u);
  ASSERT_EQ(fix->culprits[0].size(), 1u);
  EXPECT_STREQ(fix->culprits[0][0].info->name, "shmem_falloc_waitq");
  // Across the eras: 2.6.30's page_mkwrite fix is a switch on 2.6.26's functions.
  const BisectReport mkwrite = bisect(load("page_mkwrite_vs_writeback.txtpb"));
  const Transition* cross = transition(mkwrite, "v2.6.26");
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->base->name, std::string("v2.6.26"));
  ASSERT_FALSE(cross->culprits.empty());
  EXPECT_STREQ(cross->culprits[0][0].info->name, "page_mkwrite_locked");
  EXPECT_TRUE(cross->culprits[0][0].enabled);
}

TEST_F(Cli, ExploreShowsProgressOnATerminalOnly) {
  const std::string cmd = testing::bin("faultline") + " explore " + source("corpus/seeds/fault_vs_odirect.txtpb") +
                          " --seconds 1.5 --runs 100000000";
  const Result piped = testing::run_command(cmd);
  EXPECT_EQ(piped.output.find(" s left"), std::string::npos) << piped.output;
  EXPECT_NE(piped.output.find("distinct failures"), std::string::npos) << piped.output;
  // util-linux script(1) gives the command a terminal.
  const Result tty = testing::run_command("script -qec '" + cmd + "' /dev/null");
  EXPECT_NE(tty.output.find(" runs  "), std::string::npos) << tty.output;
  EXPECT_NE(tty.output.find("1 distinct failure  "), std::string::npos) << tty.output;
  EXPECT_NE(tty.output.find(" s left"), std::string::npos) << tty.output;
}

TEST_F(Cli, PerfettoExportIsChromeTraceEventJson) {
  const Result r = faultline_cmd("trace " + source("corpus/regressions/fault_vs_invalidate.txtpb") + " --perfetto " +
                                 path("race.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(path("race.json"));
  const nlohmann::json doc = nlohmann::json::parse(in);
  int slices = 0, instants = 0, threads = 0;
  bool violation = false;
  for (const auto& e : doc["traceEvents"]) {
    const std::string ph = e["ph"];
    slices += ph == "B";
    instants += ph == "i";
    threads += ph == "M" && e["name"] == "thread_name";
    if (ph == "i" && e.value("s", "") == "g") violation = true;
  }
  EXPECT_GT(slices, 10);
  EXPECT_GT(instants, 10);
  EXPECT_EQ(threads, 4);  // two tasks and the two daemons
  EXPECT_TRUE(violation);
}

TEST_F(Cli, SvgTimelineIsWellFormedWithALanePerTaskAndTheViolation) {
  const Result r = faultline_cmd("trace " + source("corpus/regressions/fault_vs_invalidate.txtpb") + " --svg " +
                                 path("race.svg"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Python's XML parser is the judge of well-formedness; it lists the lanes.
  const Result parsed = testing::run_command(
      "python3 -c \"import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
      "ns = '{http://www.w3.org/2000/svg}'; "
      "print(r.tag, sorted(g.get('id') for g in r.iter(ns + 'g')), "
      "[l.get('id') for l in r.iter(ns + 'line') if l.get('id')], len(list(r.iter(ns + 'rect'))))\" " +
      path("race.svg"));
  ASSERT_EQ(parsed.exit_code, 0) << parsed.output;
  // Two tasks and the two daemons (which never ran here), the checker's step.
  EXPECT_NE(parsed.output.find("{http://www.w3.org/2000/svg}svg ['lane-0', 'lane-1', 'lane-2', 'lane-3'] ['violation']"),
            std::string::npos)
      << parsed.output;
  const std::string svg = testing::read_file(path("race.svg"));
  EXPECT_NE(svg.find(">syscall:direct_write<"), std::string::npos);
  EXPECT_NE(svg.find("i_mutex of file0"), std::string::npos);
  EXPECT_NE(svg.find("marker-end=\"url(#head)\""), std::string::npos);  // a hand-off arrow
  EXPECT_NE(svg.find("step 41: Violation dangling-mapping:invalidate_complete_page2"), std::string::npos);
}

TEST_F(Cli, KernelsListsPresetsAndSwitches) {
  const Result r = faultline_cmd("kernels");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"v2.6.20", "seed", "v2.6.23", "v2.6.26", "seed_fault_pagelock", "filemap_fault_readpage_wait"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

TEST(KernelSpec, IsAPresetThenSwitchesTurnedOnOrOff) {
  std::string error;
  const auto rc1 = mm::parse_kernel_spec("v6.18-rc1", &error);
  ASSERT_TRUE(rc1) << error;
  EXPECT_EQ(*rc1, *mm::preset_config("v6.18-rc1"));
  const auto off = mm::parse_kernel_spec("v6.12-shmem_undo_split_large", &error);
  ASSERT_TRUE(off) << error;
  EXPECT_FALSE(off->shmem_undo_split_large);
  EXPECT_EQ(mm::describe_config(*off), "v6.12 -shmem_undo_split_large");
  const auto both = mm::parse_kernel_spec("v6.18-rc1+map_within_isize-shmem_undo_split_large", &error);
  ASSERT_TRUE(both) << error;
  EXPECT_TRUE(both->map_within_isize);
  EXPECT_FALSE(both->shmem_undo_split_large);
  EXPECT_TRUE(mm::parse_kernel_spec("", &error));  // v2.6.20
  for (const auto& [spec, message] : std::initializer_list<std::pair<const char*, const char*>>{
           {"v9", "unknown kernel preset \"v9\""},
           {"v6.12+bogus", "unknown switch \"bogus\""},
           {"v6.12-rc1", "unknown switch \"rc1\""},
           {"v5.15+fault_around_file_end", "is a change to the 6.x-7.0 era's code"}}) {
    EXPECT_FALSE(mm::parse_kernel_spec(spec, &error)) << spec;
    EXPECT_NE(error.find(message), std::string::npos) << spec << ": " << error;
  }
}

TEST_F(Cli, BadFilesGiveExit2AndOneLineNamingTheProblem) {
  const std::string bin =
      to_binary(testing::schedule_from_file(source("corpus/regressions/fault_vs_invalidate.txtpb")));
  write("empty.pb", "");
  write("corrupt.pb", std::string("\xff\xff\xff\xff\x0f garbage \x01\x02", 16));
  write("truncated.pb", bin.substr(0, 5));
  write("cut_on_a_field.pb", bin.substr(0, bin.size() - 6));
  write("unknown_field.pb", std::string("\xf8\x06\x05", 3));
  write("bad_utf8.txtpb", "processes {} tasks { process: 0 name: \"\\377\" }\n");
  write("oversized.pb", std::string(kMaxScheduleBytes + 10, 'x'));
  write("bad.txtpb", "tasks { process: 7 }\n");
  const std::pair<const char*, const char*> cases[] = {
      {"empty.pb", "empty input"},
      {"corrupt.pb", "not a valid binary schedule"},
      {"truncated.pb", "not a valid binary schedule"},
      {"cut_on_a_field.pb", "truncated"},
      {"unknown_field.pb", "unknown field 111"},
      {"bad_utf8.txtpb", "tasks[0].name: not valid UTF-8"},
      {"oversized.pb", "input too large"},
      {"bad.txtpb", "invalid schedule: tasks[0].process"},
      {"missing.pb", "no such file"},
  };
  for (const auto& [file, message] : cases) {
    const Result r = faultline_cmd("replay " + path(file));
    EXPECT_EQ(r.exit_code, 2) << file << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << file << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << file << ": " << r.output;
  }
  EXPECT_EQ(faultline_cmd("replay --kernel v9 " + source("corpus/regressions/fault_vs_invalidate.txtpb")).exit_code, 2);
  EXPECT_EQ(faultline_cmd("explore").exit_code, 2);
  EXPECT_EQ(faultline_cmd("frobnicate").exit_code, 2);
  EXPECT_EQ(faultline_cmd("minimize " + source("corpus/regressions/fault_vs_truncate.txtpb") + " -o " + path("x.txtpb"))
                .exit_code,
            2);  // it does not fail: nothing to minimize
}

TEST_F(Cli, TheContentDecidesTheFormatNotTheFileName) {
  write("binary.txtpb", to_binary(testing::schedule_from_file(source("corpus/regressions/fault_vs_invalidate.txtpb"))));
  const Result r = faultline_cmd("replay " + path("binary.txtpb"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("dangling-mapping:invalidate_complete_page2"), std::string::npos) << r.output;
}

TEST_F(Cli, UsageErrorsAreOneLine) {
  for (const char* args : {"explore x.txtpb --runs -1", "explore x.txtpb --seconds -5", "frobnicate"}) {
    const Result r = faultline_cmd(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << ": " << r.output;
  }
}

TEST_F(Cli, ALabelDecisionThatNeverFiresIsReported) {
  std::string text = testing::read_file(source("corpus/regressions/fault_vs_invalidate.txtpb"));
  text.replace(text.find("write_lock_irq"), 14, "write_lock_irk");
  write("typo.txtpb", text);
  const Result r = faultline_cmd("replay " + path("typo.txtpb"));
  EXPECT_EQ(r.exit_code, 0) << r.output;  // the race needs the decision
  EXPECT_NE(r.output.find("never reached: task 0 reached \"invalidate_complete_page2:write_lock_irk\" 0 times"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(faultline_cmd("replay --strict " + path("typo.txtpb")).exit_code, 1);
}

TEST_F(Cli, ReplayComparesTheRecordedOutcomeOnTheRecordedKernelOnly) {
  std::string text = testing::read_file(source("corpus/regressions/fault_vs_invalidate.txtpb"));
  write("recorded.txtpb", text + "recording { outcome: \"Deadlock\" signature: \"deadlock:page_lock\" }\n");
  const Result r = faultline_cmd("replay --strict " + path("recorded.txtpb"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("departs from the recording: Deadlock deadlock:page_lock was recorded"), std::string::npos)
      << r.output;
  const Result other = faultline_cmd("replay --strict --kernel seed " + path("recorded.txtpb"));
  EXPECT_EQ(other.exit_code, 0) << other.output;
  EXPECT_NE(other.output.find("note: recorded on v2.6.20; not compared on seed"), std::string::npos) << other.output;
}

TEST_F(Cli, ExploreRecordsRunawayRunsAndTheStepLimitIsTheTasksOnly) {
  write("tiny.txtpb", testing::read_file(source("corpus/seeds/fault_vs_odirect.txtpb")) + "limits { max_steps: 3 }\n");
  const Result replayed = faultline_cmd("replay " + path("tiny.txtpb"));
  EXPECT_EQ(replayed.exit_code, 1) << replayed.output;  // setting up the mappings is not limited by it
  EXPECT_NE(replayed.output.find("StepLimit step-limit"), std::string::npos) << replayed.output;
  const Result r = faultline_cmd("explore " + path("tiny.txtpb") + " --runs 20 -q -o " + path("found"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(fs::exists(path("found/step-limit.txtpb"))) << r.output;
}

TEST(Record, SwitchesForcedByFairnessAreNoPreemptions) {
  // The patched fault re-issues readpage on a persistent error: a retry loop
  // the fairness rule keeps running; none of its switches is a decision.
  const Schedule s = testing::schedule_from_file(source_dir() / "corpus/regressions/readpage_eio_livelock.txtpb");
  const Outcome out = replay(s, RunOptions{.keep_trace = true});
  EXPECT_EQ(out.kind, OutcomeKind::Livelock);
  EXPECT_EQ(count_preemptions(out), 0u);
}

TEST(Minimize, KeepsTheSignatureAndNeverGrows) {
  const Schedule s = testing::schedule_from_file(source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb");
  const MinimizeResult r = minimize(s);
  ASSERT_TRUE(r.ok) << r.error;
  const Outcome before = replay(s), after = replay(r.schedule);
  EXPECT_EQ(after.signature, before.signature);
  EXPECT_LE(r.after.syscalls, r.before.syscalls);
  EXPECT_LE(r.after.decisions, r.before.decisions);
  // Numbers shrink too: the O_DIRECT write needs only one byte.
  EXPECT_EQ(r.schedule.tasks(0).syscalls(0).direct_write().len(), 1u);
}

TEST(Minimize, ShrinksAUserSpaceLoopToWhatTheStarvationNeeds) {
  // The CVE-2014-4171 punch starves after 32 restarts: a looping task of 64
  // repeats shrinks to the 32 loads that take, the periodic decisions stay.
  Schedule s = testing::schedule_from_file(source_dir() / "corpus/regressions/shmem_punch_fault_starvation.txtpb");
  s.mutable_tasks(1)->set_repeat(64);
  const MinimizeResult r = minimize(s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(replay(r.schedule).signature, "starvation:fallocate:i_mutex");
  EXPECT_EQ(r.schedule.tasks(1).repeat(), 31u);
  ASSERT_EQ(r.schedule.decisions_size(), 2);
  for (const Decision& d : r.schedule.decisions()) EXPECT_EQ(d.at().every(), 1u);
}

}  // namespace
}  // namespace faultline
