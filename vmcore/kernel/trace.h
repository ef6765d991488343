// Tracepoints: kernel code says what happened, as the kernel's
// include/trace/events/ do for ftrace, and whoever watches the run attaches a
// Tracer (the checkers do). Kernel code calls them and knows nothing of who
// listens. They are neither schedule points nor events of the trace hash.
#pragma once

#include <cstdint>

#include "vmcore/mm/types.h"

namespace faultline::mm {

class Tracer {
 public:
  // trace_mm_filemap_add_to_page_cache / _delete_from_page_cache.
  virtual void mm_filemap_add_to_page_cache(const page* p) {}
  virtual void mm_filemap_delete_from_page_cache(const page* p) {}
  // A hole punch of [start, end) bytes begins on the current task, and ends
  // (error 0: the range now reads zeros).
  virtual void punch_hole_begin(const inode* inode, loff_t start, loff_t end) {}
  virtual void punch_hole_end(const inode* inode, int error) {}
  // The MMU stored n bytes at a user address (a user store or a kernel copy
  // to user space) through a pte of mm.
  virtual void mmu_store(mm_struct* mm, unsigned long addr, const uint8_t* data, unsigned long n) {}
  // A block filesystem freed the block of page `index` (truncate, hole punch).
  virtual void block_freed(const inode* inode, pgoff_t index, uint32_t block) {}
  // ->page_mkwrite let the page become writable, having read i_size `size`
  // under the page lock.
  virtual void page_mkwrite_accept(const page* p, loff_t size) {}
  // clear_page_dirty_for_io cleaned the page for its write-out (its ptes
  // should be write-protected by now).
  virtual void page_cleaned_for_io(const page* p) {}
  // A page's write I/O completed with an error.
  virtual void end_io_write_error(const inode* host, pgoff_t index) {}

 protected:
  ~Tracer() = default;
};

}  // namespace faultline::mm
