// faultline host FILE...: run schedules on the host kernel and on the model,
// syscall by syscall side by side.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "host/oracle.h"
#include "replay/commands.h"
#include "toolkit/schedule_file.h"

namespace faultline::cli {

namespace {

struct HostArgs {
  std::vector<std::string> files;
  std::string kernel;
  std::string dir;
  std::string differences;
};

// The fresh directory of a run without --dir, removed at exit and on a signal.
// It stays empty (the files are O_TMPFILE), so removing it is one rmdir.
char g_temp_dir[4096];

void remove_temp_dir() {
  if (g_temp_dir[0]) rmdir(g_temp_dir);
  g_temp_dir[0] = 0;
}

void on_signal(int sig) {
  remove_temp_dir();
  signal(sig, SIG_DFL);
  raise(sig);
}

// build/faultline-host-XXXXXX next to the binary's directory (build/bin).
std::optional<std::filesystem::path> make_temp_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path parent = ec ? std::filesystem::temp_directory_path() : exe.parent_path().parent_path();
  const std::string pattern = (parent / "faultline-host-XXXXXX").string();
  if (pattern.size() >= sizeof g_temp_dir) return std::nullopt;
  std::strcpy(g_temp_dir, pattern.c_str());
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) signal(sig, on_signal);
  if (!mkdtemp(g_temp_dir)) {
    error_line(fmt::format("cannot make a directory {}: {}", pattern, std::strerror(errno)));
    g_temp_dir[0] = 0;
    return std::nullopt;
  }
  std::atexit(remove_temp_dir);
  return std::filesystem::path(g_temp_dir);
}

int host_file(const std::string& path, const host::HostEnv& env, const std::optional<mm::KernelConfig>& kernel,
              const host::KnownDifferences& known) {
  const LoadedSchedule loaded = load_schedule_file(path);
  if (!loaded.schedule) {
    error_line(loaded.error);
    return kExitBadInput;
  }
  std::string error;
  const std::optional<mm::KernelConfig> cfg = kernel ? kernel : schedule_kernel(*loaded.schedule, &error);
  if (!cfg) {
    error_line(fmt::format("{}: {}", path, error));
    return kExitBadInput;
  }
  const host::HostComparison c = host::compare_with_host(*loaded.schedule, *cfg, env, known);
  if (c.verdict == host::HostVerdict::Refused) {
    error_line(fmt::format("{}: not run on the host: {}", path, c.refusal));
    return kExitBadInput;
  }
  fmt::print("{}:\n{}", path, host::render_comparison(*loaded.schedule, c, env));
  return c.verdict == host::HostVerdict::Agree ? kExitOk : kExitFailure;
}

int run_host(const HostArgs& args) {
  std::optional<mm::KernelConfig> kernel;
  if (!parse_kernel(args.kernel, &kernel)) return kExitBadInput;
  std::optional<host::KnownDifferences> own;
  if (!args.differences.empty()) {
    std::string error;
    const std::optional<std::string> text = read_input_file(args.differences, 1 << 20, &error);
    if (text && !(own = host::KnownDifferences::parse(*text, &error))) error = args.differences + ": " + error;
    if (!error.empty()) {
      error_line(error);
      return kExitBadInput;
    }
  }
  std::optional<std::filesystem::path> dir;
  if (!args.dir.empty())
    dir = args.dir;
  else if (!(dir = make_temp_dir()))
    return kExitBadInput;
  std::string error;
  const std::optional<host::HostEnv> env = host::probe_env(*dir, &error);
  if (!env) {
    error_line(error);
    return kExitBadInput;
  }
  fmt::print("host files: unnamed files in {}{}\n", dir->string(), args.dir.empty() ? " (removed after)" : "");
  std::fflush(stdout);
  int code = kExitOk;
  for (const std::string& f : args.files)
    code = std::max(code, host_file(f, *env, kernel, own ? *own : host::KnownDifferences::builtin()));
  return code;
}

}  // namespace

void add_host(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<HostArgs>();
  CLI::App* cmd = app.add_subcommand(
      "host", "Run schedules on the host's Linux kernel and on the model, and compare each syscall's results");
  cmd->add_option("files", args->files, "Schedules (one task, or tasks run one after another)")->required();
  cmd->add_option("--kernel", args->kernel, "Model preset (default: the schedule's kernel)");
  cmd->add_option("--dir", args->dir,
                  "Directory for the REGULAR files (default: a fresh directory in the build directory, removed after)");
  cmd->add_option("--differences", args->differences,
                  "Known differences from this JSON file instead of the built-in host/known_differences.json");
  cmd->callback([args, &exit_code] { exit_code = run_host(*args); });
}

}  // namespace faultline::cli
