// libFuzzer target build/bin/fuzz_host_diff: each input runs on the model and
// on the host kernel; a difference that no known difference explains prints
// both results and a DEDUP_TOKEN line, then aborts. Inputs are binary
// schedules; the mutator only makes ones the host can run.
//
// Environment:
//   FAULTLINE_KERNEL=<preset>     the model's kernel (default: the newest preset)
//   FAULTLINE_HOST_DIR=<dir>      where REGULAR files go (default: this binary's
//                                 directory); they are unnamed (O_TMPFILE), so a
//                                 crash or a timeout leaves none behind
//   FAULTLINE_IGNORE=<token>,...  DEDUP_TOKEN prefixes that are not crashes
//   FAULTLINE_HOST_DIFFERENCES=<file>  known differences from this JSON file
//                                 instead of the built-in host/known_differences.json
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "host/oracle.h"
#include "fuzz/libfuzzer_mutator.h"
#include "toolkit/mutator.h"
#include "toolkit/record.h"
#include "toolkit/schedule_file.h"
#include "vmcore/schedule/schedule_io.h"

namespace {

using namespace faultline;

struct HostTarget {
  mm::KernelConfig kernel;
  std::optional<Kernel> kernel_message;
  host::HostEnv env;
  std::optional<host::KnownDifferences> own_differences;
  const host::KnownDifferences& known() const {
    return own_differences ? *own_differences : host::KnownDifferences::builtin();
  }
};

const HostTarget& target() {
  static const HostTarget t = [] {
    HostTarget t;
    const fuzz::Config& c = fuzz::config();
    t.kernel = c.kernel ? *c.kernel : *mm::preset_config(mm::kernel_presets().back().name);
    t.kernel_message = c.kernel_message ? *c.kernel_message : kernel_message(t.kernel);
    const char* dir = std::getenv("FAULTLINE_HOST_DIR");
    std::error_code ec;
    const std::filesystem::path exe_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    std::string error;
    auto env = host::probe_env(dir && *dir ? std::filesystem::path(dir) : exe_dir, &error);
    if (!env) {
      fmt::print(stderr, "fuzz_host_diff: FAULTLINE_HOST_DIR: {}\n", error);
      std::exit(2);
    }
    t.env = *env;
    if (const char* file = std::getenv("FAULTLINE_HOST_DIFFERENCES"); file && *file) {
      const std::optional<std::string> text = read_input_file(file, 1 << 20, &error);
      if (text) t.own_differences = host::KnownDifferences::parse(*text, &error);
      if (!t.own_differences) {
        fmt::print(stderr, "fuzz_host_diff: FAULTLINE_HOST_DIFFERENCES: {}\n", error);
        std::exit(2);
      }
    }
    return t;
  }();
  return t;
}

ScheduleMutator& mutator() {
  static ScheduleMutator m = [] {
    ScheduleMutator mut(0);
    mut.pin_kernel(target().kernel_message);
    mut.restrict_outputs([](Schedule& s) { host::make_host_runnable(s, target().env); });
    return mut;
  }();
  return m;
}

bool ignored(const std::string& token) {
  for (const std::string& prefix : fuzz::config().ignore)
    if (token.starts_with(prefix)) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  target();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Schedule parsed;
  const Schedule* s = mutator().recent_output(bytes);
  if (!s) {
    if (parse_binary(bytes, &parsed) || validate_schedule(parsed)) return -1;
    s = &parsed;
  }
  const host::HostComparison c = host::compare_with_host(*s, target().kernel, target().env, target().known());
  if (c.verdict == host::HostVerdict::Refused) return -1;
  if (c.verdict == host::HostVerdict::Agree || ignored(c.first->dedup_token())) return 0;
  fmt::print(stderr, "==faultline== host difference\n{}\nreplay: faultline host CRASH_FILE --kernel {}\n",
             host::render_comparison(*s, c, target().env), c.preset);
  fmt::print(stderr, "DEDUP_TOKEN: {}\n", c.first->dedup_token());
  std::abort();
}

ScheduleMutator& faultline::fuzz::libfuzzer_mutator() { return mutator(); }
