// faultline kernels: the presets and the switches they are made of.
#include <fmt/format.h>

#include "replay/commands.h"

namespace faultline::cli {

void add_kernels(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("kernels", "List kernel presets and switches");
  cmd->callback([&exit_code] {
    fmt::print("Presets:\n");
    for (const mm::PresetInfo& p : mm::kernel_presets()) {
      fmt::print("  {:<9} {} [era {}]\n", p.name, p.summary, mm::era_name(p.era));
      for (const char* s : p.switches) fmt::print("  {:<9}   + {}\n", "", s);
    }
    fmt::print("\nSwitches (set on top of a preset with kernel {{ switches {{ name: ... enabled: true }} }}):\n");
    for (const mm::SwitchInfo& s : mm::kernel_switches())
      fmt::print("  {:<30} {:<32} {}{}\n", s.name, s.since, s.summary,
                 s.needs ? fmt::format(" (needs {})", s.needs) : std::string());
    exit_code = kExitOk;
  });
}

}  // namespace faultline::cli
