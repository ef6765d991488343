// Helpers for tests: schedules from text, files from the source tree.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "vmcore/run.h"
#include "vmcore/schedule/schedule_io.h"

namespace faultline::testing {

inline std::filesystem::path source_dir() { return FAULTLINE_SOURCE_DIR; }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses a text schedule; a parse error fails the test.
inline Schedule schedule_from_text(std::string_view text) {
  ParsedSchedule p = parse_schedule(text, ScheduleFormat::Text);
  EXPECT_TRUE(p.schedule) << p.error;
  return p.schedule ? *p.schedule : Schedule{};
}

inline Schedule schedule_from_file(const std::filesystem::path& p) {
  ParsedSchedule parsed = parse_schedule(read_file(p));
  EXPECT_TRUE(parsed.schedule) << p << ": " << parsed.error;
  return parsed.schedule ? *parsed.schedule : Schedule{};
}

inline Outcome replay_on(const Schedule& s, std::string_view preset) {
  RunOptions o;
  o.kernel = mm::preset_config(preset);
  return replay(s, o);
}

}  // namespace faultline::testing
