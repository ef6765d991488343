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
};

const EraOps& era_ops(Era era);

}  // namespace faultline::mm
