// Schedules load from text and binary alike; bad input is rejected with a
// message naming the problem, never a crash.
#include <gtest/gtest.h>

#include <fstream>

#include <google/protobuf/util/message_differencer.h>

#include "tests/test_util.h"
#include "vmcore/schedule/syscall_table.h"

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
  // The binary form is version 2 and ends with the end marker; text leaves the marker out.
  Schedule sealed = s;
  seal(sealed);
  EXPECT_TRUE(MessageDifferencer::Equals(*from_binary.schedule, sealed));
  const ParsedSchedule from_text = parse_schedule(to_text(*from_binary.schedule));
  ASSERT_TRUE(from_text.schedule) << from_text.error;
  EXPECT_EQ(from_text.format, ScheduleFormat::Text);
  sealed.clear_end_marker();
  EXPECT_TRUE(MessageDifferencer::Equals(*from_text.schedule, sealed));
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

TEST(ScheduleIo, EveryCutOfABinaryScheduleIsRejected) {
  const std::string bin = to_binary(race());
  for (size_t n = 1; n < bin.size(); ++n) {
    const ParsedSchedule p = parse_schedule(std::string_view(bin).substr(0, n));
    EXPECT_FALSE(p.schedule) << "cut at " << n << " of " << bin.size() << " bytes loads";
    EXPECT_FALSE(p.error.empty());
  }
  const ParsedSchedule cut_after_a_field = parse_schedule(std::string_view(bin).substr(0, bin.size() - 6));
  EXPECT_NE(cut_after_a_field.error.find("truncated"), std::string::npos) << cut_after_a_field.error;
}

// Field numbers are permanent: binaries written before the end marker existed
// (version 1, here encoded by protoc from the text form) still load and mean
// the same thing.
TEST(ScheduleIo, AVersion1BinaryStillLoadsAndMeansTheSame) {
  std::ifstream in(source_dir() / "tests/data/fault_vs_invalidate.v1.pb", std::ios::binary);
  const std::string bin((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const ParsedSchedule p = parse_schedule(bin);
  ASSERT_TRUE(p.schedule) << p.error;
  EXPECT_EQ(p.schedule->format_version(), 0u);
  EXPECT_TRUE(MessageDifferencer::Equals(*p.schedule, race()));
  EXPECT_EQ(replay(*p.schedule).signature, "dangling-mapping:invalidate_complete_page2");
}

TEST(ScheduleIo, FieldsThisBuildDoesNotKnowAreRejected) {
  std::string bin = to_binary(race());
  bin.insert(0, "\xf8\x06\x05", 3);  // field 111, varint 5
  const ParsedSchedule p = parse_schedule(bin);
  ASSERT_TRUE(p.schedule) << p.error;
  const auto error = validate_schedule(*p.schedule);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "schedule: unknown field 111 (written by a newer faultline, or not a schedule)");
  Schedule nested = race();
  nested.mutable_tasks(1)
      ->mutable_syscalls(0)
      ->mutable_load()
      ->GetReflection()
      ->MutableUnknownFields(nested.mutable_tasks(1)->mutable_syscalls(0)->mutable_load())
      ->AddVarint(9, 1);
  EXPECT_EQ(validate_schedule(nested).value_or(""),
            "tasks[1].syscalls[0].load: unknown field 9 (written by a newer faultline, or not a schedule)");
}

TEST(ScheduleIo, InvalidUtf8IsRejectedNamingTheFieldWithoutProtobufLogging) {
  Schedule s = schedule_from_text("processes {} tasks { process: 0 name: \"ok\" }");
  const ParsedSchedule text = parse_schedule("processes {} tasks { process: 0 name: \"\\377\" }");
  EXPECT_FALSE(text.schedule);
  EXPECT_EQ(text.error, "text schedule: tasks[0].name: not valid UTF-8");
  std::string bin = to_binary(s);
  const size_t at = bin.find("ok");
  ASSERT_NE(at, std::string::npos);
  bin[at] = '\xff';
  ::testing::internal::CaptureStderr();
  const ParsedSchedule p = parse_schedule(bin);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_FALSE(p.schedule);
  EXPECT_EQ(p.error, "tasks[0].name: not valid UTF-8");
  // Deeper, and with no library advice ("Use the 'bytes' type...").
  Schedule two = schedule_from_text(
      "files { name: \"a\" } files { name: \"b\" } processes {} tasks { process: 0 name: \"t\" }");
  std::string bin2 = to_binary(two);
  bin2[bin2.find('b')] = '\xc3';
  const ParsedSchedule q = parse_schedule(bin2);
  EXPECT_EQ(q.error, "files[1].name: not valid UTF-8");
  EXPECT_EQ(q.error.find("bytes"), std::string::npos);
}

TEST(ScheduleIo, AScheduleWithoutTasksIsInvalid) {
  EXPECT_EQ(validate_schedule(schedule_from_text("processes {}")).value_or(""),
            "tasks: a schedule needs at least one task");
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
    ::testing::Values(BadCase{"kernel { preset: \"v9.9\" }", "kernel.preset"},
                      BadCase{"kernel { switches { name: \"nope\" } }", "kernel.switches[0].name"},
                      BadCase{"tasks { process: 0 }", "tasks[0].process"},
                      BadCase{"processes {} tasks { process: 0 syscalls { read { file: 3 len: 1 } } }",
                              "tasks[0].syscalls[0].read.file"},
                      BadCase{"processes {} tasks { process: 0 syscalls {} }", "tasks[0].syscalls[0]"},
                      BadCase{"files { size: 16 } processes {} tasks { process: 0 syscalls { fallocate { file: 0 "
                              "mode: 3 offset: 18446744073709551600 len: 16 } } }",
                              "tasks[0].syscalls[0].fallocate.offset"},
                      BadCase{"files { size: 16 } processes {} tasks { process: 0 syscalls { fallocate { file: 0 "
                              "mode: 3 len: 9223372036854775807 } } }",
                              "tasks[0].syscalls[0].fallocate.len"},
                      BadCase{"processes {} tasks { process: 0 syscalls { fallocate { file: 2 mode: 3 len: 1 } } }",
                              "tasks[0].syscalls[0].fallocate.file"},
                      BadCase{"processes {} tasks { process: 0 repeat: 65 }", "tasks[0].repeat"},
                      BadCase{"files { size: 100000 }", "files[0].size"},
                      BadCase{"files { size: 16 cached_pages: 3 }", "files[0].cached_pages[0]"},
                      BadCase{"files { size: 16 folio_order: 4 }", "files[0].folio_order"},
                      BadCase{"files { kind: SHMEM size: 16 folio_order: 1 }", "files[0].folio_order"},
                      BadCase{"files { size: 16 launder_page: true folio_order: 1 }", "files[0].folio_order"},
                      BadCase{"files { size: 16 shmem_huge: SHMEM_HUGE_ALWAYS }", "files[0].shmem_huge"},
                      BadCase{"files { kind: SHMEM shmem_huge: 7 }", "files[0].shmem_huge"},
                      BadCase{"kernel { preset: \"v5.15\" switches { name: \"fault_around_file_end\" enabled: true } }",
                              "kernel.switches"},
                      BadCase{"files { size: 16 } processes { mappings { file: 0 addr: 3 length: 16 } }",
                              "processes[0].mappings[0].addr"},
                      BadCase{"files { size: 16 } processes { mappings { file: 0 addr: 4096 length: 16 } }",
                              "processes[0].mappings[0]"},
                      BadCase{"processes {} tasks { process: 0 } decisions { step: 1 task: 7 }", "decisions[0].task"},
                      BadCase{"limits { max_steps: 2000000 }", "limits.max_steps"},
                      BadCase{"format_version: 3", "format_version"},
                      BadCase{"processes {} "
                              "tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } "
                              "tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } tasks { process: 0 } "
                              "tasks { process: 0 }",
                              "tasks: 9 tasks"}));

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

using google::protobuf::FieldDescriptor;

// The syscall table is what the mutator, the minimizer and validation know of
// schedule.proto's syscalls: it must name every one of them and every field.
TEST(SyscallTable, HoldsEverySyscallOfTheProtoAndEachOfItsFields) {
  const google::protobuf::OneofDescriptor* call = Syscall::descriptor()->FindOneofByName("call");
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(size_t(call->field_count()), syscall_kinds().size());
  for (int i = 0; i < call->field_count(); ++i) {
    const FieldDescriptor* member = call->field(i);
    Syscall sc;
    sc.GetReflection()->MutableMessage(&sc, member);
    const SyscallKind* kind = syscall_kind(sc);
    ASSERT_NE(kind, nullptr) << member->name() << " is not in the syscall table";
    EXPECT_EQ(kind->name, member->name());
    const google::protobuf::Descriptor* message = member->message_type();
    EXPECT_EQ(size_t(message->field_count()), kind->fields.size()) << member->name();
    for (int j = 0; j < message->field_count(); ++j) {
      const FieldDescriptor* fd = message->field(j);
      const auto it = std::find_if(kind->fields.begin(), kind->fields.end(),
                                   [&](const SyscallField& f) { return fd->name() == f.name; });
      ASSERT_NE(it, kind->fields.end()) << member->name() << "." << fd->name() << " is not in the syscall table";
      EXPECT_EQ(it->has != nullptr, fd->has_presence()) << member->name() << "." << fd->name();
      // The entry reads and writes that very field.
      Syscall probe;
      probe.GetReflection()->MutableMessage(&probe, member);
      it->set(probe, 1);
      const google::protobuf::Message& sub = probe.GetReflection()->GetMessage(probe, member);
      const auto* refl = sub.GetReflection();
      uint64_t value = 0;
      switch (fd->cpp_type()) {
        case FieldDescriptor::CPPTYPE_UINT32: value = refl->GetUInt32(sub, fd); break;
        case FieldDescriptor::CPPTYPE_UINT64: value = refl->GetUInt64(sub, fd); break;
        case FieldDescriptor::CPPTYPE_BOOL: value = refl->GetBool(sub, fd); break;
        case FieldDescriptor::CPPTYPE_ENUM: value = uint64_t(refl->GetEnumValue(sub, fd)); break;
        default: ADD_FAILURE() << member->name() << "." << fd->name() << ": a field type the table cannot hold";
      }
      EXPECT_EQ(value, 1u) << member->name() << "." << fd->name();
      EXPECT_EQ(it->get(probe), 1u) << member->name() << "." << fd->name();
    }
  }
}

}  // namespace
}  // namespace faultline
