// faultline triage CRASHES... --out DIR: what a fuzzing campaign found, one
// entry per signature, known ones (from the regression corpus) set apart and
// new ones minimized, with the command that replays each.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "replay/commands.h"
#include "toolkit/minimize.h"
#include "toolkit/schedule_file.h"
#include "vmcore/run.h"

namespace faultline::cli {

namespace {

namespace fs = std::filesystem;

struct TriageArgs {
  std::vector<std::string> inputs;
  std::string out;
  std::string kernel;
  std::string known = "corpus/regressions";
  uint32_t max_runs = 5000;
};

// "preset signature" -> the regression file that expects it.
std::map<std::string, fs::path> known_signatures(const std::string& dir) {
  std::map<std::string, fs::path> known;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return known;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("# expect: ", 0) != 0) continue;
      std::istringstream fields(line.substr(10));
      std::string preset, outcome, signature;
      fields >> preset >> outcome >> signature;
      if (!signature.empty()) known.emplace(preset + " " + signature, entry.path());
    }
  }
  return known;
}

// The title line of an oops-style report (the line after "cut here").
std::string report_title(const std::string& report) {
  const size_t start = report.rfind("cut here", 0) == std::string::npos && report.find("cut here") == std::string::npos
                           ? 0
                           : report.find('\n') + 1;
  return report.substr(start, report.find('\n', start) - start);
}

int triage(const TriageArgs& args) {
  std::optional<mm::KernelConfig> kernel;
  if (!parse_kernel(args.kernel, &kernel)) return kExitBadInput;
  const std::map<std::string, fs::path> known = known_signatures(args.known);
  struct Finding {
    Schedule schedule;
    Outcome outcome;
    fs::path first;  // the first input with this signature
    size_t count = 0;
  };
  std::map<std::string, Finding> findings;
  size_t crashes = 0, clean = 0, unreadable = 0;
  for (const std::string& input : args.inputs) {
    std::error_code ec;
    std::vector<fs::path> files;
    if (fs::is_directory(input, ec)) {
      for (const auto& e : fs::directory_iterator(input))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(input, ec)) {
      files.emplace_back(input);
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const LoadedSchedule l = load_schedule_file(f);
      if (!l.schedule) {
        ++unreadable;
        continue;
      }
      ++crashes;
      Schedule s = *l.schedule;
      RunOptions o{.kernel = kernel};
      const Outcome out = replay(s, o);
      if (!is_failure(out.kind)) {
        ++clean;
        continue;
      }
      auto [it, fresh] = findings.try_emplace(out.signature);
      if (fresh) {
        it->second.schedule = s;
        it->second.outcome = out;
        it->second.first = f;
      }
      ++it->second.count;
    }
  }
  std::error_code ec;
  if (!findings.empty() && !args.out.empty()) fs::create_directories(args.out, ec);
  fmt::print("triage: {} inputs, {} distinct failures ({} replayed clean, {} unreadable)\n", crashes, findings.size(),
             clean, unreadable);
  size_t fresh_count = 0;
  for (auto& [signature, f] : findings) {
    const std::string preset = f.outcome.kernel;
    const auto regression = known.find(preset + " " + signature);
    const bool is_known = regression != known.end();
    fmt::print("\n{} {} {} on {} ({} inputs)\n", is_known ? "KNOWN" : "NEW  ", outcome_name(f.outcome.kind), signature,
               preset, f.count);
    const std::string on_kernel = args.kernel.empty() ? "" : " --kernel " + args.kernel;
    if (is_known) {
      fmt::print("      {}\n", report_title(f.outcome.report));
      fmt::print("      reproducer: {}\n", regression->second.string());
      fmt::print("      input:  build/bin/faultline replay{} --trace {}\n", on_kernel, f.first.string());
      continue;
    }
    if (args.out.empty()) {
      fmt::print("      replay: build/bin/faultline replay{} --trace {}\n", on_kernel, f.first.string());
      continue;
    }
    ++fresh_count;
    MinimizeOptions mo;
    mo.kernel = kernel;
    mo.max_runs = args.max_runs;
    const MinimizeResult m = minimize(f.schedule, mo);
    const Schedule& keep = m.ok ? m.schedule : f.schedule;
    const fs::path path = fs::path(args.out) / signature_file_name(signature);
    std::string error;
    if (!save_schedule_file(path, keep, &error)) {
      error_line(error);
      return kExitBadInput;
    }
    if (m.ok)
      fmt::print("      minimized: {} tasks, {} syscalls, {} decisions, {} preemptions, {} steps\n", m.after.tasks,
                 m.after.syscalls, m.after.decisions, m.after.preemptions, m.after.steps);
    fmt::print("      {}\n", report_title(f.outcome.report));
    fmt::print("      replay: build/bin/faultline replay --trace {}\n", path.string());
  }
  return fresh_count ? kExitFailure : kExitOk;
}

}  // namespace

void add_triage(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TriageArgs>();
  CLI::App* cmd = app.add_subcommand(
      "triage", "Deduplicate fuzzer crashes by signature, minimize the new ones, say how to replay them");
  cmd->add_option("inputs", args->inputs, "Crash files or directories")->required();
  cmd->add_option("-o,--out", args->out, "Write one minimized schedule per new signature here");
  cmd->add_option("--kernel", args->kernel, "Replay on this preset (a pinned campaign's FAULTLINE_KERNEL)");
  cmd->add_option("--known", args->known, "Regression corpus whose '# expect:' signatures count as known");
  cmd->add_option("--max-runs", args->max_runs, "Minimizer budget per finding");
  cmd->callback([args, &exit_code] { exit_code = triage(*args); });
}

}  // namespace faultline::cli
