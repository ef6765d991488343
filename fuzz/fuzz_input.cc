#include "fuzz/fuzz_input.h"

#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

#include "toolkit/coverage.h"
#include "toolkit/record.h"
#include "vmcore/run.h"
#include "vmcore/schedule/schedule_io.h"

namespace faultline::fuzz {

namespace {

// A comma-separated list from the environment.
std::vector<std::string> prefixes(const char* variable) {
  std::vector<std::string> out;
  const char* value = std::getenv(variable);
  std::string_view list = value ? value : "";
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (comma) out.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

bool matches(const std::vector<std::string>& list, const std::string& signature) {
  for (const std::string& prefix : list)
    if (signature.rfind(prefix, 0) == 0) return true;
  return false;
}

Config read_config() {
  Config c;
  if (const char* k = std::getenv("FAULTLINE_KERNEL"); k && *k) {
    c.kernel = mm::preset_config(k);
    if (!c.kernel) {
      fmt::print(stderr, "faultline: FAULTLINE_KERNEL: unknown kernel preset \"{}\"\n", k);
      std::exit(2);
    }
    c.kernel_message = kernel_message(*c.kernel);
  }
  c.ignore = prefixes("FAULTLINE_IGNORE");
  c.only = prefixes("FAULTLINE_ONLY");
  if (const char* cov = std::getenv("FAULTLINE_INTERLEAVING_COVERAGE")) c.interleaving_coverage = std::string_view(cov) != "0";
  return c;
}

bool ignored(const Config& c, const std::string& signature) {
  return matches(c.ignore, signature) || (!c.only.empty() && !matches(c.only, signature));
}

}  // namespace

const Config& config() {
  static const Config c = read_config();
  return c;
}

int run_input(const uint8_t* data, size_t size, FeatureSink sink) {
  thread_local Schedule s;
  thread_local Runner runner;
  thread_local InterleavingCoverage coverage;
  const Config& c = config();
  if (size > kMaxScheduleBytes || !s.ParseFromArray(data, int(size))) return -1;
  sim::ReplayStrategy strategy(schedule_decisions(s), s.seed());
  const Outcome out =
      runner.run(s, strategy, RunOptions{.kernel = c.kernel, .keep_results = false, .trace_hash = false});
  if (out.kind == OutcomeKind::InvalidSchedule) return -1;
  if (sink && c.interleaving_coverage) coverage.collect(runner.events(), sink);
  if (out.kind == OutcomeKind::Ok || ignored(c, out.signature)) return 0;
  fmt::print(stderr, "==faultline== {} {} on {}{}\n{}DEDUP_TOKEN: {}\n", outcome_name(out.kind), out.signature,
             out.kernel, c.kernel ? " (FAULTLINE_KERNEL)" : "", out.report, out.signature);
  std::fflush(stderr);
  std::abort();
}

}  // namespace faultline::fuzz
