// Stackful contexts on Boost.Context's fcontext: a switch is a few register
// moves in user space, no syscall. Every switch is announced to AddressSanitizer
// so it can follow the stacks.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <cstddef>

namespace faultline::sim {

// A fiber stack with a guard page below it, mapped once and reused for every run.
class FiberStack {
 public:
  explicit FiberStack(std::size_t size);
  ~FiberStack();
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;

  void* bottom() const { return base_; }
  std::size_t size() const { return size_; }
  std::size_t guard_size() const { return mapping_size_ - size_; }

 private:
  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
  void* base_ = nullptr;
  std::size_t size_ = 0;
};

struct Context {
  boost::context::detail::fcontext_t fctx = nullptr;
  const void* stack_bottom = nullptr;  // for AddressSanitizer
  std::size_t stack_size = 0;
  // Set by make_context, consumed by the first switch to this context.
  void (*entry)(void*) = nullptr;
  void* arg = nullptr;
  bool started = true;
};

// Prepares `c` to run entry(arg) on `stack` the first time it is switched to.
// entry must never return: it ends with exit_context().
void make_context(Context& c, FiberStack& stack, void (*entry)(void*), void* arg);

// Saves the running context in `from` and runs `to`; returns when some other
// context switches back to `from`.
void switch_context(Context& from, Context& to);

// Leaves a finished fiber for good.
[[noreturn]] void exit_context(Context& self, Context& to);

}  // namespace faultline::sim
