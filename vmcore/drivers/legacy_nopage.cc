// A driver (or an out-of-tree filesystem) of the 2.6.20 era: its mmap installs
// vm_ops of its own whose ->nopage wraps filemap_nopage, and it was never
// updated to set VM_CAN_INVALIDATE. The patch's BUG_ONs catch it. From the
// 2.6.23 ->fault conversion on (fault_vm_fault_locked) the wrapper is a ->fault
// around filemap_fault and the flag no longer exists.
#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

page* legacy_driver_nopage(vm_area_struct* vma, unsigned long address, int* type) {
  KFUNC("legacy_driver_nopage");
  return filemap_nopage(vma, address, type);
}

const vm_operations_struct legacy_driver_vm_ops = {.nopage = legacy_driver_nopage, .page_mkwrite = nullptr};

}  // namespace

int legacy_driver_mmap(inode* file, vm_area_struct* vma) {
  vma->vm_ops = &legacy_driver_vm_ops;
  return 0;
}

}  // namespace faultline::mm
