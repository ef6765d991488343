// faultline: replay, record, explore, minimize and export schedules of the
// Linux 2.6.20 page-fault model.
#include <fmt/format.h>

#include "replay/commands.h"

namespace faultline::cli {

bool parse_kernel(const std::string& preset, std::optional<mm::KernelConfig>* out) {
  if (preset.empty()) return true;
  std::string error;
  *out = mm::parse_kernel_spec(preset, &error);
  if (*out) return true;
  error_line(error);
  return false;
}

void error_line(const std::string& message) { fmt::print(stderr, "faultline: {}\n", message); }

}  // namespace faultline::cli

int main(int argc, char** argv) {
  using namespace faultline::cli;
  CLI::App app{"faultline: a deterministic record/replay fuzzer for the Linux VM page-fault path"};
  app.require_subcommand(1);
  int exit_code = kExitOk;
  add_replay(app, exit_code);
  add_explore(app, exit_code);
  add_minimize(app, exit_code);
  add_trace(app, exit_code);
  add_kernels(app, exit_code);
  add_corpus(app, exit_code);
  add_triage(app, exit_code);
  add_bisect(app, exit_code);
  add_host(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    error_line(fmt::format("{} (see --help)", e.what()));
    return kExitBadInput;
  }
  return exit_code;
}
