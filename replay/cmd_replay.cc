// faultline replay FILE...: run schedules bit for bit and say what happened.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "replay/commands.h"
#include "toolkit/results_view.h"
#include "toolkit/schedule_file.h"
#include "toolkit/trace_view.h"
#include "vmcore/run.h"

namespace faultline::cli {

namespace {

struct ReplayArgs {
  std::vector<std::string> files;
  bool trace = false;
  bool verbose = false;
  bool strict = false;
  bool results = false;
  bool json = false;
  uint32_t repeat = 1;
  int width = 0;  // 0: the terminal's
  std::optional<uint32_t> task;
  std::string kernel;
};

// Replays one file; returns its exit code.
int replay_file(const std::string& path, const ReplayArgs& args, const std::optional<mm::KernelConfig>& kernel) {
  const LoadedSchedule loaded = load_schedule_file(path);
  if (!loaded.schedule) {
    error_line(loaded.error);
    return kExitBadInput;
  }
  const Schedule& s = *loaded.schedule;
  RunOptions options;
  options.kernel = kernel;
  options.keep_trace = args.trace;
  Runner runner;
  sim::ReplayStrategy strategy = replay_strategy(s);
  const Outcome out = runner.run(s, strategy, options);
  if (out.kind == OutcomeKind::InvalidSchedule) {
    error_line(fmt::format("{}: invalid schedule: {}", path, out.report.substr(0, out.report.find('\n'))));
    return kExitBadInput;
  }
  if (args.task && *args.task >= out.task_names.size()) {
    error_line(fmt::format("--task {}: the run has tasks 0 to {} (the daemons last)", *args.task,
                           out.task_names.size() - 1));
    return kExitBadInput;
  }
  int code = out.kind == OutcomeKind::Ok ? kExitOk : kExitFailure;
  std::vector<std::string> notes;
  if (out.ignored_decisions == 0 && strategy.ignored())
    notes.push_back(fmt::format("{} decisions named a task that could not run then; they were ignored",
                                strategy.ignored()));
  bool departed = false;
  for (const std::string& u : strategy.unreached()) {
    notes.push_back(fmt::format("a label decision was never reached: {}", u));
    departed = true;
  }
  // Has the model changed since this schedule was recorded? (A recording says
  // nothing about another kernel.)
  const Recording& rec = s.recording();
  const auto own = schedule_kernel(s, nullptr);
  const std::string recorded_on = own ? mm::describe_config(*own) : "";
  if (recorded_on != out.kernel) {
    if (s.has_recording()) notes.push_back(fmt::format("recorded on {}; not compared on {}", recorded_on, out.kernel));
  } else if (const auto& d = strategy.departure()) {
    notes.push_back(fmt::format("departs from the recording at step {}: recorded at \"{}\", now at \"{}\"", d->step,
                                d->expected, d->actual));
    departed = true;
  } else if (rec.trace_hash() && rec.trace_hash() != out.trace_hash) {
    notes.push_back(fmt::format("departs from the recording: trace {:016x} was recorded, this run gave {:016x}",
                                rec.trace_hash(), out.trace_hash));
    departed = true;
  } else if (!rec.outcome().empty() && (rec.outcome() != outcome_name(out.kind) || rec.signature() != out.signature)) {
    notes.push_back(fmt::format("departs from the recording: {} {} was recorded, this run gave {} {}", rec.outcome(),
                                rec.signature(), outcome_name(out.kind), out.signature));
    departed = true;
  }
  if (args.json) {
    nlohmann::json j = run_json(path, s, out);
    j["notes"] = notes;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}: {}{} on {} ({} steps, trace {:016x})\n", path, outcome_name(out.kind),
               out.signature.empty() ? "" : " " + out.signature, out.kernel, out.steps, out.trace_hash);
    if (args.trace)
      fmt::print("{}", render_timeline(out, terminal_timeline(args.width, args.verbose, args.task)));
    if (!out.report.empty()) fmt::print("{}", out.report);
    if (args.results) fmt::print("{}", render_results(s, out));
    for (const std::string& n : notes) fmt::print("{}{}\n", n.starts_with("departs") ? "" : "note: ", n);
  }
  if (departed && args.strict) code = kExitFailure;
  for (uint32_t i = 1; i < args.repeat; ++i) {
    sim::ReplayStrategy again_strategy = replay_strategy(s);
    const Outcome again = runner.run(s, again_strategy, RunOptions{.kernel = kernel, .keep_results = false});
    if (again.trace_hash != out.trace_hash || again.signature != out.signature) {
      fmt::print("nondeterministic: replay {} gave trace {:016x} ({}), the first gave {:016x}\n", i + 1,
                 again.trace_hash, outcome_name(again.kind), out.trace_hash);
      return kExitFailure;
    }
  }
  if (args.repeat > 1) fmt::print("{} replays, one trace hash\n", args.repeat);
  return code;
}

}  // namespace

void add_replay(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* cmd = app.add_subcommand("replay", "Replay schedules (.txtpb or binary) and report what happened");
  cmd->add_option("files", args->files, "Schedule files")->required();
  cmd->add_flag("--trace", args->trace, "Print the interleaving as a timeline, one column per task");
  cmd->add_flag("-v,--verbose", args->verbose, "With --trace: also function entries and locked accesses");
  cmd->add_option("--width", args->width, "With --trace: characters per task column (default: fit the terminal)")
      ->check(CLI::Range(12, 400));
  cmd->add_option("--task", args->task, "With --trace: only this task's column, the others' events folded");
  cmd->add_option("--repeat", args->repeat, "Replay N times and fail if any trace hash differs")
      ->check(CLI::Range(1u, 1000000u));
  cmd->add_option("--kernel", args->kernel, "Run on this kernel preset instead of the schedule's");
  cmd->add_flag("--strict", args->strict, "Exit 1 when the run departs from the recording");
  cmd->add_flag("--results", args->results,
                "Print each task's syscalls with their arguments, return values or signals and the bytes read");
  cmd->add_flag("--json", args->json, "One JSON object per run (outcome, signature, steps, trace hash, results)")
      ->excludes("--trace");
  cmd->callback([args, &exit_code] {
    std::optional<mm::KernelConfig> kernel;
    if (!parse_kernel(args->kernel, &kernel)) {
      exit_code = kExitBadInput;
      return;
    }
    for (const std::string& f : args->files) exit_code = std::max(exit_code, replay_file(f, *args, kernel));
  });
}

}  // namespace faultline::cli
