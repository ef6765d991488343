// What a kernel era provides to the parts every era shares: the MMU's fault
// entry and the set-up of each kind of file (its filesystem's a_ops, i_op and
// f_op, and so which kernel functions its syscalls and faults reach). A
// preset names its era (KernelConfig::era); adding an era is one entry here.
#pragma once

#include "vmcore/mm/kernel_config.h"
#include "vmcore/mm/types.h"

namespace faultline::mm {

struct EraOps {
  // flags: FAULT_FLAG_*.
  int (*handle_mm_fault)(mm_struct* mm, vm_area_struct* vma, unsigned long address, unsigned int flags);
  // ->fault may drop mmap_sem and return VM_FAULT_RETRY (2.6.37 on).
  bool fault_allow_retry;
  // The filesystem that makes an inode of each FileKind.
  void (*get_inode[3])(inode* inode);
  // What truncate_pagecache and truncate_pagecache_range (3.x on) call: the
  // era's truncate of pages or folios (lend inclusive, -1: to the end).
  void (*truncate_inode_pages_range)(address_space* mapping, loff_t lstart, loff_t lend);
  // What O_DIRECT's invalidation calls (pages, or folios).
  int (*invalidate_inode_pages2_range)(address_space* mapping, pgoff_t start, pgoff_t end);
  // What tmpfs's truncate and hole punch call (3.x on): shmem_undo_range
  // over pages, or over folios (lend inclusive, -1: to the end).
  void (*shmem_truncate_range)(inode* inode, loff_t lstart, loff_t lend);
};

const EraOps& era_ops(Era era);

}  // namespace faultline::mm
