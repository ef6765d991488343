// faultline trace FILE --perfetto OUT.json | --svg OUT.svg: the run as Chrome
// trace-event JSON, or as a picture.
#include <fmt/format.h>

#include "replay/commands.h"
#include "toolkit/schedule_file.h"
#include "toolkit/trace_svg.h"
#include "toolkit/trace_view.h"
#include "vmcore/run.h"

namespace faultline::cli {

namespace {

struct TraceArgs {
  std::string file;
  std::string perfetto;
  std::string svg;
  std::string kernel;
  bool timeline = false;
};

int run_trace(const TraceArgs& args) {
  const LoadedSchedule loaded = load_schedule_file(args.file);
  if (!loaded.schedule) {
    error_line(loaded.error);
    return kExitBadInput;
  }
  RunOptions options;
  if (!parse_kernel(args.kernel, &options.kernel)) return kExitBadInput;
  options.keep_trace = true;
  const Outcome out = replay(*loaded.schedule, options);
  if (out.kind == OutcomeKind::InvalidSchedule) {
    error_line(fmt::format("{}: invalid schedule: {}", args.file, out.report.substr(0, out.report.find('\n'))));
    return kExitBadInput;
  }
  if (args.timeline || (args.perfetto.empty() && args.svg.empty()))
    fmt::print("{}", render_timeline(out, terminal_timeline(0, false, std::nullopt)));
  std::string error;
  if (!args.perfetto.empty()) {
    if (!write_file_atomic(args.perfetto, perfetto_json(out, args.file), &error)) {
      error_line(error);
      return kExitBadInput;
    }
    fmt::print("{}: {} events of a {} run written to {} (open in https://ui.perfetto.dev or chrome://tracing)\n",
               args.file, out.trace.size(), outcome_name(out.kind), args.perfetto);
  }
  if (!args.svg.empty()) {
    if (!write_file_atomic(args.svg, trace_svg(out, args.file), &error)) {
      error_line(error);
      return kExitBadInput;
    }
    fmt::print("{}: the {} run drawn in {} (open it in a browser)\n", args.file, outcome_name(out.kind), args.svg);
  }
  return kExitOk;
}

}  // namespace

void add_trace(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TraceArgs>();
  CLI::App* cmd = app.add_subcommand("trace", "Export a run's trace (Perfetto / chrome://tracing JSON, an SVG picture)");
  cmd->add_option("file", args->file, "Schedule")->required();
  cmd->add_option("--perfetto", args->perfetto, "Write Chrome trace-event JSON here");
  cmd->add_option("--svg", args->svg, "Draw the run as an SVG picture here");
  cmd->add_flag("--timeline", args->timeline, "Also print the terminal timeline");
  cmd->add_option("--kernel", args->kernel, "Run on this kernel preset");
  cmd->callback([args, &exit_code] { exit_code = run_trace(*args); });
}

}  // namespace faultline::cli
