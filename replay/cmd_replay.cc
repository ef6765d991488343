// faultline replay FILE...: run schedules bit for bit and say what happened.
#include <fmt/format.h>

#include "replay/commands.h"
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
  uint32_t repeat = 1;
  int width = TimelineOptions{}.column_width;
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
  int code = out.kind == OutcomeKind::Ok ? kExitOk : kExitFailure;
  fmt::print("{}: {}{} on {} ({} steps, trace {:016x})\n", path, outcome_name(out.kind),
             out.signature.empty() ? "" : " " + out.signature, out.kernel, out.steps, out.trace_hash);
  if (args.trace)
    fmt::print("{}", render_timeline(out, TimelineOptions{.column_width = args.width, .verbose = args.verbose}));
  if (!out.report.empty()) fmt::print("{}", out.report);
  if (out.ignored_decisions == 0 && strategy.ignored())
    fmt::print("note: {} decisions named a task that could not run then; they were ignored\n", strategy.ignored());
  bool departed = false;
  for (const std::string& u : strategy.unreached()) {
    fmt::print("note: a label decision was never reached: {}\n", u);
    departed = true;
  }
  // Has the model changed since this schedule was recorded? (A recording says
  // nothing about another kernel.)
  const Recording& rec = s.recording();
  const auto own = schedule_kernel(s, nullptr);
  const std::string recorded_on = own ? mm::describe_config(*own) : "";
  if (recorded_on != out.kernel) {
    if (s.has_recording()) fmt::print("note: recorded on {}; not compared on {}\n", recorded_on, out.kernel);
  } else if (const auto& d = strategy.departure()) {
    fmt::print("departs from the recording at step {}: recorded at \"{}\", now at \"{}\"\n", d->step, d->expected,
               d->actual);
    departed = true;
  } else if (rec.trace_hash() && rec.trace_hash() != out.trace_hash) {
    fmt::print("departs from the recording: trace {:016x} was recorded, this run gave {:016x}\n", rec.trace_hash(),
               out.trace_hash);
    departed = true;
  } else if (!rec.outcome().empty() && (rec.outcome() != outcome_name(out.kind) || rec.signature() != out.signature)) {
    fmt::print("departs from the recording: {} {} was recorded, this run gave {} {}\n", rec.outcome(), rec.signature(),
               outcome_name(out.kind), out.signature);
    departed = true;
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
  cmd->add_option("--width", args->width, "With --trace: characters per task column")->check(CLI::Range(12, 400));
  cmd->add_option("--repeat", args->repeat, "Replay N times and fail if any trace hash differs")
      ->check(CLI::Range(1u, 1000000u));
  cmd->add_option("--kernel", args->kernel, "Run on this kernel preset instead of the schedule's");
  cmd->add_flag("--strict", args->strict, "Exit 1 when the run departs from the recording");
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
