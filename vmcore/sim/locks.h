// Kernel locking primitives with kernel semantics, built on the runtime.
// Every acquire is a schedule point before the attempt and every release a
// schedule point after it, so no interleaving around a critical section is lost.
#pragma once

#include <array>
#include <cstdint>

#include "vmcore/sim/sim.h"

namespace faultline::sim {

// A lock with one owner and a queue of waiters: the common part of spinlock_t
// and struct mutex.
class OwnedLock : public Waitable {
 public:
  TaskId owner() const { return owner_; }
  TaskSet holders() const override { return owner_ == kNoTask ? 0 : task_bit(owner_); }

 protected:
  explicit OwnedLock(Obj obj) : Waitable(obj) {}
  ~OwnedLock() = default;

  struct Policy {
    bool spin;           // counts as a spinlock (sleeping under it is a bug)
    bool exclusive;      // waiters are woken one at a time
    QueuePos retry_pos;  // where a woken waiter that lost the race waits again
    Sim::WaitKind wait;
    const char* recursion;  // misuse reports
    const char* unheld;
  };
  void acquire(Label label, const Policy& policy);
  void release(Label label, const Policy& policy);

 private:
  TaskId owner_ = kNoTask;
  TaskId last_owner_ = kNoTask;
  WaitQueue waiters_;
};

// spinlock_t: busy-waits (not a sleep), unfair: all spinners retry on release.
class SpinLock final : public OwnedLock {
 public:
  explicit SpinLock(Obj obj = {}) : OwnedLock(obj) {}
  void lock(Label label) { acquire(label, kPolicy); }
  void unlock(Label label) { release(label, kPolicy); }
  bool keeps_others_out(TaskId) const override { return false; }

 private:
  static constexpr Policy kPolicy{
      true, false, QueuePos::Tail, Sim::WaitKind::Spin, "spinlock recursion", "spin_unlock of a lock not held"};
};

// struct mutex (2.6.20): waiters queue FIFO; unlock wakes the first waiter,
// which retries and may lose the race to a newcomer, keeping its place.
class Mutex final : public OwnedLock {
 public:
  explicit Mutex(Obj obj = {}) : OwnedLock(obj) {}
  void lock(Label label) {
    current_sim().might_sleep(label);
    acquire(label, kPolicy);
  }
  void unlock(Label label) { release(label, kPolicy); }

 private:
  static constexpr Policy kPolicy{
      false, true, QueuePos::Head, Sim::WaitKind::Sleep, "mutex recursion", "mutex_unlock of a mutex not held"};
};

// struct rw_semaphore (2.6.20 lib/rwsem.c): FIFO with hand-off. A reader queues
// behind any waiter, so queued writers are preferred; a release grants the lock
// to the writer at the head, or to every reader at the head up to a writer.
class RwSemaphore final : public Waitable {
 public:
  explicit RwSemaphore(Obj obj = {}) : Waitable(obj) {}
  void down_read(Label label);
  void up_read(Label label);
  void down_write(Label label);
  void up_write(Label label);
  TaskId writer() const { return writer_; }
  bool keeps_others_out(TaskId t) const override { return writer_ == t; }
  int readers() const { return nreaders_; }
  TaskSet holders() const override;

 private:
  struct Waiter {
    TaskId task;
    bool write;
  };
  void grant();

  TaskId writer_ = kNoTask;
  TaskSet reader_set_ = 0;
  int nreaders_ = 0;
  TaskId last_owner_ = kNoTask;
  std::array<Waiter, kMaxTasks> queue_{};
  uint8_t nqueued_ = 0;
};

// A sleeping bit lock with a wait queue: PG_locked (lock_page, trylock_page,
// unlock_page, wait_on_page_locked) and, without the lock calls, PG_writeback.
// It has no owner: whoever locked it (or the I/O it started) unlocks it.
class BitLock final : public Waitable {
 public:
  explicit BitLock(Obj obj = {}) : Waitable(obj) {}
  void lock(Label label);              // __lock_page: exclusive waiter at the tail
  bool trylock(Label label);           // TestSetPageLocked
  void unlock(Label label);            // clear, wake all non-exclusive and one exclusive waiter
  void wait_until_clear(Label label);  // wait_on_bit: non-exclusive waiter at the head
  // SetPageLocked on a page nobody else can see yet (add_to_page_cache).
  void set_locked_private() { bit_ = true, locker_ = current_sim().current(); }
  // The bit without lock semantics (PG_writeback).
  void set_bit() { bit_ = true; }
  void clear_bit_and_wake(Label label);
  bool test() const { return bit_; }
  void reset() { bit_ = false, locker_ = kNoTask, last_owner_ = kNoTask; }
  TaskSet holders() const override { return bit_ && locker_ != kNoTask ? task_bit(locker_) : 0; }
  const char* holder_note() const override { return bit_ ? "in-flight I/O" : "nobody"; }

 private:
  bool bit_ = false;
  TaskId locker_ = kNoTask;
  TaskId last_owner_ = kNoTask;
  WaitQueue wq_;
};

// A wait-for-event queue (I/O completion, daemon work): wait until cond().
class EventQueue final : public Waitable {
 public:
  explicit EventQueue(Obj obj = {}) : Waitable(obj) {}
  template <class Cond>
  void wait(Label label, Cond cond, Sim::WaitKind kind = Sim::WaitKind::Sleep) {
    Sim& sim = current_sim();
    while (!cond()) sim.block(wq_, QueuePos::Head, false, *this, label, kind);
  }
  void wake_all() { current_sim().wake_up(wq_, 0, obj()); }
  // A daemon that waits on this queue from the start (see Sim::spawn_parked).
  TaskId spawn_waiter(Sim& sim, const char* name, Sim::TaskFn fn, void* arg, Label label) {
    return sim.spawn_parked(name, fn, arg, wq_, *this, label);
  }

 private:
  WaitQueue wq_;
};

}  // namespace faultline::sim
