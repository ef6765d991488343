// The terminal timeline: columns fitted to the width, names never cut, one
// task's column with the others folded.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/test_util.h"
#include "toolkit/schedule_file.h"
#include "toolkit/trace_view.h"

namespace faultline {
namespace {

Outcome race_run() {
  const LoadedSchedule loaded =
      load_schedule_file(testing::source_dir() / "corpus/regressions/fault_vs_invalidate.txtpb");
  EXPECT_TRUE(loaded.schedule) << loaded.error;
  return replay(*loaded.schedule, RunOptions{.keep_trace = true});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(Timeline, FitsTheWidthAndWrapsInsteadOfCutting) {
  const Outcome out = race_run();
  // Wide enough for the longest label in each column: every line fits.
  for (const int width : {110, 160, 240}) {
    const std::string text = render_timeline(out, TimelineOptions{.width = width});
    for (const std::string& l : lines_of(text)) EXPECT_LE(int(l.size()), width) << l;
    EXPECT_EQ(text.find('~'), std::string::npos);
  }
  // Narrow columns: a long cell continues on the next rows at a space, and
  // no word (a label, a lock, an object) is ever broken.
  const std::string wide = render_timeline(out, TimelineOptions{.column_width = 200});
  for (const int column : {12, 24, 40}) {
    const std::string narrow = render_timeline(out, TimelineOptions{.column_width = column});
    EXPECT_NE(narrow.find("| unlock\n       | invalidate_complete_page2:write_unlock_irq\n       | tree_lock of file0"),
              std::string::npos)
        << narrow;
    std::istringstream words_of_wide(wide);
    std::string joined;
    for (const std::string& l : lines_of(narrow)) joined += " " + l + " ";
    for (std::string word; words_of_wide >> word;)
      if (word != "|") EXPECT_NE(joined.find(" " + word + " "), std::string::npos) << word << " at " << column;
  }
}

TEST(Timeline, OneTaskWithTheOthersFolded) {
  const Outcome out = race_run();
  const std::string text = render_timeline(out, TimelineOptions{.task = 1u});
  const auto lines = lines_of(text);
  ASSERT_GT(lines.size(), 3u);
  EXPECT_NE(lines[0].find("task 1 (faulter)"), std::string::npos);
  EXPECT_EQ(lines[0].find("task 0"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("... 26 events of task 0 (invalidator)"), std::string::npos) << text;
  EXPECT_NE(text.find("== syscall:load"), std::string::npos);
  EXPECT_EQ(text.find("== syscall:direct_write"), std::string::npos);
}

}  // namespace
}  // namespace faultline
