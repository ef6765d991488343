#include "toolkit/mutator.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include "toolkit/schedule_edit.h"
#include "vmcore/run.h"
#include "vmcore/mm/mm.h"
#include "vmcore/mm/types.h"
#include "vmcore/schedule/schedule_io.h"
#include "vmcore/schedule/syscall_table.h"

namespace faultline {

// A schedule point a task reached in a run: its label and which hit it was.
struct ReachedPoint {
  uint32_t task;
  const char* label;
  uint32_t hit;
};

class RunProbe {
 public:
  void pin_kernel(const std::optional<Kernel>& kernel) { kernel_ = kernel; }

  // The schedule points of each task (indexed by task) when s runs on the
  // pinned kernel with its own decisions.
  const std::vector<std::vector<ReachedPoint>>& reached(const Schedule& s) {
    for (auto& points : per_task_) points.clear();
    Schedule pinned = s;
    if (kernel_) *pinned.mutable_kernel() = *kernel_;
    if (validate_schedule(pinned)) return per_task_;
    sim::ReplayStrategy strategy = replay_strategy(pinned);
    runner_.run(pinned, strategy, RunOptions{.keep_results = false, .trace_hash = false});
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> hits;  // (task, label id) -> hits so far
    for (const sim::Event& e : runner_.events()) {
      if (!sim::is_schedule_point(e.kind) || e.task == sim::kNoTask) continue;
      if (per_task_.size() <= e.task) per_task_.resize(e.task + 1);
      per_task_[e.task].push_back({e.task, e.label.name, ++hits[{e.task, e.label.id}]});
    }
    return per_task_;
  }

 private:
  std::optional<Kernel> kernel_;
  Runner runner_;
  std::vector<std::vector<ReachedPoint>> per_task_;
};

namespace {

using mm::PAGE_SIZE;

struct Ctx {
  Schedule& s;
  sim::SplitMix64& rng;
  const MutatorLimits& lim;
  const std::vector<std::string>& labels;
  RunProbe& probe;

  uint64_t below(uint64_t n) { return rng.below(n); }
  bool chance(uint32_t percent) { return rng.below(100) < percent; }
  template <class T>
  const T& one_of(std::initializer_list<T> values) {
    return values.begin()[below(values.size())];
  }
};

// ---- values that make sense for this schedule ------------------------------

uint64_t random_len(Ctx& c) { return c.one_of<uint64_t>({1, 1, 2, 4, 8, 15, 16, 16, 17, 32}); }

uint64_t random_value(Ctx& c) {
  return c.one_of<uint64_t>({0, 'A', 'B', 'X', 'Y', 0xff}) + (c.chance(20) ? c.below(8) : 0);
}

uint32_t random_every(Ctx& c) { return uint32_t(c.one_of<uint64_t>({1, 1, 1, 2, 3})); }

uint32_t random_file(Ctx& c) { return c.s.files_size() ? uint32_t(c.below(uint64_t(c.s.files_size()))) : 0; }

uint64_t random_offset(Ctx& c, uint32_t file) {
  const uint64_t size = file < uint32_t(c.s.files_size()) ? c.s.files(int(file)).size() : 0;
  switch (c.below(4)) {
    case 0: return 0;
    case 1: return size;
    case 2: return c.below(size + PAGE_SIZE + 1);
    default: return c.below(size / PAGE_SIZE + 2) * PAGE_SIZE;
  }
}

// An address inside (or just beside) a mapping the process has or makes.
uint64_t random_addr(Ctx& c, uint32_t process) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  if (process < uint32_t(c.s.processes_size()))
    for (const Mmap& m : c.s.processes(int(process)).mappings()) ranges.emplace_back(m.addr(), m.length());
  for (const Task& t : c.s.tasks())
    if (t.process() == process)
      for (const Syscall& sc : t.syscalls())
        if (sc.has_mmap()) ranges.emplace_back(sc.mmap().addr(), sc.mmap().length());
  if (ranges.empty() || c.chance(5)) return c.below(mm::TASK_SIZE);
  const auto [base, len] = ranges[c.below(ranges.size())];
  const uint64_t pages = std::max<uint64_t>(len / PAGE_SIZE, 1) + (c.chance(15) ? 1 : 0);
  return base + c.below(pages) * PAGE_SIZE + (c.chance(30) ? c.below(PAGE_SIZE) : 0);
}

// The file a syscall names (drawn before its offsets).
uint32_t file_of(const SyscallKind& kind, const Syscall& sc) {
  for (const SyscallField& f : kind.fields)
    if (f.role == FieldRole::File) return uint32_t(f.get(sc));
  return 0;
}

// A value for a field, drawn the way its role says.
uint64_t draw(Ctx& c, const SyscallKind& kind, const SyscallField& f, uint32_t process, const Syscall& sc) {
  switch (f.role) {
    case FieldRole::File: return random_file(c);
    case FieldRole::Addr: return random_addr(c, process);
    case FieldRole::PageAddr: return random_addr(c, process) & mm::PAGE_MASK;
    case FieldRole::MapAddr: return c.below(mm::kMaxVpn / 2) * PAGE_SIZE * 2;
    case FieldRole::Offset: return random_offset(c, file_of(kind, sc));
    case FieldRole::MapOffset: return c.below(3) * PAGE_SIZE;
    case FieldRole::Len: return random_len(c);
    case FieldRole::RangeLen: return c.one_of<uint64_t>({1, 1, 2, 3}) * PAGE_SIZE;
    case FieldRole::MapLen: return c.one_of<uint64_t>({1, 1, 2, 3, 4}) * PAGE_SIZE;
    case FieldRole::AdviceLen: return c.chance(50) ? 0 : random_len(c);
    case FieldRole::Value: return random_value(c);
    case FieldRole::Flag: return c.chance(70);
    case FieldRole::Mode:  // a hole punch mostly; the kernel answers the rest
      return c.chance(80) ? mm::FALLOC_FL_PUNCH_HOLE | mm::FALLOC_FL_KEEP_SIZE
                          : c.one_of<uint64_t>({0, mm::FALLOC_FL_KEEP_SIZE, mm::FALLOC_FL_PUNCH_HOLE, 0x10});
    case FieldRole::MsyncFlags:
      return c.chance(80) ? mm::MS_SYNC
                          : c.one_of<uint64_t>({mm::MS_ASYNC, mm::MS_INVALIDATE, mm::MS_SYNC | mm::MS_ASYNC});
    case FieldRole::Enum:
      for (;;)
        if (const uint64_t v = c.below(f.max + 1); f.valid(v)) return v;
  }
  return 0;
}

// A syscall of this kind with every field drawn (an optional one now and then).
Syscall random_call(Ctx& c, const SyscallKind& kind, uint32_t process) {
  Syscall sc;
  for (const SyscallField& f : kind.fields)
    if (!f.has || c.chance(25)) f.set(sc, draw(c, kind, f, process, sc));
  return sc;
}

const SyscallKind& random_kind(Ctx& c) {
  static const uint32_t total = [] {
    uint32_t w = 0;
    for (const SyscallKind& k : syscall_kinds()) w += k.weight;
    return w;
  }();
  uint64_t r = c.below(total);
  for (const SyscallKind& k : syscall_kinds()) {
    if (r < k.weight) return k;
    r -= k.weight;
  }
  return syscall_kinds().front();
}

Syscall random_syscall(Ctx& c, uint32_t process) { return random_call(c, random_kind(c), process); }

Mmap random_mmap(Ctx& c) {
  Syscall sc;
  sc.mutable_mmap();
  return random_call(c, *syscall_kind(sc), 0).mmap();
}

// A task and one of its syscalls, chosen uniformly over all syscalls.
std::pair<int, int> random_syscall_position(Ctx& c) {
  int total = 0;
  for (const Task& t : c.s.tasks()) total += t.syscalls_size();
  if (!total) return {-1, -1};
  int n = int(c.below(uint64_t(total)));
  for (int t = 0; t < c.s.tasks_size(); ++t) {
    if (n < c.s.tasks(t).syscalls_size()) return {t, n};
    n -= c.s.tasks(t).syscalls_size();
  }
  return {-1, -1};
}

uint32_t step_horizon(const Schedule& s) {
  uint32_t max_step = 0;
  for (const Decision& d : s.decisions())
    if (d.when_case() != Decision::kAt) max_step = std::max(max_step, d.step());
  return std::max<uint32_t>(max_step + 64, 160);
}

// ---- the mutations ------------------------------------------------------------

bool insert_syscall(Ctx& c) {
  if (!c.s.tasks_size() || !c.s.processes_size()) return false;
  Task* t = c.s.mutable_tasks(int(c.below(uint64_t(c.s.tasks_size()))));
  if (uint32_t(t->syscalls_size()) >= c.lim.syscalls_per_task) return false;
  *t->add_syscalls() = random_syscall(c, t->process());
  const int at = int(c.below(uint64_t(t->syscalls_size())));
  for (int i = t->syscalls_size() - 1; i > at; --i) t->mutable_syscalls()->SwapElements(i, i - 1);
  return true;
}

bool delete_syscall(Ctx& c) {
  const auto [t, i] = random_syscall_position(c);
  if (t < 0) return false;
  c.s.mutable_tasks(t)->mutable_syscalls()->DeleteSubrange(i, 1);
  return true;
}

bool duplicate_syscall(Ctx& c) {
  const auto [t, i] = random_syscall_position(c);
  if (t < 0 || uint32_t(c.s.tasks(t).syscalls_size()) >= c.lim.syscalls_per_task) return false;
  Task* task = c.s.mutable_tasks(t);
  *task->add_syscalls() = task->syscalls(i);
  for (int j = task->syscalls_size() - 1; j > i + 1; --j) task->mutable_syscalls()->SwapElements(j, j - 1);
  return true;
}

bool swap_adjacent_syscalls(Ctx& c) {
  const auto [t, i] = random_syscall_position(c);
  if (t < 0 || i + 1 >= c.s.tasks(t).syscalls_size()) return false;
  c.s.mutable_tasks(t)->mutable_syscalls()->SwapElements(i, i + 1);
  return true;
}

bool move_syscall_to_other_task(Ctx& c) {
  const auto [t, i] = random_syscall_position(c);
  if (t < 0 || c.s.tasks_size() < 2) return false;
  int to = int(c.below(uint64_t(c.s.tasks_size() - 1)));
  if (to >= t) ++to;
  if (uint32_t(c.s.tasks(to).syscalls_size()) >= c.lim.syscalls_per_task) return false;
  *c.s.mutable_tasks(to)->add_syscalls() = c.s.tasks(t).syscalls(i);
  c.s.mutable_tasks(t)->mutable_syscalls()->DeleteSubrange(i, 1);
  return true;
}

// Draws one field of a syscall again (sets or clears an optional one, flips a flag).
bool change_argument(Ctx& c) {
  const auto [t, i] = random_syscall_position(c);
  if (t < 0) return false;
  const uint32_t process = c.s.tasks(t).process();
  Syscall* sc = c.s.mutable_tasks(t)->mutable_syscalls(i);
  const SyscallKind* kind = syscall_kind(*sc);
  if (!kind) {
    *sc = random_syscall(c, process);
    return true;
  }
  const SyscallField& f = kind->fields[c.below(kind->fields.size())];
  if (f.has && f.has(*sc))
    f.clear(*sc);
  else if (f.role == FieldRole::Flag)
    f.set(*sc, !f.get(*sc));
  else
    f.set(*sc, draw(c, *kind, f, process, *sc));
  return true;
}

bool add_decision(Ctx& c) {
  if (uint32_t(c.s.decisions_size()) >= c.lim.decisions || !c.s.tasks_size()) return false;
  Decision* d = c.s.add_decisions();
  d->set_step(uint32_t(c.below(step_horizon(c.s))));
  d->set_task(uint32_t(c.below(decision_tasks(c.s))));
  return true;
}

// A preemption at a named kernel spot: when a task reaches a label, another
// task runs. Unlike a step it keeps its meaning when other syscalls change.
bool add_label_decision(Ctx& c) {
  if (c.labels.empty() || uint32_t(c.s.decisions_size()) >= c.lim.decisions || !c.s.tasks_size()) return false;
  Decision* d = c.s.add_decisions();
  LabelHit* at = d->mutable_at();
  at->set_task(uint32_t(c.below(uint64_t(c.s.tasks_size()))));
  at->set_label(c.labels[c.below(c.labels.size())]);
  at->set_hit(uint32_t(1 + (c.chance(25) ? c.below(3) : 0)));
  if (c.chance(20)) at->set_every(random_every(c));
  d->set_task(uint32_t(c.below(decision_tasks(c.s))));
  return true;
}

// A preemption where a task really goes (asked of a run of the schedule): at
// a label and hit it reached, another task runs (often one that loops in user
// space); often with the way back at a point the other task reached, and
// periodic, so that the two alternate as on two CPUs (a punch restarting
// while a fault refills the hole).
bool preempt_where_reached(Ctx& c) {
  if (uint32_t(c.s.decisions_size()) + 2 > c.lim.decisions) return false;
  const auto& reached = c.probe.reached(c.s);
  std::vector<uint32_t> tasks, loopers;
  for (uint32_t t = 0; t < reached.size(); ++t) {
    if (reached[t].empty()) continue;
    tasks.push_back(t);
    if (t < uint32_t(c.s.tasks_size()) && c.s.tasks(int(t)).repeat()) loopers.push_back(t);
  }
  if (tasks.size() < 2) return false;
  const uint32_t b = !loopers.empty() && c.chance(50) ? loopers[c.below(loopers.size())] : tasks[c.below(tasks.size())];
  uint32_t a = tasks[c.below(tasks.size() - 1)];
  if (a == b) a = tasks.back();
  const bool periodic = c.chance(60);
  const uint32_t every = random_every(c);  // the way back mostly keeps the same period
  auto preempt = [&](uint32_t from, uint32_t to) {
    const ReachedPoint& p = reached[from][c.below(reached[from].size())];
    Decision* d = c.s.add_decisions();
    d->set_task(to);
    d->mutable_at()->set_task(from);
    d->mutable_at()->set_label(p.label);
    d->mutable_at()->set_hit(p.hit);
    if (periodic) d->mutable_at()->set_every(c.chance(70) ? every : random_every(c));
  };
  preempt(a, b);
  if (periodic || c.chance(50)) preempt(b, a);
  return true;
}

// A label decision and its way back (the task it switches to switching
// back) fire again every few hits, or only once.
bool change_decision_period(Ctx& c) {
  std::vector<int> at;
  for (int i = 0; i < c.s.decisions_size(); ++i)
    if (c.s.decisions(i).when_case() == Decision::kAt) at.push_back(i);
  if (at.empty()) return false;
  const Decision& there = c.s.decisions(at[c.below(at.size())]);
  const uint32_t every = there.at().every() && c.chance(50) ? 0 : random_every(c);
  if (every == there.at().every()) return false;
  const uint32_t from = there.at().task(), to = there.task();
  for (int i : at) {
    LabelHit* hit = c.s.mutable_decisions(i)->mutable_at();
    const uint32_t task = c.s.decisions(i).task();
    if ((hit->task() == from && task == to) || (hit->task() == to && task == from)) hit->set_every(every);
  }
  return true;
}

bool remove_decision(Ctx& c) {
  if (!c.s.decisions_size()) return false;
  c.s.mutable_decisions()->DeleteSubrange(int(c.below(uint64_t(c.s.decisions_size()))), 1);
  return true;
}

// Moves a preemption a little earlier or later.
bool move_decision(Ctx& c) {
  if (!c.s.decisions_size()) return false;
  Decision* d = c.s.mutable_decisions(int(c.below(uint64_t(c.s.decisions_size()))));
  const int64_t delta = int64_t(c.one_of<uint64_t>({1, 1, 2, 3, 5, 8, 13})) * (c.chance(50) ? 1 : -1);
  if (d->when_case() == Decision::kAt) {
    d->mutable_at()->set_hit(uint32_t(std::max<int64_t>(1, int64_t(d->at().hit()) + (delta > 0 ? 1 : -1))));
  } else {
    d->set_step(uint32_t(std::max<int64_t>(0, int64_t(d->step()) + delta)));
  }
  return true;
}

// Swaps who runs at two neighbouring decision points.
bool swap_adjacent_decisions(Ctx& c) {
  if (c.s.decisions_size() < 2) return false;
  std::vector<int> order(size_t(c.s.decisions_size()));
  for (int i = 0; i < c.s.decisions_size(); ++i) order[size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return c.s.decisions(a).step() < c.s.decisions(b).step(); });
  const size_t k = c.below(order.size() - 1);
  Decision* a = c.s.mutable_decisions(order[k]);
  Decision* b = c.s.mutable_decisions(order[k + 1]);
  const uint32_t ta = a->task();
  a->set_task(b->task());
  b->set_task(ta);
  return ta != a->task();
}

bool change_decision_task(Ctx& c) {
  if (!c.s.decisions_size()) return false;
  c.s.mutable_decisions(int(c.below(uint64_t(c.s.decisions_size()))))->set_task(uint32_t(c.below(decision_tasks(c.s))));
  return true;
}

// A periodic interleaving: a label decision and its way back (the task it
// switches to switching back) repeated at the following hits, as when one
// task's loop keeps another's retry loop going (a hole punch restarting while
// faults refill the hole).
bool extend_decision_pattern(Ctx& c) {
  std::vector<int> at;
  for (int i = 0; i < c.s.decisions_size(); ++i)
    if (c.s.decisions(i).when_case() == Decision::kAt) at.push_back(i);
  if (at.empty()) return false;
  const Decision there = c.s.decisions(at[c.below(at.size())]);
  std::optional<Decision> back;
  for (int i : at) {
    const Decision& d = c.s.decisions(i);
    if (d.at().task() == there.task() && d.task() == there.at().task()) back = d;
  }
  const uint32_t rounds = uint32_t(c.one_of<uint64_t>({4, 8, 16, 33}));
  const uint32_t stride = uint32_t(c.one_of<uint64_t>({1, 1, 2}));
  const uint32_t back_stride = uint32_t(c.one_of<uint64_t>({1, 1, 2}));
  bool added = false;
  for (uint32_t r = 1; r <= rounds; ++r) {
    for (const auto& [d, step] : {std::pair{std::optional<Decision>(there), stride}, std::pair{back, back_stride}}) {
      if (!d || uint32_t(c.s.decisions_size()) >= c.lim.decisions) continue;
      Decision* copy = c.s.add_decisions();
      *copy = *d;
      copy->mutable_at()->set_hit(std::max(1u, d->at().hit()) + r * step);
      added = true;
    }
  }
  return added;
}

// A task that loops in user space, or one that stops looping.
bool change_task_repeat(Ctx& c) {
  if (!c.s.tasks_size()) return false;
  Task* t = c.s.mutable_tasks(int(c.below(uint64_t(c.s.tasks_size()))));
  const uint32_t repeat = uint32_t(c.one_of<uint64_t>({0, 1, 4, 16, 64}));
  if (repeat == t->repeat()) return false;
  t->set_repeat(repeat);
  return true;
}

bool add_task(Ctx& c) {
  if (uint32_t(c.s.tasks_size()) >= c.lim.tasks || !c.s.processes_size()) return false;
  // New tasks go last, before the daemons: decisions naming daemons move up.
  for (Decision& d : *c.s.mutable_decisions()) {
    if (d.task() >= uint32_t(c.s.tasks_size())) d.set_task(d.task() + 1);
    if (d.when_case() == Decision::kAt && d.at().task() >= uint32_t(c.s.tasks_size()))
      d.mutable_at()->set_task(d.at().task() + 1);
  }
  Task* t = c.s.add_tasks();
  t->set_process(uint32_t(c.below(uint64_t(c.s.processes_size()))));
  for (uint64_t n = 1 + c.below(3); n; --n) *t->add_syscalls() = random_syscall(c, t->process());
  return true;
}

bool remove_task(Ctx& c) {
  if (c.s.tasks_size() < 2) return false;
  c.s = without_task(c.s, int(c.below(uint64_t(c.s.tasks_size()))));
  return true;
}

bool add_fault(Ctx& c) {
  if (uint32_t(c.s.faults_size()) >= c.lim.faults) return false;
  Fault* f = c.s.add_faults();
  f->set_kind(Fault::Kind(c.below(Fault::Kind_ARRAYSIZE)));
  f->set_nth(uint32_t(1 + c.below(4)));
  f->set_count(c.chance(20) ? 1000 : 1);
  return true;
}

bool remove_fault(Ctx& c) {
  if (!c.s.faults_size()) return false;
  c.s.mutable_faults()->DeleteSubrange(int(c.below(uint64_t(c.s.faults_size()))), 1);
  return true;
}

// The DRIVER ->nopage variants model out-of-tree code, not the kernel: they
// are for hand-written schedules, and campaigns stay on the kernel's own code.
bool change_file(Ctx& c) {
  if (!c.s.files_size()) return false;
  File* f = c.s.mutable_files(int(random_file(c)));
  switch (c.below(5)) {
    case 0: f->set_size(c.below(uint64_t(mm::kMaxFileBytes) / 4)); break;
    case 1: {
      if (f->kind() == File::SHMEM) return false;
      auto* pages = f->mutable_cached_pages();
      const uint64_t npages = (f->size() + PAGE_SIZE - 1) / PAGE_SIZE;
      if (pages->size() && c.chance(50))
        pages->erase(pages->begin() + long(c.below(uint64_t(pages->size()))));
      else if (npages)
        pages->Add(uint32_t(c.below(npages)));
      break;
    }
    // Up to 8: a window that holds a PMD-order folio.
    case 2: f->set_ra_pages(uint32_t(c.below(9))); break;
    case 3:
      // Large folios (6.x kernels; earlier ones ignore both).
      if (f->kind() == File::SHMEM)
        f->set_shmem_huge(File::ShmemHuge(c.below(File::ShmemHuge_ARRAYSIZE)));
      else if (f->kind() == File::REGULAR && !f->launder_page())
        f->set_folio_order(uint32_t(c.below(mm::MAX_PAGECACHE_ORDER + 1)));
      else
        return false;
      break;
    default:
      if (f->kind() == File::REGULAR)
        f->set_page_mkwrite(!f->page_mkwrite());
      else
        return false;
  }
  return true;
}

bool change_mapping(Ctx& c) {
  if (!c.s.processes_size()) return false;
  Process* p = c.s.mutable_processes(int(c.below(uint64_t(c.s.processes_size()))));
  if (!p->mappings_size() || c.chance(20)) {
    if (uint32_t(p->mappings_size()) >= mm::kMaxVmas || !c.s.files_size()) return false;
    *p->add_mappings() = random_mmap(c);
    return true;
  }
  Mmap* m = p->mutable_mappings(int(c.below(uint64_t(p->mappings_size()))));
  switch (c.below(3)) {
    case 0: m->set_shared(!m->shared()); break;
    case 1: m->set_writable(!m->writable()); break;
    default: m->set_file(random_file(c));
  }
  return true;
}

struct Mutation {
  const char* name;
  bool (*apply)(Ctx&);
  uint32_t weight;
};

const Mutation kMutations[] = {
    {"insert_syscall", insert_syscall, 8},
    {"delete_syscall", delete_syscall, 5},
    {"duplicate_syscall", duplicate_syscall, 3},
    {"swap_adjacent_syscalls", swap_adjacent_syscalls, 3},
    {"move_syscall_to_other_task", move_syscall_to_other_task, 3},
    {"change_argument", change_argument, 10},
    {"add_decision", add_decision, 10},
    {"add_label_decision", add_label_decision, 4},
    {"preempt_where_reached", preempt_where_reached, 8},
    {"change_decision_period", change_decision_period, 2},
    {"remove_decision", remove_decision, 5},
    {"move_decision", move_decision, 10},
    {"swap_adjacent_decisions", swap_adjacent_decisions, 4},
    {"change_decision_task", change_decision_task, 4},
    {"extend_decision_pattern", extend_decision_pattern, 2},
    {"change_task_repeat", change_task_repeat, 1},
    {"add_task", add_task, 2},
    {"remove_task", remove_task, 1},
    {"add_fault", add_fault, 1},
    {"remove_fault", remove_fault, 1},
    {"change_file", change_file, 2},
    {"change_mapping", change_mapping, 2},
};

uint32_t total_weight() {
  static const uint32_t total = [] {
    uint32_t w = 0;
    for (const Mutation& m : kMutations) w += m.weight;
    return w;
  }();
  return total;
}

const Mutation& pick_mutation(sim::SplitMix64& rng) {
  uint64_t r = rng.below(total_weight());
  for (const Mutation& m : kMutations) {
    if (r < m.weight) return m;
    r -= m.weight;
  }
  return kMutations[0];
}

// Something to start from when the input is not a valid schedule.
Schedule starter_schedule() {
  Schedule s;
  File* f = s.add_files();
  f->set_size(32);
  f->set_contents("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
  f->add_cached_pages(0);
  Process* p = s.add_processes();
  Mmap* m = p->add_mappings();
  m->set_addr(256);
  m->set_length(32);
  m->set_shared(true);
  m->set_writable(true);
  s.add_processes();
  Task* a = s.add_tasks();
  a->mutable_syscalls()->Add()->mutable_load()->set_addr(256);
  a->mutable_syscalls(0)->mutable_load()->set_len(1);
  Task* b = s.add_tasks();
  b->set_process(1);
  DirectWrite* d = b->add_syscalls()->mutable_direct_write();
  d->set_len(16);
  d->set_value('B');
  return s;
}

}  // namespace

ScheduleMutator::ScheduleMutator(uint64_t seed, MutatorLimits limits)
    : rng_(seed), limits_(limits), probe_(std::make_unique<RunProbe>()) {}
ScheduleMutator::~ScheduleMutator() = default;
ScheduleMutator::ScheduleMutator(ScheduleMutator&&) noexcept = default;
ScheduleMutator& ScheduleMutator::operator=(ScheduleMutator&&) noexcept = default;

void ScheduleMutator::pin_kernel(std::optional<Kernel> kernel) {
  probe_->pin_kernel(kernel);
  kernel_ = std::move(kernel);
}

std::span<const char* const> ScheduleMutator::mutation_names() {
  static const std::vector<const char*> names = [] {
    std::vector<const char*> n;
    for (const Mutation& m : kMutations) n.push_back(m.name);
    return n;
  }();
  return names;
}

void ScheduleMutator::normalize(Schedule& s) const {
  for (Decision& d : *s.mutable_decisions()) d.clear_label();
  s.clear_recording();
  s.clear_comment();
  if (kernel_) *s.mutable_kernel() = *kernel_;
  if (restriction_) restriction_(s);
  seal(s);
}

bool ScheduleMutator::fits(const Schedule& s, size_t max_size) const { return s.ByteSizeLong() <= max_size; }

namespace {

// Takes away one thing, what matters least first; false when nothing is left
// to take but the one task.
bool shrink_once(Ctx& c) {
  Schedule& s = c.s;
  if (s.decisions_size()) return remove_decision(c);
  if (s.faults_size()) return remove_fault(c);
  if (s.tasks_size() > 1) return remove_task(c);
  if (s.tasks_size() && s.tasks(0).syscalls_size() > 1) return delete_syscall(c);
  for (File& f : *s.mutable_files()) {
    if (!f.name().empty() || f.contents().size() > 1) {
      f.clear_name();
      f.mutable_contents()->resize(f.contents().size() / 2);
      return true;
    }
  }
  for (Process& p : *s.mutable_processes()) {
    if (p.mappings_size() || !p.name().empty()) {
      p.clear_name();
      if (p.mappings_size()) p.mutable_mappings()->RemoveLast();
      return true;
    }
  }
  for (Task& t : *s.mutable_tasks()) {
    if (!t.name().empty() || t.syscalls_size()) {
      t.clear_name();
      t.clear_syscalls();
      return true;
    }
  }
  return false;
}

}  // namespace

void ScheduleMutator::shrink_to(Schedule& s, size_t max_size) {
  Ctx c{s, rng_, limits_, labels_, *probe_};
  while (!fits(s, max_size) && shrink_once(c)) {
  }
}

std::string ScheduleMutator::mutate_into(const Schedule& from, Schedule& out, size_t max_size) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    out = from;
    Ctx c{out, rng_, limits_, labels_, *probe_};
    const Mutation& m = pick_mutation(rng_);
    if (!m.apply(c)) continue;
    normalize(out);
    if (validate_schedule(out)) continue;
    shrink_to(out, max_size);
    return m.name;
  }
  out = from;
  normalize(out);
  shrink_to(out, max_size);
  return "";
}

std::string ScheduleMutator::mutate(Schedule& s, size_t max_size) {
  Schedule out;
  std::string name = mutate_into(s, out, max_size);
  s = std::move(out);
  return name;
}

void ScheduleMutator::crossover_into(const Schedule& a, const Schedule& b, Schedule& child, size_t max_size) {
  child = a;
  Ctx c{child, rng_, limits_, labels_, *probe_};
  if (b.tasks_size() && child.processes_size() && (c.chance(60) || !b.decisions_size())) {
    // A task of b replaces (or joins) the tasks of a.
    Task t = b.tasks(int(c.below(uint64_t(b.tasks_size()))));
    if (t.process() >= uint32_t(child.processes_size())) t.set_process(0);
    if (child.tasks_size() && (c.chance(50) || uint32_t(child.tasks_size()) >= limits_.tasks))
      *child.mutable_tasks(int(c.below(uint64_t(child.tasks_size())))) = t;
    else if (uint32_t(child.tasks_size()) < limits_.tasks)
      *child.add_tasks() = t;
  }
  if (b.decisions_size()) {
    // A run of b's decisions joins a's.
    const int from = int(c.below(uint64_t(b.decisions_size())));
    const int n = int(1 + c.below(std::min<uint64_t>(8, uint64_t(b.decisions_size() - from))));
    for (int i = from; i < from + n && uint32_t(child.decisions_size()) < limits_.decisions; ++i) {
      Decision d = b.decisions(i);
      d.set_task(d.task() % decision_tasks(child));
      if (d.when_case() == Decision::kAt) d.mutable_at()->set_task(d.at().task() % decision_tasks(child));
      *child.add_decisions() = d;
    }
  }
  normalize(child);
  if (validate_schedule(child)) {
    child = a;
    normalize(child);
  }
  shrink_to(child, max_size);
}

Schedule ScheduleMutator::crossover(const Schedule& a, const Schedule& b, size_t max_size) {
  Schedule child;
  crossover_into(a, b, child, max_size);
  return child;
}

const Schedule* ScheduleMutator::recent_output(std::string_view bytes) const {
  for (const Decoded& o : outputs_)
    if (o.valid && o.bytes == bytes) return &o.schedule;
  return nullptr;
}

namespace {

// The oldest of the slots, skipping those that hold `busy`.
template <class Slot, size_t N>
Slot& oldest_slot(std::array<Slot, N>& slots, size_t& next, const Schedule* busy1, const Schedule* busy2) {
  for (;; ++next) {
    auto& slot = slots[next % N];
    if (&slot.schedule != busy1 && &slot.schedule != busy2) {
      ++next;
      slot.valid = false;
      return slot;
    }
  }
}

}  // namespace

const Schedule& ScheduleMutator::decode(std::string_view bytes, const Schedule* keep) {
  if (const Schedule* s = recent_output(bytes)) return *s;
  for (const Decoded& in : inputs_)
    if (in.valid && in.bytes == bytes) return in.schedule;
  Decoded& in = oldest_slot(inputs_, next_input_, keep, keep);
  if (parse_binary(bytes, &in.schedule) || validate_schedule(in.schedule)) in.schedule = starter_schedule();
  in.bytes.assign(bytes);
  in.valid = true;
  return in.schedule;
}

ScheduleMutator::Decoded& ScheduleMutator::next_output(const Schedule& in1, const Schedule& in2) {
  return oldest_slot(outputs_, next_output_, &in1, &in2);
}

size_t ScheduleMutator::emit(Decoded& o, uint8_t* out, size_t max_size) {
  const size_t n = o.schedule.ByteSizeLong();
  if (n > max_size) return 0;
  o.schedule.SerializeToArray(out, int(n));
  o.bytes.assign(reinterpret_cast<const char*>(out), n);
  o.valid = true;
  return n;
}

namespace {

std::string_view as_bytes(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace

size_t ScheduleMutator::mutate_bytes(uint8_t* data, size_t size, size_t max_size) {
  const Schedule& in = decode(as_bytes(data, size));
  Decoded& o = next_output(in, in);
  mutate_into(in, o.schedule, max_size);
  return emit(o, data, max_size);
}

size_t ScheduleMutator::crossover_bytes(const uint8_t* a, size_t a_size, const uint8_t* b, size_t b_size, uint8_t* out,
                                        size_t max_size) {
  const Schedule& first = decode(as_bytes(a, a_size));
  const Schedule& second = decode(as_bytes(b, b_size), &first);
  Decoded& o = next_output(first, second);
  crossover_into(first, second, o.schedule, max_size);
  return emit(o, out, max_size);
}

std::vector<std::string> dictionary_labels(const std::filesystem::path& dict) {
  std::vector<std::string> labels;
  std::ifstream in(dict);
  constexpr std::string_view kKey = "label=\"";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(kKey, 0) == 0 && line.size() > kKey.size() + 1 && line.back() == '"')
      labels.push_back(line.substr(kKey.size(), line.size() - kKey.size() - 1));
  return labels;
}

}  // namespace faultline
