// faultline minimize IN -o OUT: shrink a failing schedule, keeping its signature.
#include <fmt/format.h>

#include "replay/commands.h"
#include "toolkit/minimize.h"
#include "toolkit/schedule_file.h"

namespace faultline::cli {

namespace {

struct MinimizeArgs {
  std::string in;
  std::string out;
  std::string kernel;
  uint32_t max_runs = 20000;
  bool verbose = false;
};

std::string size_line(const ScheduleSize& s) {
  return fmt::format("{} tasks, {} syscalls, {} decisions, {} preemptions, {} steps", s.tasks, s.syscalls, s.decisions,
                     s.preemptions, s.steps);
}

int run_minimize(const MinimizeArgs& args) {
  const LoadedSchedule loaded = load_schedule_file(args.in);
  if (!loaded.schedule) {
    error_line(loaded.error);
    return kExitBadInput;
  }
  MinimizeOptions options;
  if (!parse_kernel(args.kernel, &options.kernel)) return kExitBadInput;
  options.max_runs = args.max_runs;
  if (args.verbose) options.progress = [](const std::string& m) { fmt::print(stderr, "  {}\n", m); };
  const MinimizeResult r = minimize(*loaded.schedule, options);
  if (!r.ok) {
    error_line(fmt::format("{}: {}", args.in, r.error));
    return kExitBadInput;
  }
  std::string error;
  if (!save_schedule_file(args.out, r.schedule, &error)) {
    error_line(error);
    return kExitBadInput;
  }
  fmt::print("signature: {}\nbefore: {}\nafter:  {}\n{} candidate runs; written to {}\n",
             r.schedule.recording().signature(), size_line(r.before), size_line(r.after), r.runs, args.out);
  return kExitOk;
}

}  // namespace

void add_minimize(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MinimizeArgs>();
  CLI::App* cmd = app.add_subcommand("minimize", "Shrink a failing schedule while it keeps its signature");
  cmd->add_option("in", args->in, "Failing schedule")->required();
  cmd->add_option("-o,--out", args->out, "Where to write the minimized schedule")->required();
  cmd->add_option("--kernel", args->kernel, "Run on this kernel preset (recorded in the output)");
  cmd->add_option("--max-runs", args->max_runs, "Candidate runs at most");
  cmd->add_flag("-v,--verbose", args->verbose, "Report each pass that made progress");
  cmd->callback([args, &exit_code] { exit_code = run_minimize(*args); });
}

}  // namespace faultline::cli
