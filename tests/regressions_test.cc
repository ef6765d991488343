// Every schedule in corpus/regressions/ replays to the outcome its header
// expects ("# expect: <preset>[+switch...] <Outcome> [signature]") on each
// kernel named.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "tests/test_util.h"

namespace faultline {
namespace {

using testing::read_file;
using testing::source_dir;

struct Expectation {
  std::string preset;
  std::string outcome;
  std::string signature;
};

std::vector<Expectation> expectations(const std::string& text) {
  std::vector<Expectation> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::string tag = "# expect: ";
    if (line.rfind(tag, 0) != 0) continue;
    std::istringstream fields(line.substr(tag.size()));
    Expectation e;
    fields >> e.preset >> e.outcome >> e.signature;
    std::string extra;
    if (fields >> extra) ADD_FAILURE() << "'" << line << "': a signature is one word";
    out.push_back(e);
  }
  return out;
}

std::vector<std::filesystem::path> regression_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "corpus/regressions"))
    if (entry.path().extension() == ".txtpb") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

class Regression : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(Regression, ReplaysToTheExpectedOutcomeOnEachPreset) {
  const std::string text = read_file(GetParam());
  const auto expect = expectations(text);
  ASSERT_FALSE(expect.empty()) << GetParam() << " has no '# expect:' lines";
  const ParsedSchedule parsed = parse_schedule(text);
  ASSERT_TRUE(parsed.schedule) << parsed.error;
  // A label decision may be meant for one kernel's function only (a schedule
  // for several eras names each era's label), but some preset must reach it.
  std::set<std::pair<uint32_t, std::string>> unreached;
  for (const Decision& d : parsed.schedule->decisions())
    if (d.when_case() == Decision::kAt) unreached.emplace(d.at().task(), d.at().label());
  for (const Expectation& e : expect) {
    const Outcome out = testing::replay_on(*parsed.schedule, e.preset, /*keep_trace=*/true);
    for (const sim::Event& ev : out.trace) unreached.erase({ev.task, ev.label.name});
    EXPECT_EQ(outcome_name(out.kind), e.outcome) << e.preset << "\n" << out.report;
    if (!e.signature.empty()) {
      EXPECT_EQ(out.signature, e.signature) << e.preset;
    }
    // The decisions were recorded on the schedule's own kernel; on another,
    // a fix may keep a task from running where the recording switched to it.
    if (e.preset == parsed.schedule->kernel().preset()) EXPECT_EQ(out.ignored_decisions, 0u) << e.preset;
  }
  for (const auto& [task, label] : unreached)
    ADD_FAILURE() << "task " << task << " never reaches \"" << label << "\" on any preset this file expects";
}

INSTANTIATE_TEST_SUITE_P(Corpus, Regression, ::testing::ValuesIn(regression_files()), [](const auto& info) {
  std::string name = info.param.stem().string();
  for (char& c : name)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
});

}  // namespace
}  // namespace faultline
