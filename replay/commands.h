// The faultline command's subcommands. Each registers itself on the app and
// sets the process exit code: 0 no failure, 1 a failure (violation, deadlock,
// livelock, runaway run, nondeterminism), 2 bad input or usage.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "vmcore/mm/kernel_config.h"

namespace faultline::cli {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitBadInput = 2 };

void add_replay(CLI::App& app, int& exit_code);
void add_explore(CLI::App& app, int& exit_code);
void add_minimize(CLI::App& app, int& exit_code);
void add_trace(CLI::App& app, int& exit_code);
void add_kernels(CLI::App& app, int& exit_code);
void add_corpus(CLI::App& app, int& exit_code);
void add_triage(CLI::App& app, int& exit_code);
void add_bisect(CLI::App& app, int& exit_code);
void add_host(CLI::App& app, int& exit_code);

// --kernel PRESET: nullopt if empty; prints the error and returns false if unknown.
bool parse_kernel(const std::string& preset, std::optional<mm::KernelConfig>* out);

// One line on stderr: "faultline: <message>".
void error_line(const std::string& message);

}  // namespace faultline::cli
