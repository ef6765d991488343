// The host kernel as oracle: a schedule whose tasks run one after another
// runs on the model and on the host, and each syscall's results are compared.
//
// Which schedules qualify: no interleaving decisions, no injected faults, no
// DRIVER files, O_DIRECT only where the host filesystem allows the scaled
// offsets; and the model's run must itself be sequential (no syscall begins
// while another task's is in flight, as when a task sleeps on I/O and the
// next one runs). The host then runs the syscalls in the order the model did.
// A revalidate (an NFS server's change) has no host syscall: the host takes
// the model's result and goes on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/host_run.h"
#include "host/known_differences.h"
#include "vmcore/mm/kernel_config.h"
#include "vmcore/run.h"

namespace faultline::host {

// Why the host cannot run this (valid) schedule, or nullopt.
std::optional<std::string> host_refusal(const Schedule& s, const HostEnv& env);

struct Difference {
  uint32_t task = 0;
  uint32_t index = 0;
  std::string syscall;  // "read"; "setup" or "outcome" for the run as a whole
  std::string field;    // "ret", "data", "granularity", "outcome", "setup"
  std::string model;
  std::string host;
  std::string dedup_token() const { return "host-diff:" + syscall + ":" + field; }
};

struct HostRow {
  HostCall call;
  std::string text;  // the syscall with its arguments
  SyscallResult model;
  std::optional<SyscallResult> host;
  std::string note;      // "model only", a known difference applied, a granularity note
  bool differs = false;  // an unexplained difference
};

enum class HostVerdict { Agree, Differ, Refused };

struct HostComparison {
  HostVerdict verdict = HostVerdict::Agree;
  std::string refusal;  // Refused: why
  std::string preset;   // the model's kernel as a preset name
  Outcome model;
  std::vector<HostRow> rows;  // in the order the host ran them (a repeated syscall: its last round)
  std::optional<Difference> first;
  std::vector<KnownDifference> applied;  // the known differences applied
};

// s changed into a schedule host_refusal() accepts: no decisions, no faults,
// DRIVER files become REGULAR ones, O_DIRECT writes on REGULAR files aligned
// as the host filesystem needs (the model's run may still be refused when
// its tasks overlap).
void make_host_runnable(Schedule& s, const HostEnv& env);

// Each task of s alone, without the interleaving (decisions, injected faults,
// the recording): what the host can run of a race scenario.
std::vector<Schedule> single_task_parts(const Schedule& s);

// Runs s on the model (kernel cfg) and on the host, and compares.
HostComparison compare_with_host(const Schedule& s, const mm::KernelConfig& cfg, const HostEnv& env,
                                 const KnownDifferences& known = KnownDifferences::builtin());

// Side by side, syscall by syscall, then the verdict.
std::string render_comparison(const Schedule& s, const HostComparison& c, const HostEnv& env);

}  // namespace faultline::host
