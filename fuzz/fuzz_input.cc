#include "fuzz/fuzz_input.h"

#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

#include "toolkit/coverage.h"
#include "toolkit/record.h"
#include "toolkit/schedule_file.h"
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
    std::string error;
    c.kernel = mm::parse_kernel_spec(k, &error);
    if (!c.kernel) {
      fmt::print(stderr, "faultline: FAULTLINE_KERNEL: {}\n", error);
      std::exit(2);
    }
    c.kernel_message = kernel_message(*c.kernel);
  }
  if (const char* d = std::getenv("FAULTLINE_DICT")) c.dictionary = d;
  c.ignore = prefixes("FAULTLINE_IGNORE");
  c.only = prefixes("FAULTLINE_ONLY");
  if (const char* cov = std::getenv("FAULTLINE_INTERLEAVING_COVERAGE")) {
    const auto kinds = parse_feature_kinds(cov);
    if (!kinds) {
      fmt::print(stderr,
                 "faultline: FAULTLINE_INTERLEAVING_COVERAGE: \"{}\" is not 0, 1 or a list of conflict, handoff, "
                 "switch, label\n",
                 cov);
      std::exit(2);
    }
    c.interleaving = *kinds;
  }
  return c;
}

Config& mutable_config() {
  static Config c = read_config();
  return c;
}

bool ignored(const Config& c, const std::string& signature) {
  return matches(c.ignore, signature) || (!c.only.empty() && !matches(c.only, signature));
}

// A crash on the pinned kernel of an input that records another kernel (an
// initial corpus file: every mutant records the pin) would replay on that
// other kernel from the engine's crash file: a copy that records the pin goes
// beside it.
void save_pinned_copy(const Config& c, Schedule s, std::string_view input) {
  if (!c.kernel_message || s.kernel().SerializeAsString() == c.kernel_message->SerializeAsString()) return;
  const std::string own = s.kernel().preset().empty() ? "the default" : s.kernel().preset();
  *s.mutable_kernel() = *c.kernel_message;
  const std::string path = fmt::format("{}pinned-{:016x}", c.artifact_prefix, std::hash<std::string_view>{}(input));
  std::string error;
  if (write_file_atomic(path, to_binary(s), &error))
    fmt::print(stderr, "the input records kernel {}, not FAULTLINE_KERNEL; a copy that records it: {}\n", own, path);
  else
    fmt::print(stderr, "faultline: {}\n", error);
}

}  // namespace

const Config& config() { return mutable_config(); }

void read_engine_flags(int argc, char** argv) {
  constexpr std::string_view kPrefix = "-artifact_prefix=", kDict = "-dict=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind(kPrefix, 0) == 0) mutable_config().artifact_prefix = arg.substr(kPrefix.size());
    if (arg.rfind(kDict, 0) == 0) mutable_config().dictionary = arg.substr(kDict.size());
  }
}

int run_input(const uint8_t* data, size_t size, FeatureSink sink, const Schedule* decoded) {
  thread_local Schedule parsed;
  thread_local Runner runner;
  const Config& c = config();
  thread_local InterleavingCoverage coverage(c.interleaving);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!decoded && (size > kMaxScheduleBytes || parse_binary(input, &parsed))) return -1;
  const Schedule& s = decoded ? *decoded : parsed;
  sim::ReplayStrategy strategy = replay_strategy(s);
  const Outcome out =
      runner.run(s, strategy, RunOptions{.kernel = c.kernel, .keep_results = false, .trace_hash = false});
  if (out.kind == OutcomeKind::InvalidSchedule) return -1;
  if (sink && c.interleaving) coverage.collect(runner.events(), sink);
  if (out.kind == OutcomeKind::Ok || ignored(c, out.signature)) return 0;
  fmt::print(stderr, "==faultline== {} {} on {}{}\n{}DEDUP_TOKEN: {}\n", outcome_name(out.kind), out.signature,
             out.kernel, c.kernel ? " (FAULTLINE_KERNEL)" : "", out.report, out.signature);
  save_pinned_copy(c, s, input);
  std::fflush(stderr);
  std::abort();
}

}  // namespace faultline::fuzz
