// The deterministic runtime: simulated kernel tasks are fibers on one OS
// thread; they switch only at schedule points, and the strategy decides every
// switch. A run is therefore a pure function of the strategy's choices.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmcore/sim/event.h"
#include "vmcore/sim/fiber.h"
#include "vmcore/sim/strategy.h"

namespace faultline::sim {

// Exhausted: the strategy had no execution left; nothing ran.
enum class StopKind : uint8_t { Finished, Violation, Deadlock, Livelock, StepLimit, Exhausted };

struct Stop {
  StopKind kind = StopKind::Finished;
  std::string report;     // multi-line, kernel-oops style
  std::string signature;  // stable one line: no steps, frames or addresses
};

struct RunLimits {
  uint32_t max_steps = 200000;
  uint32_t max_retries = 256;  // a task passing one retry edge more often is livelocked
};

struct RecordedDecision {
  uint32_t step = 0;
  TaskId task = kNoTask;
  Label label;  // the point at which the switch was taken
};

// Something a task can wait for: the deadlock report asks it who holds it.
class Waitable {
 public:
  explicit Waitable(Obj obj) : obj_(obj) {}
  Obj obj() const { return obj_; }
  void set_obj(Obj o) { obj_ = o; }
  virtual TaskSet holders() const { return 0; }
  // Whether holder t keeps other tasks out of it across sleeps (a reader of
  // an rwsem does not; a spinlock is never held across a sleep).
  virtual bool keeps_others_out(TaskId t) const { return true; }
  virtual const char* holder_note() const { return ""; }

 protected:
  ~Waitable() = default;

 private:
  Obj obj_;
};

// Sleeping tasks in FIFO order. Non-exclusive waiters queue at the head and
// exclusive ones at the tail, and a wake-up stops after nr_exclusive exclusive
// waiters, as the kernel's __wake_up_common does.
class WaitQueue {
 public:
  bool empty() const { return head_ == kNoTask; }

 private:
  friend class Sim;
  TaskId head_ = kNoTask;
  TaskId tail_ = kNoTask;
};

enum class QueuePos : uint8_t { Head, Tail };

class Sim;
// The running Sim of this thread (set while Sim::run executes).
Sim& current_sim();
// The Sim running on this thread, or nullptr outside a run.
Sim* running_sim();

class Sim {
 public:
  static constexpr int kMaxHeld = 16;
  using TaskFn = void (*)(void* arg);
  using StepHook = void (*)(void* arg);

  explicit Sim(std::size_t stack_size = 256 * 1024);
  ~Sim();
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  // --- setting up a run -------------------------------------------------
  void reset(Strategy& strategy, const RunLimits& limits);
  TaskId spawn(const char* name, TaskFn fn, void* arg, bool daemon = false);
  // A daemon that starts asleep on wq (idle): it first runs when woken, so it
  // takes no scheduling decision until there is work for it.
  TaskId spawn_parked(const char* name, TaskFn fn, void* arg, WaitQueue& wq, const Waitable& what, Label label);
  // Called at every schedule point before the strategy chooses: state checks.
  void set_step_hook(StepHook hook, void* arg) { hook_ = hook, hook_arg_ = arg; }
  // Runs until every task has finished (daemons may stay idle) or a stop.
  const Stop& run();

  // --- inside tasks -------------------------------------------------------
  TaskId current() const { return current_; }
  const char* task_name(TaskId t) const { return tasks_[t].name; }
  uint32_t ntasks() const { return ntasks_; }

  // A schedule point: record the event, run the step hook, let the strategy
  // pick who runs next. Every point precedes the action it names.
  void point(Label label, Obj obj, Access access, EventKind kind = EventKind::Point, int64_t arg = 0);
  // An event that is not a schedule point (acquired, syscall boundaries).
  void note(EventKind kind, Label label, Obj obj, TaskId other = kNoTask, int64_t arg = 0);
  // Function entry/exit events (for traces): off unless asked for. They are
  // not part of the trace hash, so a run hashes the same either way.
  void set_record_calls(bool on) { record_calls_ = on; }
  void call_event(EventKind kind, Label fn) {
    if (record_calls_ && !halted_) record(Event{step_, current_, kind, Access::None, kNoTask, fn, Obj{}, 0});
  }
  // An access made under a lock: recorded for coverage, not a schedule point.
  void access(Label label, Obj obj, Access access) {
    if (!halted_) record(Event{step_, current_, EventKind::Access, access, kNoTask, label, obj, 0});
  }

  // How a task waits: sleeping (not allowed under a spinlock), spinning for a
  // spinlock, or a daemon idling for work (does not keep the run alive).
  enum class WaitKind : uint8_t { Sleep, Spin, Idle };

  // Sleep on wq until woken; `what` is what the deadlock report shows.
  void block(WaitQueue& wq, QueuePos pos, bool exclusive, const Waitable& what, Label label,
             WaitKind kind = WaitKind::Sleep);
  // Wakes waiters in queue order; stops after nr_exclusive exclusive ones (0 = all).
  void wake_up(WaitQueue& wq, int nr_exclusive, Obj obj);
  // Sleep until some primitive that keeps its own waiter list calls wake(t).
  void sleep(const Waitable& what, Label label, WaitKind kind = WaitKind::Sleep);
  void wake(TaskId t, Obj obj);
  // The kernel's might_sleep(): sleeping locks may not be taken under a spinlock.
  void might_sleep(Label label);

  // Lock bookkeeping for misuse checks and deadlock reports.
  void held_push(const Waitable& lock, bool spin);
  bool held_pop(const Waitable& lock, bool spin);
  bool holds(TaskId t, const Waitable& lock) const;
  int spin_depth(TaskId t) const { return tasks_[t].spin_depth; }
  int held_count(TaskId t) const { return tasks_[t].nheld; }
  const Waitable* held_lock(TaskId t, int i) const { return tasks_[t].held[i]; }

  // A retry edge (goto retry): counts toward the livelock limit.
  //
  // Fairness: strategies may starve a task (PCT keeps a high-priority task
  // running), and a task can retry forever only because another one always
  // undoes its progress in between. A task that took kFairRetries retry edges
  // in one call is not preempted by other tasks of finite work until the call
  // ends. A loop can also wait for another task's progress (a fault that
  // returns VM_FAULT_NOPAGE until a truncate unmaps the page): after
  // 2 * kFairRetries retries with the fair run, the task yields at each retry
  // to the other runnable tasks instead, as another CPU would run them, but
  // not to another task yielding so: two loops undoing each other's work in
  // turn would take turns forever, which two CPUs running both at once do
  // not (a truncate's rescan and a read() re-adding the page it drops). A
  // livelock is a task that still reaches max_retries.
  //
  // Starvation: tasks that loop (user space repeating its syscalls, see
  // set_repeating) run on as on other CPUs, fair run or not. A retry edge of
  // one call taken kStarvationRetries times with such a task running between
  // each two is a loop those tasks keep going (a hole punch whose truncation
  // restarts while faults refill the hole): the run stops with a livelock
  // "starvation:<syscall>:<the lock it holds>" naming them. Only retries
  // taken while the task holds a sleeping lock exclusively (a mutex, an rwsem
  // for write), with only looping tasks (and daemons) running since the last
  // one, and none of them past kFairRetries in its own call, count: such a
  // loop keeps every task that needs the lock out too (CVE-2014-4171's punch
  // holds i_mutex). A lock-free retry against a looping task (read() finding
  // its page truncated or invalidated again) is the kernel's optimistic
  // retry, each round costing the other side a whole syscall. A loop the
  // kernel bounds never gets there.
  static constexpr uint32_t kFairRetries = 16;
  static constexpr uint32_t kStarvationRetries = 32;
  void retry(Label label);
  void reset_retries() {
    TaskSlot& s = tasks_[current_];
    s.retries = 0;
    s.starved_retries = 0;
    s.starved_by = 0;
    s.repeaters_ran = 0;
    s.finite_ran = 0;
    s.periodic_ran = false;
    s.periodic_retries = 0;
    starving_ &= ~task_bit(current_);
    retrying_ &= ~task_bit(current_);
    holding_off_ &= ~task_bit(current_);
    yielders_ &= ~task_bit(current_);
    if (yielding_ == current_) yielding_ = kNoTask;
  }
  // The task loops (user space repeating its syscalls).
  void set_repeating(TaskId t) { repeating_ |= task_bit(t); }
  // Tasks past kFairRetries retries in their current call.
  TaskSet in_long_loop() const { return starving_ | yielders_; }
  // A daemon that runs now and then (background writeback every few
  // seconds), not whenever there is work: between the retries of one call,
  // a loop of microseconds, it runs at most kFairRetries times, then waits
  // for the call to end unless nothing else can run. The I/O completion a
  // task waits for is no such daemon.
  void set_periodic(TaskId t) { periodic_ |= task_bit(t); }

  // Ends the run from inside a task: unwinds the halting task's stack (its
  // locals are destroyed) and leaves it. Other tasks' stacks stay where they
  // stand, so model code must not own heap memory in frames that can block.
  [[noreturn]] void halt(StopKind kind, std::string report, std::string signature);
  // The same without unwinding: after a fault in model code (see
  // mm::install_oops_handler) the halting task's frames are not trusted; it
  // is left where it stands, its locals not destroyed.
  [[noreturn]] void abandon(StopKind kind, std::string report, std::string signature);
  // The running task's fiber stack, for the fault handler: the guard page
  // is [guard, bottom), the stack [bottom, top); all 0 outside a task.
  struct StackRange {
    uintptr_t guard = 0, bottom = 0, top = 0;
    bool holds(uintptr_t a) const { return a >= guard && a < top; }
    bool in_guard(uintptr_t a) const { return a >= guard && a < bottom; }
  };
  StackRange task_stack() const;

  uint64_t random_u64() { return strategy_->random_u64(); }

  // --- results ------------------------------------------------------------
  const Stop& stop() const { return stop_; }
  uint32_t steps() const { return step_; }
  // The 64-bit hash of the run's events (computed on first use).
  uint64_t trace_hash() const;
  const std::vector<Event>& events() const { return events_; }
  const std::vector<RecordedDecision>& decisions() const { return decisions_; }
  // The label of the point where a task is blocked, for reports.
  std::string blocked_summary() const;

 private:
  void set_stop(StopKind kind, std::string report, std::string signature);
  TaskSet blocked_tasks() const;
  TaskSet deadlock_cycle() const;
  enum class TaskState : uint8_t { Runnable, Blocked, Finished };

  struct TaskSlot {
    Context ctx;
    std::unique_ptr<FiberStack> stack;
    TaskFn fn = nullptr;
    void* arg = nullptr;
    const char* name = "";
    TaskState state = TaskState::Runnable;
    bool daemon = false;
    // wait-queue membership
    WaitQueue* wq = nullptr;
    TaskId wq_next = kNoTask;
    TaskId wq_prev = kNoTask;
    bool exclusive = false;
    const Waitable* waiting_for = nullptr;
    Label wait_label;
    WaitKind wait_kind = WaitKind::Sleep;
    // held locks
    std::array<const Waitable*, kMaxHeld> held{};
    uint8_t nheld = 0;
    uint8_t spin_depth = 0;
    uint32_t retries = 0;
    // Starvation: retries with a looping task running since the one before,
    // those tasks, and the looping tasks that ran since the last retry.
    uint32_t starved_retries = 0;
    TaskSet starved_by = 0;
    const char* syscall = "";  // the syscall it is in ("write")
    TaskSet finite_ran = 0;  // tasks of finite work that ran since the last retry
    TaskSet repeaters_ran = 0;
    bool periodic_ran = false;      // a periodic daemon ran since the last retry
    uint32_t periodic_retries = 0;  // retries after which one had
  };

  static void task_entry(void* arg);
  [[noreturn]] void starve(Label label);
  void record(const Event& e);
  void schedule(const SchedPoint& p);
  void schedule_allowed(const SchedPoint& p);  // after the periodic daemons' hold-off
  void pick_and_switch(const SchedPoint& p);
  void switch_to(TaskId next);
  void reschedule_away(Label label, Obj obj);  // the current task cannot continue
  void go_to_sleep(const Waitable& what, Label label, WaitKind kind);
  [[noreturn]] void finish_run();
  [[noreturn]] void deadlock();
  void enqueue(WaitQueue& wq, TaskId t, QueuePos pos);
  void dequeue(TaskId t);
  TaskSet live_user_tasks() const;

  std::size_t stack_size_;
  std::array<TaskSlot, kMaxTasks> tasks_;
  uint32_t ntasks_ = 0;
  TaskId current_ = kNoTask;
  TaskSet runnable_ = 0;
  TaskSet starving_ = 0;       // tasks owed a fair run (see retry)
  TaskId yielding_ = kNoTask;  // yields at its next point (see retry)
  TaskSet repeating_ = 0;      // tasks that loop (see set_repeating)
  TaskSet retrying_ = 0;       // tasks that took a retry edge in their current call
  TaskSet periodic_ = 0;       // periodic daemons (see set_periodic)
  TaskSet holding_off_ = 0;    // retrying tasks that keep the periodic daemons waiting
  TaskSet yielders_ = 0;       // tasks past their fair run, yielding at each retry
  Context main_;
  Strategy* strategy_ = nullptr;
  RunLimits limits_;
  StepHook hook_ = nullptr;
  void* hook_arg_ = nullptr;
  bool in_hook_ = false;

  uint32_t step_ = 0;
  std::vector<Event> events_;
  std::vector<RecordedDecision> decisions_;
  Stop stop_;
  bool halted_ = false;
  bool record_calls_ = false;
  Sim* previous_sim_ = nullptr;
};

}  // namespace faultline::sim
