#include "host/oracle.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "toolkit/results_view.h"
#include "vmcore/kernel/syscalls.h"
#include "vmcore/schedule/schedule_io.h"
#include "vmcore/schedule/syscall_table.h"

namespace faultline::host {

namespace {

const char* call_name(const Syscall& c) {
  const SyscallKind* kind = syscall_kind(c);
  return kind ? kind->name : "?";
}

// The syscalls in the order the model ran them, or why they overlapped.
std::optional<std::string> sequential_order(const Schedule& s, const Outcome& model, std::vector<HostCall>* order) {
  const uint32_t ntasks = uint32_t(s.tasks_size());
  std::vector<std::optional<uint32_t>> open(ntasks);
  for (const sim::Event& e : model.trace) {
    if (e.task >= ntasks) continue;
    if (e.kind == sim::EventKind::SyscallBegin) {
      for (uint32_t u = 0; u < ntasks; ++u)
        if (u != e.task && open[u])
          return fmt::format(
              "the model ran task {}'s syscall {} ({}) while task {}'s syscall {} ({}) was in flight; the host "
              "runs tasks one after another",
              e.task, e.arg, call_name(s.tasks(int(e.task)).syscalls(int(e.arg))), u, *open[u],
              call_name(s.tasks(int(u)).syscalls(int(*open[u]))));
      open[e.task] = uint32_t(e.arg);
    } else if (e.kind == sim::EventKind::SyscallEnd && open[e.task]) {
      order->push_back({e.task, *open[e.task], e.arg});
      open[e.task].reset();
    }
  }
  return std::nullopt;
}

bool same_result(const SyscallResult& a, const SyscallResult& b) { return a.ret == b.ret && a.data == b.data; }

}  // namespace

std::optional<std::string> host_refusal(const Schedule& s, const HostEnv& env) {
  if (s.decisions_size())
    return "it has interleaving decisions; the host runs the tasks one after another, without them";
  if (s.faults_size()) return "it injects faults, which the host kernel cannot be made to take";
  for (int i = 0; i < s.files_size(); ++i)
    if (s.files(i).kind() == File::DRIVER)
      return fmt::format("files[{}] is a DRIVER file: a driver's own ->nopage exists only in the model", i);
  for (int t = 0; t < s.tasks_size(); ++t)
    for (int i = 0; i < s.tasks(t).syscalls_size(); ++i) {
      const Syscall& c = s.tasks(t).syscalls(i);
      if (!c.has_direct_write() || s.files(int(c.direct_write().file())).kind() != File::REGULAR) continue;
      if (!env.dio_align)
        return fmt::format("task {} syscall {} is an O_DIRECT write, and the host filesystem ({} at {}) has no O_DIRECT",
                           t, i, env.fs_type, env.dir.string());
      const uint64_t offset = c.direct_write().offset() * env.scale, len = c.direct_write().len() * env.scale;
      if (offset % env.dio_align || len % env.dio_align)
        return fmt::format(
            "task {} syscall {} is an O_DIRECT write of [{}, {}) on the host, not aligned to the {} bytes its "
            "filesystem ({}) needs",
            t, i, offset, offset + len, env.dio_align, env.fs_type);
    }
  return std::nullopt;
}

void make_host_runnable(Schedule& s, const HostEnv& env) {
  s.clear_decisions();
  s.clear_faults();
  for (File& f : *s.mutable_files())
    if (f.kind() == File::DRIVER) {
      f.set_kind(File::REGULAR);
      f.clear_driver_nopage();
    }
  // In model bytes: the host's alignment over the scale, at least one byte.
  const uint64_t align = std::max<uint64_t>(1, (env.dio_align + env.scale - 1) / env.scale);
  for (Task& t : *s.mutable_tasks())
    for (Syscall& c : *t.mutable_syscalls())
      if (c.has_direct_write()) {
        DirectWrite& w = *c.mutable_direct_write();
        w.set_offset(w.offset() / align * align);
        w.set_len(uint32_t(std::min<uint64_t>((w.len() + align - 1) / align * align, mm::kMaxOpBytes / align * align)));
      }
}

std::vector<Schedule> single_task_parts(const Schedule& s) {
  std::vector<Schedule> parts;
  for (int t = 0; t < s.tasks_size(); ++t) {
    Schedule part = s;
    part.clear_decisions();
    part.clear_faults();
    part.clear_recording();
    part.clear_tasks();
    *part.add_tasks() = s.tasks(t);
    parts.push_back(std::move(part));
  }
  return parts;
}

HostComparison compare_with_host(const Schedule& s, const mm::KernelConfig& cfg, const HostEnv& env,
                                 const KnownDifferences& known) {
  HostComparison c;
  c.preset = mm::as_preset(cfg).preset->name;
  auto refuse = [&](std::string why) {
    c.verdict = HostVerdict::Refused;
    c.refusal = std::move(why);
    return c;
  };
  if (const auto error = validate_schedule(s)) return refuse("invalid schedule: " + *error);
  if (auto why = host_refusal(s, env)) return refuse(std::move(*why));
  RunOptions options;
  options.kernel = cfg;
  options.keep_trace = true;
  c.model = replay(s, options);
  if (c.model.kind == OutcomeKind::InvalidSchedule) return refuse("invalid schedule: " + c.model.report);
  std::vector<HostCall> order;
  if (auto why = sequential_order(s, c.model, &order)) return refuse(std::move(*why));

  auto model_result = [&](const HostCall& call) -> const SyscallResult& {
    return c.model.results[call.task][call.index];
  };
  auto syscall_of = [&](const HostCall& call) -> const Syscall& {
    return s.tasks(int(call.task)).syscalls(int(call.index));
  };
  auto note_applied = [&](const KnownDifference& d) {
    if (std::none_of(c.applied.begin(), c.applied.end(), [&](const auto& a) { return a.name == d.name; }))
      c.applied.push_back(d);
  };
  std::map<std::pair<uint32_t, uint32_t>, std::string> notes;
  auto apply = [&](const HostCall& call, const KnownDifference& d) {
    notes[{call.task, call.index}] = "known: " + d.name;
    note_applied(d);
  };
  // The model's result of one round: a repeating task keeps only its last
  // round's bytes, the trace has every round's return value.
  auto round_result = [&](const HostCall& call) {
    const SyscallResult& last_round = model_result(call);
    return call.model_ret == last_round.ret ? last_round : SyscallResult{call.model_ret, {}};
  };
  const HostRun host = run_on_host(s, order, env, [&](const HostCall& call) {
    const Syscall& sc = syscall_of(call);
    HostDirective directive;
    if (sc.has_revalidate()) {
      notes[{call.task, call.index}] = "model only: no host syscall revalidates a mapping";
      directive.take = round_result(call);
    } else if (const KnownDifference* d = known.for_call(c.preset, s, sc, round_result(call), nullptr)) {
      apply(call, *d);
      if (d->action == KnownDifference::Action::HostFollowsModel) directive.take = round_result(call);
      directive.emulation = d->emulation;
    }
    return directive;
  });

  auto differ = [&](Difference d) {
    if (!c.first) c.first = std::move(d);
    c.verdict = HostVerdict::Differ;
  };
  if (!host.error.empty()) {
    differ({0, 0, "setup", "setup", "set up", host.error});
    return c;
  }
  if (!host.unfollowed.empty()) return refuse(host.unfollowed);
  // A repeated syscall's row goes where its last round ran; only that round's
  // results are kept, so a divergence is dated from the syscall's first round.
  std::map<std::pair<uint32_t, uint32_t>, size_t> first_run, last;
  for (size_t k = 0; k < order.size(); ++k) {
    first_run.emplace(std::make_pair(order[k].task, order[k].index), k);
    last[{order[k].task, order[k].index}] = k;
  }
  auto host_result = [&](const HostCall& call) -> const SyscallResult& { return *host.results[call.task][call.index]; };
  // A diverging difference may show only later (what the call left behind
  // differs, not its result): it applies whatever the call returned.
  auto compared = [&](const HostCall& call) {
    return !host.taken[call.task][call.index] && host.granularity[call.task][call.index].empty();
  };
  size_t diverge_at = order.size();
  const KnownDifference* diverging = nullptr;  // after its syscall's first round the runs are not compared
  for (const auto& [key, k] : last)
    if (compared(order[k]))
      if (const KnownDifference* d = known.for_call(c.preset, s, syscall_of(order[k]), model_result(order[k]),
                                                    &host_result(order[k]));
          d && d->action == KnownDifference::Action::Diverges && first_run[key] < diverge_at) {
        diverge_at = first_run[key];
        diverging = d;
      }
  if (diverging) note_applied(*diverging);
  for (size_t k = 0; k < order.size(); ++k) {
    const HostCall& call = order[k];
    const auto key = std::make_pair(call.task, call.index);
    if (last[key] != k) continue;
    const Syscall& sc = syscall_of(call);
    HostRow row{call, syscall_text(s, sc), model_result(call), host.results[call.task][call.index], "", false};
    if (auto it = notes.find(key); it != notes.end()) row.note = it->second;
    if (k > diverge_at) {
      row.note = "not compared: the runs diverged at " + diverging->name;
    } else if (!host.taken[call.task][call.index]) {
      const SyscallResult& h = *row.host;
      const std::string& scaling = host.granularity[call.task][call.index];
      if (!scaling.empty()) {
        row.differs = true;
        row.note = scaling;
        differ({call.task, call.index, call_name(sc), "granularity", result_text(row.model), scaling});
      } else if (!same_result(row.model, h)) {
        if (const KnownDifference* d = known.for_call(c.preset, s, sc, row.model, &h)) {
          apply(call, *d);
          row.note = notes[key];
        } else {
          row.differs = true;
          differ({call.task, call.index, call_name(sc), row.model.ret != h.ret ? "ret" : "data",
                  result_text(row.model), result_text(h)});
        }
      }
    }
    c.rows.push_back(std::move(row));
  }
  if (c.model.kind != OutcomeKind::Ok && diverge_at == order.size()) {
    if (const KnownDifference* d = known.for_outcome(c.preset, c.model.signature)) {
      note_applied(*d);
    } else {
      const HostCall at = order.empty() ? HostCall{} : order.back();
      differ({at.task, at.index, "outcome", "outcome",
              fmt::format("{} {}", outcome_name(c.model.kind), c.model.signature),
              "every syscall before it ran on the host"});
    }
  }
  return c;
}

std::string render_comparison(const Schedule& s, const HostComparison& c, const HostEnv& env) {
  if (c.verdict == HostVerdict::Refused) return fmt::format("not run on the host: {}\n", c.refusal);
  std::string text = fmt::format(
      "model: {} ({})   host: Linux {}, {} and tmpfs; a model page is one host page ({} bytes per model byte)\n",
      c.preset, outcome_name(c.model.kind), env.kernel, env.fs_type, env.scale);
  size_t width = 8;
  for (const HostRow& r : c.rows) width = std::max(width, r.text.size());
  text += fmt::format("{:<4} {:<4} {:<{}}  {}\n", "task", "#", "syscall", width, "model | host");
  for (const HostRow& r : c.rows) {
    const std::string model = result_text(r.model);
    std::string host = r.host ? result_text(*r.host) : "(not run)";
    text += fmt::format("{:<4} {:<4} {:<{}}  {}{}\n", r.call.task, r.call.index, r.text, width, model,
                        r.differs ? "  !=  " + host : (host == model ? "" : "  |  " + host));
    if (!r.note.empty()) text += fmt::format("{:<10}{:<{}}  ({})\n", "", "", width, r.note);
  }
  if (c.model.kind != OutcomeKind::Ok)
    text += fmt::format("the model's run stopped: {} {}\n", outcome_name(c.model.kind), c.model.signature);
  for (const KnownDifference& d : c.applied)
    text += fmt::format("known difference applied: {}: {} [{}]\n", d.name, d.reason, d.kernel);
  if (c.first)
    text += fmt::format("DIFFERENCE: task {} syscall {} ({}), {}: model {}, host {}\n", c.first->task,
                        c.first->index, c.first->syscall, c.first->field, c.first->model, c.first->host);
  else {
    const size_t skipped = size_t(std::count_if(c.rows.begin(), c.rows.end(),
                                                [](const HostRow& r) { return r.note.starts_with("not compared"); }));
    text += fmt::format("agree: {} syscalls{}\n", c.rows.size() - skipped,
                        skipped ? fmt::format(", {} after the divergence not compared", skipped) : "");
  }
  return text;
}

}  // namespace faultline::host
