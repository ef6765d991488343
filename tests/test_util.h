// Helpers for tests: schedules from text, files from the source tree.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <optional>
#include <vector>

#include "vmcore/mm/kernel_config.h"
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

// A kernel as "preset" or "preset+switch+switch" (switches turned on).
inline std::optional<mm::KernelConfig> kernel_from_spec(std::string_view spec) {
  std::string error;
  auto cfg = mm::parse_kernel_spec(spec, &error);
  EXPECT_TRUE(cfg) << spec << ": " << error;
  return cfg;
}

inline Outcome replay_on(const Schedule& s, std::string_view preset, bool keep_trace = false) {
  RunOptions o;
  o.kernel = kernel_from_spec(preset);
  o.keep_trace = keep_trace;
  return replay(s, o);
}

// A shell command's exit code and output (stdout and stderr together).
struct CommandResult {
  int exit_code = -1;
  std::string output;
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  return r;
}

inline std::string bin(const std::string& name) { return std::string(FAULTLINE_BIN_DIR) + "/" + name; }

inline CommandResult faultline_cmd(const std::string& args) { return run_command(bin("faultline") + " " + args); }

// A fresh temporary directory per test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("faultline_test_" + std::to_string(getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string source(const std::string& rel) const { return (source_dir() / rel).string(); }
  void write(const std::string& name, const std::string& data) { std::ofstream(dir_ / name, std::ios::binary) << data; }
  std::filesystem::path dir_;
};

}  // namespace faultline::testing
