#include "vmcore/sim/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <new>

#include "vmcore/sim/sanitizer.h"

#ifdef FAULTLINE_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace faultline::sim {

namespace bctx = boost::context::detail;

FiberStack::FiberStack(std::size_t size) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  size_ = (size + page - 1) / page * page;
  mapping_size_ = size_ + page;
  mapping_ = mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) throw std::bad_alloc();
  mprotect(mapping_, page, PROT_NONE);  // guard page: an overflow faults instead of corrupting
  base_ = static_cast<char*>(mapping_) + page;
}

FiberStack::~FiberStack() { munmap(mapping_, mapping_size_); }

namespace {

thread_local Context* t_starting = nullptr;

// Whoever is switched to learns from the transfer which context left, and
// stores that context's position so it can be resumed later.
inline void arrived(bctx::transfer_t t, void* fake_stack) {
  auto* from = static_cast<Context*>(t.data);
  from->fctx = t.fctx;
#ifdef FAULTLINE_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, &from->stack_bottom, &from->stack_size);
#else
  (void)fake_stack;
#endif
}

void trampoline(bctx::transfer_t t) {
  Context* self = t_starting;
  arrived(t, nullptr);
  self->entry(self->arg);
  std::abort();  // entry functions leave through exit_context
}

inline void prepare_first_run(Context& to) {
  if (!to.started) {
    to.started = true;
    t_starting = &to;
  }
}

}  // namespace

void make_context(Context& c, FiberStack& stack, void (*entry)(void*), void* arg) {
#ifdef FAULTLINE_ASAN
  // A reused stack still carries the redzones of frames that never returned
  // (fibers are left, not unwound, at the end of a run).
  __asan_unpoison_memory_region(stack.bottom(), stack.size());
#endif
  char* top = static_cast<char*>(stack.bottom()) + stack.size();
  c.fctx = bctx::make_fcontext(top, stack.size(), trampoline);
  c.stack_bottom = stack.bottom();
  c.stack_size = stack.size();
  c.entry = entry;
  c.arg = arg;
  c.started = false;
}

void switch_context(Context& from, Context& to) {
  prepare_first_run(to);
  void* fake_stack = nullptr;
#ifdef FAULTLINE_ASAN
  __sanitizer_start_switch_fiber(&fake_stack, to.stack_bottom, to.stack_size);
#endif
  bctx::transfer_t t = bctx::jump_fcontext(to.fctx, &from);
  arrived(t, fake_stack);
}

void exit_context(Context& self, Context& to) {
  prepare_first_run(to);
#ifdef FAULTLINE_ASAN
  __sanitizer_start_switch_fiber(nullptr, to.stack_bottom, to.stack_size);
#endif
  bctx::jump_fcontext(to.fctx, &self);
  std::abort();
}

}  // namespace faultline::sim
