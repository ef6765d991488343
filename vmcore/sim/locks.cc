#include "vmcore/sim/locks.h"

#include <fmt/format.h>

namespace faultline::sim {

namespace {

[[noreturn]] void misuse(const Waitable& lock, Label label, const char* what) {
  Sim& sim = current_sim();
  const TaskId me = sim.current();
  sim.halt(StopKind::Violation,
           fmt::format("BUG: {} at {}\n  task {} ({}), lock {}\n", what, label.name, me, sim.task_name(me),
                       describe(lock.obj())),
           fmt::format("lock-misuse:{}:{}", what, label.name));
}

TaskId handoff_from(TaskId last, TaskId me) { return last == me ? kNoTask : last; }

}  // namespace

// --- SpinLock and Mutex --------------------------------------------------------

void OwnedLock::acquire(Label label, const Policy& policy) {
  Sim& sim = current_sim();
  sim.point(label, obj(), Access::Write, EventKind::Acquire);
  const TaskId me = sim.current();
  QueuePos pos = QueuePos::Tail;
  while (owner_ != kNoTask) {
    if (owner_ == me) misuse(*this, label, policy.recursion);
    sim.block(waiters_, pos, policy.exclusive, *this, label, policy.wait);
    pos = policy.retry_pos;
  }
  owner_ = me;
  sim.held_push(*this, policy.spin);
  sim.note(EventKind::Acquired, label, obj(), handoff_from(last_owner_, me));
}

void OwnedLock::release(Label label, const Policy& policy) {
  Sim& sim = current_sim();
  const TaskId me = sim.current();
  if (owner_ != me) misuse(*this, label, policy.unheld);
  owner_ = kNoTask;
  last_owner_ = me;
  sim.held_pop(*this, policy.spin);
  sim.wake_up(waiters_, policy.exclusive ? 1 : 0, obj());
  sim.point(label, obj(), Access::Write, EventKind::Release);
}

// --- RwSemaphore ---------------------------------------------------------------

TaskSet RwSemaphore::holders() const { return reader_set_ | (writer_ == kNoTask ? 0 : task_bit(writer_)); }

void RwSemaphore::down_read(Label label) {
  Sim& sim = current_sim();
  sim.might_sleep(label);
  sim.point(label, obj(), Access::Read, EventKind::Acquire);
  const TaskId me = sim.current();
  if (writer_ == me) misuse(*this, label, "down_read while holding the rwsem for write");
  if (writer_ == kNoTask && nqueued_ == 0) {
    ++nreaders_;
    reader_set_ |= task_bit(me);
  } else {
    queue_[nqueued_++] = Waiter{me, false};
    sim.sleep(*this, label);  // grant() made us a reader before waking us
  }
  sim.held_push(*this, false);
  sim.note(EventKind::Acquired, label, obj(), handoff_from(last_owner_, me));
}

void RwSemaphore::down_write(Label label) {
  Sim& sim = current_sim();
  sim.might_sleep(label);
  sim.point(label, obj(), Access::Write, EventKind::Acquire);
  const TaskId me = sim.current();
  if (writer_ == me || (reader_set_ & task_bit(me))) misuse(*this, label, "down_write while holding the rwsem");
  if (writer_ == kNoTask && nreaders_ == 0 && nqueued_ == 0) {
    writer_ = me;
  } else {
    queue_[nqueued_++] = Waiter{me, true};
    sim.sleep(*this, label);
  }
  sim.held_push(*this, false);
  sim.note(EventKind::Acquired, label, obj(), handoff_from(last_owner_, me));
}

void RwSemaphore::up_read(Label label) {
  Sim& sim = current_sim();
  const TaskId me = sim.current();
  if (!(reader_set_ & task_bit(me))) misuse(*this, label, "up_read of an rwsem not held for read");
  --nreaders_;
  reader_set_ &= ~task_bit(me);
  last_owner_ = me;
  sim.held_pop(*this, false);
  if (nreaders_ == 0 && nqueued_ > 0) grant();
  sim.point(label, obj(), Access::Read, EventKind::Release);
}

void RwSemaphore::up_write(Label label) {
  Sim& sim = current_sim();
  const TaskId me = sim.current();
  if (writer_ != me) misuse(*this, label, "up_write of an rwsem not held for write");
  writer_ = kNoTask;
  last_owner_ = me;
  sim.held_pop(*this, false);
  if (nqueued_ > 0) grant();
  sim.point(label, obj(), Access::Write, EventKind::Release);
}

void RwSemaphore::grant() {
  Sim& sim = current_sim();
  int taken = 0;
  if (queue_[0].write) {
    writer_ = queue_[0].task;
    sim.wake(writer_, obj());
    taken = 1;
  } else {
    while (taken < nqueued_ && !queue_[taken].write) {
      ++nreaders_;
      reader_set_ |= task_bit(queue_[taken].task);
      sim.wake(queue_[taken].task, obj());
      ++taken;
    }
  }
  for (int i = taken; i < nqueued_; ++i) queue_[i - taken] = queue_[i];
  nqueued_ = static_cast<uint8_t>(nqueued_ - taken);
}

// --- BitLock -------------------------------------------------------------------

void BitLock::lock(Label label) {
  Sim& sim = current_sim();
  sim.might_sleep(label);
  sim.point(label, obj(), Access::Write, EventKind::Acquire);
  const TaskId me = sim.current();
  while (bit_) sim.block(wq_, QueuePos::Tail, true, *this, label);
  bit_ = true;
  locker_ = me;
  sim.note(EventKind::Acquired, label, obj(), handoff_from(last_owner_, me));
}

bool BitLock::trylock(Label label) {
  Sim& sim = current_sim();
  sim.point(label, obj(), Access::Write, EventKind::Acquire);
  if (bit_) return false;
  const TaskId me = sim.current();
  bit_ = true;
  locker_ = me;
  sim.note(EventKind::Acquired, label, obj(), handoff_from(last_owner_, me));
  return true;
}

void BitLock::unlock(Label label) {
  Sim& sim = current_sim();
  if (!bit_) misuse(*this, label, "unlock of an unlocked page");
  bit_ = false;
  last_owner_ = sim.current();
  locker_ = kNoTask;
  sim.wake_up(wq_, 1, obj());
  sim.point(label, obj(), Access::Write, EventKind::Release);
}

void BitLock::wait_until_clear(Label label) {
  Sim& sim = current_sim();
  sim.might_sleep(label);
  sim.point(label, obj(), Access::Read);
  while (bit_) sim.block(wq_, QueuePos::Head, false, *this, label);
}

void BitLock::clear_bit_and_wake(Label label) {
  Sim& sim = current_sim();
  bit_ = false;
  sim.wake_up(wq_, 0, obj());
  sim.point(label, obj(), Access::Write, EventKind::Release);
}

}  // namespace faultline::sim
