#include "vmcore/sim/sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <set>

namespace faultline::sim {

namespace {
// Labels of the runtime's own events. Clang 14 crashes on explicit
// Label{"..."} casts, so labels are always made by conversion.
constexpr Label kTaskExit = "task:exit";
constexpr Label kSchedStart = "sched:start";
constexpr Label kHalt = "halt";
constexpr Label kWake = "wake";

thread_local Sim* t_sim = nullptr;

// Thrown by halt() to unwind the halting task's stack (so its locals are
// destroyed) up to task_entry, which then leaves the task for good.
struct HaltUnwind {};
}  // namespace

Sim& current_sim() { return *t_sim; }
Sim* running_sim() { return t_sim; }

TaskId default_choice(const SchedPoint& p) {
  if (p.current != kNoTask && (p.runnable & task_bit(p.current))) return p.current;
  return p.runnable ? static_cast<TaskId>(__builtin_ctz(p.runnable)) : kNoTask;
}

Sim::Sim(std::size_t stack_size) : stack_size_(stack_size) {
  events_.reserve(1 << 14);
  decisions_.reserve(256);
}

Sim::~Sim() = default;

void Sim::reset(Strategy& strategy, const RunLimits& limits) {
  strategy_ = &strategy;
  limits_ = limits;
  ntasks_ = 0;
  current_ = kNoTask;
  runnable_ = 0;
  starving_ = 0;
  yielding_ = kNoTask;
  repeating_ = 0;
  retrying_ = 0;
  periodic_ = 0;
  holding_off_ = 0;
  yielders_ = 0;
  hook_ = nullptr;
  hook_arg_ = nullptr;
  in_hook_ = false;
  step_ = 0;
  events_.clear();
  decisions_.clear();
  stop_ = Stop{};
  halted_ = false;
}

TaskId Sim::spawn(const char* name, TaskFn fn, void* arg, bool daemon) {
  if (ntasks_ >= kMaxTasks) std::abort();  // callers validate task counts first
  auto t = static_cast<TaskId>(ntasks_++);
  TaskSlot& s = tasks_[t];
  if (!s.stack) s.stack = std::make_unique<FiberStack>(stack_size_);
  s.fn = fn;
  s.arg = arg;
  s.name = name;
  s.state = TaskState::Runnable;
  s.daemon = daemon;
  s.wq = nullptr;
  s.wq_next = s.wq_prev = kNoTask;
  s.exclusive = false;
  s.waiting_for = nullptr;
  s.wait_kind = WaitKind::Sleep;
  s.nheld = 0;
  s.spin_depth = 0;
  s.retries = 0;
  s.starved_retries = 0;
  s.starved_by = 0;
  s.syscall = "";
  s.finite_ran = 0;
  s.repeaters_ran = 0;
  s.periodic_ran = false;
  s.periodic_retries = 0;
  make_context(s.ctx, *s.stack, &Sim::task_entry, &s);
  runnable_ |= task_bit(t);
  return t;
}

TaskId Sim::spawn_parked(const char* name, TaskFn fn, void* arg, WaitQueue& wq, const Waitable& what, Label label) {
  const TaskId t = spawn(name, fn, arg, true);
  TaskSlot& s = tasks_[t];
  enqueue(wq, t, QueuePos::Head);
  s.exclusive = false;
  s.waiting_for = &what;
  s.wait_label = label;
  s.wait_kind = WaitKind::Idle;
  s.state = TaskState::Blocked;
  runnable_ &= ~task_bit(t);
  return t;
}

void Sim::task_entry(void* arg) {
  Sim& sim = *t_sim;
  auto& slot = *static_cast<TaskSlot*>(arg);
  try {
    slot.fn(slot.arg);
    const TaskId me = sim.current_;
    if (slot.nheld) {
      sim.halt(StopKind::Violation,
               fmt::format("BUG: task {} ({}) exited holding {}\n", me, slot.name, describe(slot.held[0]->obj())),
               fmt::format("lock-held-at-exit:{}", obj_kind_name(slot.held[0]->obj().kind)));
    }
    sim.record(Event{sim.step_, me, EventKind::TaskExit, Access::None, kNoTask, kTaskExit, Obj{}, 0});
    slot.state = TaskState::Finished;
    sim.runnable_ &= ~task_bit(me);
    sim.reschedule_away(kTaskExit, Obj{});  // leaves this task for good (or halts)
  } catch (const HaltUnwind&) {
    const TaskId me = sim.current_;
    sim.current_ = kNoTask;
    exit_context(sim.tasks_[me].ctx, sim.main_);
  }
  std::abort();  // a finished task is never resumed
}

const Stop& Sim::run() {
  previous_sim_ = t_sim;
  t_sim = this;
  if (!strategy_->begin_execution(ExecutionInfo{ntasks_})) {
    stop_.kind = StopKind::Exhausted;
  } else if (runnable_ != 0) {
    const SchedPoint p{step_++, kNoTask, runnable_, EventKind::Point, kSchedStart, Obj{}, Access::None};
    TaskId first = strategy_->pick_next(p);
    const TaskId dflt = default_choice(p);
    if (first >= ntasks_ || !(runnable_ & task_bit(first))) first = dflt;
    if (first != dflt) decisions_.push_back({p.step, first, p.label});
    current_ = first;
    switch_context(main_, tasks_[first].ctx);
  }
  current_ = kNoTask;
  t_sim = previous_sim_;
  return stop_;
}

void Sim::record(const Event& e) { events_.push_back(e); }

uint64_t Sim::trace_hash() const {
  uint64_t h = kTraceHashSeed;
  for (const Event& e : events_) h = hash_event(h, e);
  return h;
}

void Sim::point(Label label, Obj obj, Access access, EventKind kind, int64_t arg) {
  record(Event{step_, current_, kind, access, kNoTask, label, obj, arg});
  if (kind == EventKind::SyscallBegin) {
    const std::string_view name = label.name;
    tasks_[current_].syscall = name.starts_with("syscall:") ? label.name + 8 : label.name;
  }
  if (hook_ && !in_hook_) {
    in_hook_ = true;
    hook_(hook_arg_);
    in_hook_ = false;
  }
  if (step_ >= limits_.max_steps)
    halt(StopKind::StepLimit, fmt::format("run exceeded the step limit of {} steps\n", limits_.max_steps),
         "step-limit");
  schedule(SchedPoint{step_++, current_, runnable_, kind, label, obj, access});
}

void Sim::note(EventKind kind, Label label, Obj obj, TaskId other, int64_t arg) {
  if (halted_) return;  // a halting task's stack is unwinding
  record(Event{step_, current_, kind, Access::None, other, label, obj, arg});
}

void Sim::schedule(const SchedPoint& p) {
  if (p.current != kNoTask && retrying_ & ~task_bit(p.current)) [[unlikely]] {
    // A looping task runs: the other retrying tasks' loops see it. A task of
    // finite work (no daemon) runs: their next retry may be its doing. So
    // does a looping task whose own call loops (past kFairRetries): two kernel
    // loops feeding each other are no user-space loop (see retry).
    const bool repeater = repeating_ & ~in_long_loop() & task_bit(p.current);
    if (repeater || !tasks_[p.current].daemon)
      for (TaskSet r = retrying_ & ~task_bit(p.current); r; r &= r - 1) {
        TaskSlot& t = tasks_[__builtin_ctz(r)];
        (repeater ? t.repeaters_ran : t.finite_ran) |= task_bit(p.current);
      }
    if (periodic_ & task_bit(p.current))
      for (TaskSet r = retrying_ & ~task_bit(p.current); r; r &= r - 1) tasks_[__builtin_ctz(r)].periodic_ran = true;
  }
  // A periodic daemon that ran between enough retries of a call waits for it.
  if (holding_off_ && (p.runnable & periodic_) && (p.runnable & ~periodic_)) [[unlikely]] {
    SchedPoint held = p;
    held.runnable &= ~periodic_;
    return schedule_allowed(held);
  }
  schedule_allowed(p);
}

void Sim::schedule_allowed(const SchedPoint& p) {
  // A task that waits in a retry loop for another's progress lets the others run.
  if (yielding_ != kNoTask && yielding_ == p.current) [[unlikely]] {
    yielding_ = kNoTask;
    if (const TaskSet others = p.runnable & ~task_bit(p.current) & ~yielders_) {
      SchedPoint forced = p;
      forced.runnable = others;
      return pick_and_switch(forced);
    }
  }
  // A task owed a fair run (see retry) is the only choice the strategy sees,
  // looping tasks apart (unless their own call loops): DFS does not branch
  // there, and a forced switch is no decision.
  if (const TaskSet owed = starving_ & p.runnable) [[unlikely]] {
    SchedPoint forced = p;
    forced.runnable =
        task_bit(p.current != kNoTask && (owed & task_bit(p.current)) ? p.current : TaskId(__builtin_ctz(owed))) |
        (p.runnable & repeating_ & ~in_long_loop());
    return pick_and_switch(forced);
  }
  pick_and_switch(p);
}

void Sim::pick_and_switch(const SchedPoint& p) {
  TaskId next = strategy_->pick_next(p);
  const TaskId dflt = default_choice(p);
  if (next >= ntasks_ || !(p.runnable & task_bit(next))) next = dflt;
  if (next != dflt) decisions_.push_back({p.step, next, p.label});
  if (next != current_) switch_to(next);
}

void Sim::switch_to(TaskId next) {
  const TaskId prev = current_;
  current_ = next;
  if (tasks_[prev].state == TaskState::Finished) exit_context(tasks_[prev].ctx, tasks_[next].ctx);
  switch_context(tasks_[prev].ctx, tasks_[next].ctx);
}

TaskSet Sim::live_user_tasks() const {
  TaskSet live = 0;
  for (TaskId t = 0; t < ntasks_; ++t) {
    const TaskSlot& s = tasks_[t];
    if (s.state == TaskState::Finished) continue;
    if (s.daemon && s.state == TaskState::Blocked && s.wait_kind == WaitKind::Idle) continue;
    live |= task_bit(t);
  }
  return live;
}

void Sim::reschedule_away(Label label, Obj obj) {
  if (runnable_ == 0) {
    if (live_user_tasks() == 0) finish_run();
    deadlock();
  }
  if (step_ >= limits_.max_steps)
    halt(StopKind::StepLimit, fmt::format("run exceeded the step limit of {} steps\n", limits_.max_steps),
         "step-limit");
  const EventKind kind = tasks_[current_].state == TaskState::Finished ? EventKind::TaskExit : EventKind::Block;
  schedule(SchedPoint{step_++, current_, runnable_, kind, label, obj, Access::None});
}

void Sim::finish_run() {
  stop_.kind = StopKind::Finished;
  const TaskId me = current_;
  current_ = kNoTask;
  exit_context(tasks_[me].ctx, main_);
}

void Sim::set_stop(StopKind kind, std::string report, std::string signature) {
  stop_.kind = kind;
  stop_.report = std::move(report);
  stop_.signature = std::move(signature);
  record(Event{step_, current_, EventKind::Violation, Access::None, kNoTask, kHalt, Obj{}, static_cast<int64_t>(kind)});
  halted_ = true;
}

void Sim::halt(StopKind kind, std::string report, std::string signature) {
  set_stop(kind, std::move(report), std::move(signature));
  throw HaltUnwind{};
}

void Sim::abandon(StopKind kind, std::string report, std::string signature) {
  set_stop(kind, std::move(report), std::move(signature));
  const TaskId me = current_;
  current_ = kNoTask;
  exit_context(tasks_[me].ctx, main_);
}

Sim::StackRange Sim::task_stack() const {
  if (current_ >= ntasks_ || !tasks_[current_].stack) return {};
  const FiberStack& st = *tasks_[current_].stack;
  const auto bottom = reinterpret_cast<uintptr_t>(st.bottom());
  return {bottom - st.guard_size(), bottom, bottom + st.size()};
}

std::string Sim::blocked_summary() const {
  std::string out;
  for (TaskId t = 0; t < ntasks_; ++t) {
    const TaskSlot& s = tasks_[t];
    if (s.state != TaskState::Blocked || s.wait_kind == WaitKind::Idle) continue;
    std::string holders;
    const TaskSet h = s.waiting_for ? s.waiting_for->holders() : 0;
    for (TaskId o = 0; o < ntasks_; ++o)
      if (h & task_bit(o)) holders += fmt::format("{}task {} ({})", holders.empty() ? "" : ", ", o, tasks_[o].name);
    const char* note = s.waiting_for ? s.waiting_for->holder_note() : "";
    if (holders.empty()) holders = *note ? note : "nobody";
    out += fmt::format("  task {} ({}) waits in {} for {}, held by {}\n", t, s.name, s.wait_label.name,
                       s.waiting_for ? describe(s.waiting_for->obj()) : "?", holders);
  }
  return out;
}

TaskSet Sim::blocked_tasks() const {
  TaskSet blocked = 0;
  for (TaskId t = 0; t < ntasks_; ++t)
    if (tasks_[t].state == TaskState::Blocked && tasks_[t].wait_kind != WaitKind::Idle) blocked |= task_bit(t);
  return blocked;
}

// The tasks on a cycle of the wait-for graph (t -> the holders of what t
// waits for), as lockdep would name them; tasks merely queued behind the
// cycle are left out, so one inversion keeps one signature however many
// bystanders pile up. Without a cycle (a wake-up nobody will send), every
// blocked task.
TaskSet Sim::deadlock_cycle() const {
  const TaskSet blocked = blocked_tasks();
  std::array<TaskSet, kMaxTasks> waits_for{};
  for (TaskId t = 0; t < ntasks_; ++t)
    if ((blocked & task_bit(t)) && tasks_[t].waiting_for) waits_for[t] = tasks_[t].waiting_for->holders() & blocked;
  TaskSet on_cycle = 0;
  for (TaskId t = 0; t < ntasks_; ++t) {
    TaskSet reach = waits_for[t];
    for (TaskSet frontier = reach; frontier;) {
      TaskSet next = 0;
      for (TaskId o = 0; o < ntasks_; ++o)
        if (frontier & task_bit(o)) next |= waits_for[o];
      frontier = next & ~reach;
      reach |= next;
    }
    if (reach & task_bit(t)) on_cycle |= task_bit(t);
  }
  return on_cycle ? on_cycle : blocked;
}

void Sim::deadlock() {
  // Built in a lambda, so that no container of this frame is live when halt() unwinds it.
  auto signature = [&] {
    // The lock classes of the cycle, as lockdep names an inversion: one bug
    // keeps one signature whichever call sites (lock_page, find_lock_page,
    // wait_on_page_locked) the kernel version waits in.
    const TaskSet cycle = deadlock_cycle();
    std::set<std::string> classes;
    for (TaskId t = 0; t < ntasks_; ++t) {
      if (!(cycle & task_bit(t))) continue;
      const TaskSlot& s = tasks_[t];
      std::string name = s.waiting_for ? obj_kind_name(s.waiting_for->obj().kind) : s.wait_label.name;
      std::replace(name.begin(), name.end(), ' ', '_');
      classes.insert(std::move(name));
    }
    std::string sig = "deadlock:";
    for (const std::string& c : classes) sig += (sig.back() == ':' ? "" : "|") + c;
    return sig;
  };
  std::string report = "INFO: task deadlock: no task can run\n" + blocked_summary();
  halt(StopKind::Deadlock, std::move(report), signature());
}

void Sim::enqueue(WaitQueue& wq, TaskId t, QueuePos pos) {
  TaskSlot& s = tasks_[t];
  s.wq = &wq;
  if (wq.head_ == kNoTask) {
    s.wq_next = s.wq_prev = kNoTask;
    wq.head_ = wq.tail_ = t;
  } else if (pos == QueuePos::Head) {
    s.wq_prev = kNoTask;
    s.wq_next = wq.head_;
    tasks_[wq.head_].wq_prev = t;
    wq.head_ = t;
  } else {
    s.wq_next = kNoTask;
    s.wq_prev = wq.tail_;
    tasks_[wq.tail_].wq_next = t;
    wq.tail_ = t;
  }
}

void Sim::dequeue(TaskId t) {
  TaskSlot& s = tasks_[t];
  WaitQueue& wq = *s.wq;
  if (s.wq_prev != kNoTask)
    tasks_[s.wq_prev].wq_next = s.wq_next;
  else
    wq.head_ = s.wq_next;
  if (s.wq_next != kNoTask)
    tasks_[s.wq_next].wq_prev = s.wq_prev;
  else
    wq.tail_ = s.wq_prev;
  s.wq = nullptr;
  s.wq_next = s.wq_prev = kNoTask;
}

void Sim::might_sleep(Label label) {
  const TaskSlot& s = tasks_[current_];
  if (s.spin_depth == 0) return;
  // Built in a lambda, so that no string of this frame is live when halt() unwinds it.
  auto report = [&] {
    std::string held;
    for (int i = 0; i < s.nheld; ++i) held += fmt::format("{}{}", i ? ", " : "", describe(s.held[i]->obj()));
    return fmt::format(
        "BUG: sleeping function called from invalid context at {}\n"
        "  task {} ({}) holds {} spinlock(s); held: {}\n",
        label.name, current_, s.name, s.spin_depth, held);
  };
  halt(StopKind::Violation, report(), fmt::format("sleep-in-atomic:{}", label.name));
}

void Sim::go_to_sleep(const Waitable& what, Label label, WaitKind kind) {
  const TaskId me = current_;
  TaskSlot& s = tasks_[me];
  if (kind == WaitKind::Sleep) might_sleep(label);
  s.waiting_for = &what;
  s.wait_label = label;
  s.wait_kind = kind;
  s.state = TaskState::Blocked;
  runnable_ &= ~task_bit(me);
  record(Event{step_, me, EventKind::Block, Access::None, kNoTask, label, what.obj(), 0});
  reschedule_away(label, what.obj());
  s.waiting_for = nullptr;
  s.wait_kind = WaitKind::Sleep;
}

void Sim::block(WaitQueue& wq, QueuePos pos, bool exclusive, const Waitable& what, Label label, WaitKind kind) {
  enqueue(wq, current_, pos);
  tasks_[current_].exclusive = exclusive;
  go_to_sleep(what, label, kind);
}

void Sim::sleep(const Waitable& what, Label label, WaitKind kind) { go_to_sleep(what, label, kind); }

void Sim::wake(TaskId t, Obj obj) {
  TaskSlot& s = tasks_[t];
  if (s.state != TaskState::Blocked) return;
  s.state = TaskState::Runnable;
  runnable_ |= task_bit(t);
  record(Event{step_, t, EventKind::Wake, Access::None, current_, kWake, obj, 0});
}

void Sim::wake_up(WaitQueue& wq, int nr_exclusive, Obj obj) {
  int budget = nr_exclusive > 0 ? nr_exclusive : INT_MAX;
  TaskId t = wq.head_;
  while (t != kNoTask) {
    const TaskId next = tasks_[t].wq_next;
    const bool exclusive = tasks_[t].exclusive;
    dequeue(t);
    wake(t, obj);
    if (exclusive && --budget == 0) break;
    t = next;
  }
}

void Sim::held_push(const Waitable& lock, bool spin) {
  TaskSlot& s = tasks_[current_];
  if (s.nheld == kMaxHeld)
    halt(StopKind::Violation, fmt::format("BUG: task {} holds more than {} locks\n", current_, kMaxHeld), "lock-depth");
  s.held[s.nheld++] = &lock;
  if (spin) ++s.spin_depth;
}

bool Sim::held_pop(const Waitable& lock, bool spin) {
  TaskSlot& s = tasks_[current_];
  for (int i = s.nheld - 1; i >= 0; --i) {
    if (s.held[i] != &lock) continue;
    for (int j = i; j + 1 < s.nheld; ++j) s.held[j] = s.held[j + 1];
    --s.nheld;
    if (spin) --s.spin_depth;
    return true;
  }
  return false;
}

bool Sim::holds(TaskId t, const Waitable& lock) const {
  const TaskSlot& s = tasks_[t];
  return std::find(s.held.begin(), s.held.begin() + s.nheld, &lock) != s.held.begin() + s.nheld;
}

void Sim::starve(Label label) {
  const TaskSlot& s = tasks_[current_];
  // Built in a lambda, so that no string of this frame is live when halt() unwinds it.
  auto report = [&] {
    std::string by;
    for (TaskId t = 0; t < ntasks_; ++t)
      if (s.starved_by & task_bit(t)) by += fmt::format("{}task {} ({})", by.empty() ? "" : ", ", t, tasks_[t].name);
    return fmt::format(
        "INFO: starvation: task {} ({}) took the retry at {} {} times in one call, each time after {} ran: "
        "the loop goes on as long as they do\n",
        current_, s.name, label.name, s.starved_retries, by);
  };
  // Named after the starved syscall and the lock it keeps the others out of
  // ("starvation:write:i_mutex"): what the loop costs everyone else, the
  // same whichever retries of the loop it took.
  auto signature = [&] {
    std::set<std::string> locks;
    for (uint32_t i = 0; i < s.nheld; ++i)
      if (s.held[i]->keeps_others_out(current_)) locks.emplace(obj_kind_name(s.held[i]->obj().kind));
    std::string sig = fmt::format("starvation:{}:", s.syscall);
    for (const std::string& l : locks) sig += (sig.back() == ':' ? "" : "|") + l;
    return sig;
  };
  halt(StopKind::Livelock, report(), signature());
}

void Sim::retry(Label label) {
  TaskSlot& s = tasks_[current_];
  note(EventKind::Retry, label, Obj{}, kNoTask, s.retries + 1);
  retrying_ |= task_bit(current_);
  if (s.repeaters_ran) [[unlikely]] {
    // Only a loop that holds a lock exclusively starves others with it, and
    // only one that the looping tasks alone keep going (see sim.h).
    if (!s.finite_ran && std::any_of(s.held.begin(), s.held.begin() + s.nheld,
                                     [this](const Waitable* l) { return l->keeps_others_out(current_); })) {
      s.starved_by |= s.repeaters_ran;
      if (++s.starved_retries >= kStarvationRetries) starve(label);
    }
    s.repeaters_ran = 0;
  }
  s.finite_ran = 0;
  if (s.periodic_ran) {
    s.periodic_ran = false;
    if (++s.periodic_retries >= kFairRetries) holding_off_ |= task_bit(current_);
  }
  if (++s.retries >= 2 * kFairRetries) {
    starving_ &= ~task_bit(current_);
    yielders_ |= task_bit(current_);
    yielding_ = current_;
  } else if (s.retries >= kFairRetries) {
    starving_ |= task_bit(current_);
  }
  if (s.retries > limits_.max_retries)
    halt(StopKind::Livelock,
         fmt::format("INFO: livelock: task {} ({}) took the retry at {} more than {} times in one call\n", current_,
                     s.name, label.name, limits_.max_retries),
         fmt::format("livelock:{}", label.name));
}

}  // namespace faultline::sim
