// Kernel-style lock calls over the runtime's primitives. Each call site names
// itself ("function:spot"), which becomes the schedule point's label.
#pragma once

#include "vmcore/kernel/kernel.h"

namespace faultline::mm {

inline void spin_lock(sim::SpinLock* l, sim::Label where) { l->lock(where); }
inline void spin_unlock(sim::SpinLock* l, sim::Label where) { l->unlock(where); }
// tree_lock is an rwlock_t in 2.6.20. Its critical sections hold no schedule
// point, so readers overlapping or not is unobservable: a spinlock suffices.
inline void read_lock_irq(sim::SpinLock* l, sim::Label where) { l->lock(where); }
inline void read_unlock_irq(sim::SpinLock* l, sim::Label where) { l->unlock(where); }
inline void write_lock_irq(sim::SpinLock* l, sim::Label where) { l->lock(where); }
inline void write_unlock_irq(sim::SpinLock* l, sim::Label where) { l->unlock(where); }
inline void mutex_lock(sim::Mutex* m, sim::Label where) { m->lock(where); }
inline void mutex_unlock(sim::Mutex* m, sim::Label where) { m->unlock(where); }
inline void down_read(sim::RwSemaphore* s, sim::Label where) { s->down_read(where); }
inline void up_read(sim::RwSemaphore* s, sim::Label where) { s->up_read(where); }
inline void down_write(sim::RwSemaphore* s, sim::Label where) { s->down_write(where); }
inline void up_write(sim::RwSemaphore* s, sim::Label where) { s->up_write(where); }

// i_size_read/i_size_write: lockless on 64-bit; a schedule point either way.
inline loff_t i_size_read(inode* i, sim::Label where) {
  point_read(where, obj_isize(i));
  return i->i_size;
}
inline void i_size_write(inode* i, loff_t size, sim::Label where) {
  point_write(where, obj_isize(i));
  i->i_size = size;
}

// An access made under a lock: not a schedule point, but an event that
// interleaving coverage sees.
inline void access_note(sim::Label where, sim::Obj o, sim::Access a) { sim().access(where, o, a); }

}  // namespace faultline::mm
