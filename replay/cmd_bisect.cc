// faultline bisect FILE: the outcome on every preset, and the switches that
// change it between adjacent presets.
#include <fmt/format.h>

#include "replay/commands.h"
#include "toolkit/bisect.h"
#include "toolkit/schedule_file.h"
#include "vmcore/schedule/schedule_io.h"

namespace faultline::cli {

namespace {

struct BisectArgs {
  std::string file;
  size_t max_switches = 3;
};

int run_bisect(const BisectArgs& args) {
  const LoadedSchedule loaded = load_schedule_file(args.file);
  if (!loaded.schedule) {
    error_line(loaded.error);
    return kExitBadInput;
  }
  if (const auto error = validate_schedule(*loaded.schedule)) {
    error_line(fmt::format("{}: invalid schedule: {}", args.file, *error));
    return kExitBadInput;
  }
  fmt::print("{}", render_bisect(args.file, bisect(*loaded.schedule, args.max_switches)));
  return kExitOk;
}

}  // namespace

void add_bisect(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BisectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bisect", "Run a schedule on every preset and name the switches that change its outcome between two of them");
  cmd->add_option("file", args->file, "Schedule")->required();
  cmd->add_option("--max-switches", args->max_switches, "Largest combination of switches tried (default 3)")
      ->check(CLI::Range(size_t(1), size_t(5)));
  cmd->callback([args, &exit_code] { exit_code = run_bisect(*args); });
}

}  // namespace faultline::cli
