// Schedules as values: parse (text or binary, detected), print, validate.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vmcore/schedule/schedule.pb.h"

namespace faultline {

enum class ScheduleFormat { Auto, Text, Binary };

inline constexpr size_t kMaxScheduleBytes = 1 << 20;

struct ParsedSchedule {
  std::optional<Schedule> schedule;
  ScheduleFormat format = ScheduleFormat::Auto;  // what it turned out to be
  std::string error;                             // one line, when schedule is empty
};

ParsedSchedule parse_schedule(std::string_view data, ScheduleFormat hint = ScheduleFormat::Auto);
// The binary wire format alone (what the fuzzers feed): nullopt on success,
// else why not, in one line (a version 2 schedule without its end marker was
// cut short).
std::optional<std::string> parse_binary(std::string_view data, Schedule* out);
std::string to_text(const Schedule& s);
std::string to_binary(const Schedule& s);

inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kEndMarker = 0x4c544c46;  // "FLTL"
// Marks s as version 2 with its end marker, as to_binary writes it.
void seal(Schedule& s);

// Hard limits of the model; a schedule beyond them is InvalidSchedule.
struct ScheduleLimits {
  static constexpr uint32_t kMaxUserTasks = 8;
  static constexpr uint32_t kMaxSyscallsPerTask = 64;
  static constexpr uint32_t kMaxSyscalls = 256;
  static constexpr uint32_t kMaxRepeat = 64;  // Task.repeat
  static constexpr uint32_t kMaxDecisions = 4096;
  static constexpr uint32_t kMaxFaults = 16;
  static constexpr uint32_t kMaxSteps = 1000000;
  static constexpr uint32_t kDefaultSteps = 200000;
  static constexpr uint32_t kMaxRetries = 4096;
  static constexpr uint32_t kDefaultRetries = 1024;
  static constexpr uint64_t kMaxNumber = 1 << 20;  // addresses, offsets, lengths
};

// nullopt if the schedule is valid; otherwise "field.path: what is wrong".
std::optional<std::string> validate_schedule(const Schedule& s);

}  // namespace faultline
