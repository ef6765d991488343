// faultline explore SCENARIO --strategy random|pct|dfs: run many
// interleavings of one scenario and record every distinct failure as a
// complete replayable schedule.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "replay/commands.h"
#include "toolkit/record.h"
#include "toolkit/schedule_file.h"
#include "vmcore/run.h"
#include "vmcore/sim/dfs_strategy.h"
#include "vmcore/sim/pct_strategy.h"
#include "vmcore/sim/random_strategy.h"

namespace faultline::cli {

namespace {

struct ExploreArgs {
  std::string scenario;
  std::string strategy = "random";
  uint64_t runs = 0;
  double seconds = 0;
  uint64_t seed = 1;
  uint32_t depth = 3;
  uint32_t preemption_bound = 2;
  bool no_reduce = false;
  std::string kernel;
  std::string out;
  bool quiet = false;
};

struct Found {
  std::string signature;
  OutcomeKind kind;
  uint64_t first_run;
  uint32_t preemptions;
  std::string path;
  uint64_t count = 0;
};

using Clock = std::chrono::steady_clock;

int explore(const ExploreArgs& args) {
  const LoadedSchedule loaded = load_schedule_file(args.scenario);
  if (!loaded.schedule) {
    error_line(loaded.error);
    return kExitBadInput;
  }
  Schedule scenario = *loaded.schedule;
  scenario.clear_decisions();
  scenario.clear_recording();
  std::optional<mm::KernelConfig> kernel;
  if (!parse_kernel(args.kernel, &kernel)) return kExitBadInput;
  std::string kernel_error;
  const auto cfg = kernel ? kernel : schedule_kernel(scenario, &kernel_error);
  if (!cfg) {
    error_line(fmt::format("{}: {}", args.scenario, kernel_error));
    return kExitBadInput;
  }
  if (!args.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.out, ec);
    if (ec) {
      error_line(fmt::format("{}: cannot create: {}", args.out, ec.message()));
      return kExitBadInput;
    }
  }

  Runner runner;
  RunOptions options{.kernel = cfg, .keep_trace = true, .keep_results = false};
  {
    sim::DefaultStrategy probe;
    const Outcome first = runner.run(scenario, probe, options);
    if (first.kind == OutcomeKind::InvalidSchedule) {
      error_line(
          fmt::format("{}: invalid schedule: {}", args.scenario, first.report.substr(0, first.report.find('\n'))));
      return kExitBadInput;
    }
  }

  std::unique_ptr<sim::Strategy> strategy;
  uint64_t default_runs = 10000;  // a systematic search runs until it is exhausted
  std::string recorder = fmt::format("faultline explore --strategy {} --seed {}", args.strategy, args.seed);
  if (args.strategy == "random") {
    strategy = std::make_unique<sim::RandomStrategy>(args.seed);
  } else if (args.strategy == "pct") {
    sim::DefaultStrategy probe;
    const uint32_t k = runner.run(scenario, probe, options).steps;
    strategy = std::make_unique<sim::PctStrategy>(args.seed, args.depth, k);
    recorder += fmt::format(" --depth {}", args.depth);
  } else if (args.strategy == "dfs") {
    strategy = std::make_unique<sim::DfsStrategy>(args.preemption_bound, !args.no_reduce);
    default_runs = UINT64_MAX;
    recorder = fmt::format("faultline explore --strategy dfs --preemption-bound {}", args.preemption_bound);
  } else {
    error_line(fmt::format("unknown strategy \"{}\" (random, pct, dfs)", args.strategy));
    return kExitBadInput;
  }
  const uint64_t max_runs = args.runs ? args.runs : default_runs;

  std::map<std::string, Found> found;
  const auto start = Clock::now();
  auto last_progress = start;
  // A progress line on a terminal only: a pipe or a log gets the summary.
  const bool progress = !args.quiet && isatty(STDERR_FILENO);
  uint64_t runs = 0;
  for (; runs < max_runs;) {
    const Outcome out = runner.run(scenario, *strategy, options);
    if (out.kind == OutcomeKind::Exhausted) break;
    ++runs;
    if (is_failure(out.kind)) {
      auto [it, fresh] =
          found.try_emplace(out.signature, Found{out.signature, out.kind, runs, count_preemptions(out), ""});
      ++it->second.count;
      if (fresh && !args.out.empty()) {
        const Schedule recorded = recorded_schedule(scenario, out, *cfg, recorder);
        it->second.path = (std::filesystem::path(args.out) / signature_file_name(out.signature)).string();
        std::string error;
        if (!save_schedule_file(it->second.path, recorded, &error)) {
          error_line(error);
          return kExitBadInput;
        }
      }
    }
    if (strategy->diverged()) {
      error_line("nondeterminism: a replayed prefix took a different path");
      return kExitFailure;
    }
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (args.seconds > 0 && elapsed >= args.seconds) break;
    if (progress && now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      const double rate = double(runs) / elapsed;
      double left = args.seconds > 0 ? args.seconds - elapsed : -1;
      if (max_runs != UINT64_MAX) {
        const double by_runs = double(max_runs - runs) / std::max(rate, 1e-9);
        left = left < 0 ? by_runs : std::min(left, by_runs);
      }
      fmt::print(stderr, "\r{} runs  {:.0f}/s  {} distinct failure{}  {}\x1b[K", runs, rate, found.size(),
                 found.size() == 1 ? "" : "s", left < 0 ? std::string("until exhausted") : fmt::format("{:.0f} s left", left));
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (progress && last_progress != start) fmt::print(stderr, "\n");
  fmt::print("{} on {}: {} runs in {:.2f} s ({:.0f} schedules/s), {} distinct failures\n", args.strategy,
             mm::describe_config(*cfg), runs, elapsed, double(runs) / std::max(elapsed, 1e-9), found.size());
  for (const auto& [sig, f] : found)
    fmt::print("  {} {}: first at run {} ({} preemptions), {} runs{}\n", outcome_name(f.kind), sig, f.first_run,
               f.preemptions, f.count, f.path.empty() ? "" : " -> " + f.path);
  if (const std::string summary = strategy->summary(); !summary.empty()) fmt::print("{}\n", summary);
  return found.empty() ? kExitOk : kExitFailure;
}

}  // namespace

void add_explore(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExploreArgs>();
  CLI::App* cmd = app.add_subcommand("explore", "Run many interleavings of a scenario; record every distinct failure");
  cmd->add_option("scenario", args->scenario, "Scenario schedule (its decisions are ignored)")->required();
  cmd->add_option("--strategy", args->strategy, "random, pct or dfs")->check(CLI::IsMember({"random", "pct", "dfs"}));
  cmd->add_option("--runs", args->runs, "Stop after N runs (default 10000; dfs: until exhausted)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--seconds", args->seconds, "Stop after S seconds")->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--seed", args->seed, "Seed of the random and pct strategies");
  cmd->add_option("--depth", args->depth, "PCT bug depth d (d-1 priority change points)")->check(CLI::Range(1u, 32u));
  cmd->add_option("--preemption-bound", args->preemption_bound, "DFS: at most K preemptions")
      ->check(CLI::Range(0u, 16u));
  cmd->add_flag("--no-reduce", args->no_reduce, "DFS: also branch at points that touch no shared object");
  cmd->add_option("--kernel", args->kernel, "Kernel preset (default: the scenario's)");
  cmd->add_option("-o,--out", args->out, "Write one schedule per distinct failure into this directory");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress line (there is none unless stderr is a terminal)");
  cmd->callback([args, &exit_code] { exit_code = explore(*args); });
}

}  // namespace faultline::cli
