// The documented differences between a model preset and the host's kernel,
// as data (host/known_differences.json): each with its reason and the kernel
// code behind it. The comparison applies them and says which it applied.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vmcore/run.h"
#include "vmcore/schedule/schedule.pb.h"

namespace faultline::host {

struct KnownDifference {
  enum class Action {
    // The host does not run the syscall and takes the model's result: the
    // old kernel's call had no effect the host could reproduce (-ENOSYS, a
    // refused O_DIRECT), so running it would set the two runs apart.
    HostFollowsModel,
    // Both run; this pair of results is accepted.
    Accept,
    // The host runs the syscall as that kernel did (`emulation` names how):
    // the old kernel had a side effect on user memory that the host's no
    // longer has, and the host reproduces it from user space.
    HostEmulates,
    // Both run; the old kernel left the file or the mappings in a state the
    // host's never does (the results may differ too, as documented): the
    // syscalls after its first round are shown but not compared.
    Diverges,
  };
  std::string name;
  std::vector<std::string> presets;
  // A syscall entry: the call, conditions on its fields (a field of the
  // call's message by name, or of its file, "file.kind"; a value or a list),
  // the model's result and, for
  // Accept, the host's (mm::result_name form: "0", "-ENOSYS", "SIGBUS";
  // "*" for any).
  std::string syscall;
  nlohmann::json when = nlohmann::json::object();
  std::string model;
  std::string host;
  Action action = Action::Accept;
  std::string emulation;  // HostEmulates: "fault_in_pages_writeable"
  // An outcome entry: the model's run stops with a signature starting with
  // this (a bug of that kernel, fixed by the host's); the results before it
  // are compared.
  std::string outcome;
  std::string reason;
  std::string kernel;  // where in which kernel's source
};

class KnownDifferences {
 public:
  // The list built into faultline (host/known_differences.json).
  static const KnownDifferences& builtin();
  // Parses a list; nullopt and *error when it is malformed.
  static std::optional<KnownDifferences> parse(const std::string& text, std::string* error);

  // The entry that explains this syscall's results on `preset`; host: nullptr
  // asks, before the host runs it, whether the host follows the model or
  // emulates the old kernel.
  const KnownDifference* for_call(const std::string& preset, const Schedule& s, const Syscall& c,
                                  const SyscallResult& model, const SyscallResult* host) const;
  const KnownDifference* for_outcome(const std::string& preset, const std::string& signature) const;
  const std::vector<KnownDifference>& entries() const { return entries_; }

 private:
  std::vector<KnownDifference> entries_;
};

}  // namespace faultline::host
