#include "toolkit/minimize.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "toolkit/record.h"
#include "toolkit/schedule_edit.h"
#include "vmcore/schedule/syscall_table.h"

namespace faultline {

namespace {

struct Target {
  OutcomeKind kind;
  std::string signature;
};

class Minimizer {
 public:
  Minimizer(const MinimizeOptions& options) : options_(options) {}

  Outcome run(const Schedule& s, bool trace = false) {
    ++runs_;
    RunOptions o;
    o.kernel = options_.kernel;
    o.keep_trace = trace;
    o.keep_results = false;
    return replay(s, o);
  }

  // Keeps the candidate if it still fails the same way.
  bool try_candidate(Schedule& current, const Schedule& candidate) {
    if (runs_ >= options_.max_runs) return false;
    const Outcome out = run(candidate);
    if (out.kind != target_.kind || out.signature != target_.signature) return false;
    current = candidate;
    return true;
  }

  bool exhausted() const { return runs_ >= options_.max_runs; }
  uint32_t runs() const { return runs_; }
  void set_target(Target t) { target_ = std::move(t); }

 private:
  const MinimizeOptions& options_;
  Target target_;
  uint32_t runs_ = 0;
};

// ---- the passes ---------------------------------------------------------------

bool drop_tasks(Minimizer& m, Schedule& s) {
  bool progress = false;
  for (int t = s.tasks_size() - 1; t >= 0; --t)
    if (m.try_candidate(s, without_task(s, t))) progress = true;
  return progress;
}

bool drop_syscalls(Minimizer& m, Schedule& s) {
  bool progress = false;
  for (int t = 0; t < s.tasks_size(); ++t) {
    for (int i = s.tasks(t).syscalls_size() - 1; i >= 0; --i) {
      Schedule c = s;
      c.mutable_tasks(t)->mutable_syscalls()->DeleteSubrange(i, 1);
      if (m.try_candidate(s, c)) progress = true;
    }
  }
  return progress;
}

bool drop_decisions(Minimizer& m, Schedule& s) {
  bool progress = false;
  for (int i = s.decisions_size() - 1; i >= 0; --i) {
    Schedule c = s;
    c.mutable_decisions()->DeleteSubrange(i, 1);
    if (m.try_candidate(s, c)) progress = true;
  }
  return progress;
}

// Fewer preemptions: a switch there and a switch back often cancel out.
bool drop_decision_pairs(Minimizer& m, Schedule& s) {
  bool progress = false;
  for (int i = s.decisions_size() - 2; i >= 0; --i) {
    if (i + 1 >= s.decisions_size()) continue;
    Schedule c = s;
    c.mutable_decisions()->DeleteSubrange(i, 2);
    if (m.try_candidate(s, c)) progress = true;
  }
  return progress;
}

// Move decisions earlier: lower hit counts and steps.
bool move_decisions(Minimizer& m, Schedule& s) {
  bool progress = false;
  for (int i = 0; i < s.decisions_size(); ++i) {
    for (;;) {
      Schedule c = s;
      Decision* d = c.mutable_decisions(i);
      if (d->when_case() == Decision::kAt) {
        if (d->at().hit() <= 1) break;
        d->mutable_at()->set_hit(d->at().hit() - 1);
      } else {
        if (d->step() == 0) break;
        d->set_step(d->step() - 1);
        d->clear_label();
      }
      if (!m.try_candidate(s, c)) break;
      progress = true;
    }
  }
  return progress;
}

// Tries smaller values for one number: 0, then halving, then one less.
template <class Get, class Set>
bool shrink_number(Minimizer& m, Schedule& s, Get get, Set set) {
  bool progress = false;
  for (;;) {
    const uint64_t v = get(s);
    if (v == 0) break;
    bool shrunk = false;
    for (uint64_t candidate : {uint64_t(0), v / 2, v - 1}) {
      if (candidate >= v) continue;
      Schedule c = s;
      set(c, candidate);
      if (m.try_candidate(s, c)) {
        shrunk = progress = true;
        break;
      }
    }
    if (!shrunk) break;
  }
  return progress;
}

bool smaller_numbers(Minimizer& m, Schedule& s) {
  bool progress = false;
  for (int f = 0; f < s.files_size(); ++f) {
    progress |= shrink_number(
        m, s, [f](const Schedule& x) { return x.files(f).size(); },
        [f](Schedule& x, uint64_t v) { x.mutable_files(f)->set_size(v); });
    for (int j = s.files(f).cached_pages_size() - 1; j >= 0; --j) {
      Schedule c = s;
      auto* pages = c.mutable_files(f)->mutable_cached_pages();
      pages->erase(pages->begin() + j);
      progress |= m.try_candidate(s, c);
    }
  }
  for (int t = 0; t < s.tasks_size(); ++t) {
    progress |= shrink_number(
        m, s, [t](const Schedule& x) { return x.tasks(t).repeat(); },
        [t](Schedule& x, uint64_t v) { x.mutable_tasks(t)->set_repeat(uint32_t(v)); });
    for (int i = 0; i < s.tasks(t).syscalls_size(); ++i) {
      const SyscallKind* kind = syscall_kind(s.tasks(t).syscalls(i));
      if (!kind) continue;
      for (const SyscallField& f : kind->fields) {
        if (!f.shrink) continue;
        progress |= shrink_number(
            m, s, [&](const Schedule& x) { return f.get(x.tasks(t).syscalls(i)); },
            [&](Schedule& x, uint64_t v) { f.set(*x.mutable_tasks(t)->mutable_syscalls(i), v); });
      }
    }
  }
  for (int p = 0; p < s.processes_size(); ++p) {
    for (int j = s.processes(p).mappings_size() - 1; j >= 0; --j) {
      Schedule c = s;
      c.mutable_processes(p)->mutable_mappings()->DeleteSubrange(j, 1);
      if (m.try_candidate(s, c)) {
        progress = true;
        continue;
      }
      progress |= shrink_number(
          m, s, [p, j](const Schedule& x) { return x.processes(p).mappings(j).length() >> 4; },
          [p, j](Schedule& x, uint64_t v) { x.mutable_processes(p)->mutable_mappings(j)->set_length(v << 4); });
    }
  }
  for (int i = s.faults_size() - 1; i >= 0; --i) {
    Schedule c = s;
    c.mutable_faults()->DeleteSubrange(i, 1);
    progress |= m.try_candidate(s, c);
  }
  for (int i = 0; i < s.decisions_size(); ++i) {  // a one-time switch rather than a periodic one
    if (s.decisions(i).when_case() != Decision::kAt) continue;
    progress |= shrink_number(
        m, s, [i](const Schedule& x) { return x.decisions(i).at().every(); },
        [i](Schedule& x, uint64_t v) { x.mutable_decisions(i)->mutable_at()->set_every(uint32_t(v)); });
  }
  return progress;
}

struct Pass {
  const char* name;
  bool (*run)(Minimizer&, Schedule&);
};

const Pass kPasses[] = {
    {"drop tasks", drop_tasks},
    {"drop syscalls", drop_syscalls},
    {"drop decisions", drop_decisions},
    {"fewer preemptions", drop_decision_pairs},
    {"move decisions earlier", move_decisions},
    {"smaller numbers", smaller_numbers},
};

}  // namespace

ScheduleSize measure(const Schedule& s) {
  ScheduleSize size;
  size.tasks = uint32_t(s.tasks_size());
  for (const Task& t : s.tasks()) size.syscalls += uint32_t(t.syscalls_size());
  size.decisions = uint32_t(s.decisions_size());
  RunOptions o;
  o.keep_trace = true;
  o.keep_results = false;
  const Outcome out = replay(s, o);
  size.preemptions = count_preemptions(out);
  size.steps = out.steps;
  return size;
}

MinimizeResult minimize(const Schedule& input, const MinimizeOptions& options) {
  MinimizeResult r;
  Minimizer m(options);
  Schedule s = input;
  if (options.kernel) *s.mutable_kernel() = kernel_message(*options.kernel);
  s.clear_recording();
  const Outcome first = m.run(s, true);
  if (!is_failure(first.kind)) {
    r.error = fmt::format("the schedule does not fail (outcome {}): nothing to keep while minimizing",
                          outcome_name(first.kind));
    return r;
  }
  m.set_target({first.kind, first.signature});
  r.before = measure(s);
  // Label hits survive the removal of other tasks' syscalls; step numbers do not.
  const Schedule relabelled = with_label_decisions(s, first);
  if (!m.try_candidate(s, relabelled) && options.progress)
    options.progress("decisions kept as steps (label hits did not reproduce)");
  bool progress = true;
  while (progress && !m.exhausted()) {
    progress = false;
    for (const Pass& pass : kPasses) {
      if (pass.run(m, s)) {
        progress = true;
        if (options.progress) options.progress(fmt::format("{}: {} runs so far", pass.name, m.runs()));
      }
    }
  }
  // Record what the minimized schedule does.
  RunOptions o;
  const Outcome last = replay(s, o);
  Recording* rec = s.mutable_recording();
  rec->set_trace_hash(last.trace_hash);
  rec->set_outcome(outcome_name(last.kind));
  rec->set_signature(last.signature);
  rec->set_steps(last.steps);
  rec->set_recorder("faultline minimize");
  r.schedule = s;
  r.after = measure(s);
  r.runs = m.runs();
  r.ok = true;
  return r;
}

}  // namespace faultline
