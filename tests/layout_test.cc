// How the tree is laid out: kernel code tells the checkers what happened only
// through tracepoints; it never calls them.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/test_util.h"

namespace faultline {
namespace {

TEST(Layout, KernelCodeNeitherIncludesNorCallsTheCheckers) {
  size_t files = 0;
  for (const char* dir : {"vmcore/mm", "vmcore/fs", "vmcore/block", "vmcore/arch", "vmcore/drivers", "vmcore/v3"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(testing::source_dir() / dir)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      const std::string text = testing::read_file(entry.path());
      EXPECT_EQ(text.find("checks/"), std::string::npos) << entry.path() << " includes the checkers";
      EXPECT_EQ(text.find("checks::"), std::string::npos) << entry.path() << " calls the checkers";
    }
  }
  EXPECT_GT(files, 10u);
}

}  // namespace
}  // namespace faultline
