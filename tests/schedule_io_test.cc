// Schedules load from text and binary alike; bad input is rejected with a
// message naming the problem, never a crash.
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include "tests/test_util.h"

namespace faultline {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::schedule_from_file;
using testing::schedule_from_text;
using testing::source_dir;

Schedule race() { return schedule_from_file(source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb"); }

TEST(ScheduleIo, TextAndBinaryRoundTrip) {
  const Schedule s = race();
  const ParsedSchedule from_binary = parse_schedule(to_binary(s));
  ASSERT_TRUE(from_binary.schedule) << from_binary.error;
  EXPECT_EQ(from_binary.format, ScheduleFormat::Binary);
  EXPECT_TRUE(MessageDifferencer::Equals(*from_binary.schedule, s));
  const ParsedSchedule from_text = parse_schedule(to_text(*from_binary.schedule));
  ASSERT_TRUE(from_text.schedule) << from_text.error;
  EXPECT_EQ(from_text.format, ScheduleFormat::Text);
  EXPECT_TRUE(MessageDifferencer::Equals(*from_text.schedule, s));
  EXPECT_EQ(replay(*from_binary.schedule).trace_hash, replay(s).trace_hash);
}

TEST(ScheduleIo, EmptyInputIsRejected) {
  const ParsedSchedule p = parse_schedule("");
  EXPECT_FALSE(p.schedule);
  EXPECT_EQ(p.error, "empty input");
}

TEST(ScheduleIo, TextSyntaxErrorNamesLineAndColumn) {
  const ParsedSchedule p = parse_schedule("files { kind: REGULAR size: 16 }\ntasks { bogus: 1 }\n");
  EXPECT_FALSE(p.schedule);
  EXPECT_NE(p.error.find("line 2"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("bogus"), std::string::npos) << p.error;
}

TEST(ScheduleIo, TruncatedBinaryIsRejected) {
  const std::string bin = to_binary(race());
  // Cut inside the first length-delimited field.
  const ParsedSchedule p = parse_schedule(std::string_view(bin).substr(0, 5));
  EXPECT_FALSE(p.schedule);
  EXPECT_FALSE(p.error.empty());
}

TEST(ScheduleIo, OversizedInputIsRejected) {
  const std::string big(kMaxScheduleBytes + 1, ' ');
  const ParsedSchedule p = parse_schedule(big);
  EXPECT_FALSE(p.schedule);
  EXPECT_NE(p.error.find("too large"), std::string::npos);
}

struct BadCase {
  const char* text;
  const char* field;  // the message must start with this
};

class InvalidSchedule : public ::testing::TestWithParam<BadCase> {};

TEST_P(InvalidSchedule, RunReturnsInvalidScheduleNamingTheField) {
  const Schedule s = schedule_from_text(GetParam().text);
  const Outcome out = replay(s);
  EXPECT_EQ(out.kind, OutcomeKind::InvalidSchedule);
  EXPECT_EQ(out.report.rfind(GetParam().field, 0), 0u) << out.report;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidSchedule,
    ::testing::Values(
        BadCase{"kernel { preset: \"v9.9\" }", "kernel.preset"},
        BadCase{"kernel { switches { name: \"nope\" } }", "kernel.switches[0].name"},
        BadCase{"tasks { process: 0 }", "tasks[0].process"},
        BadCase{"processes {} tasks { process: 0 syscalls { read { file: 3 len: 1 } } }",
                "tasks[0].syscalls[0].read.file"},
        BadCase{"processes {} tasks { process: 0 syscalls {} }", "tasks[0].syscalls[0]"},
        BadCase{"files { size: 100000 }", "files[0].size"},
        BadCase{"files { size: 16 cached_pages: 3 }", "files[0].cached_pages[0]"},
        BadCase{"files { size: 16 } processes { mappings { file: 0 addr: 3 length: 16 } }",
                "processes[0].mappings[0].addr"},
        BadCase{"files { size: 16 } processes { mappings { file: 0 addr: 4096 length: 16 } }",
                "processes[0].mappings[0]"},
        BadCase{"processes {} tasks { process: 0 } decisions { step: 1 task: 7 }", "decisions[0].task"},
        BadCase{"limits { max_steps: 2000000 }", "limits.max_steps"},
        BadCase{"format_version: 2", "format_version"},
        BadCase{"processes {} "
                "tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } "
                "tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } "
                "tasks { process: 0 }",
                "tasks: 9 tasks"}));

}  // namespace
}  // namespace faultline
