// A driver (or an out-of-tree filesystem) of the 2.6.20 era: its mmap installs
// vm_ops of its own and was never updated to set VM_CAN_INVALIDATE; the
// patch's BUG_ONs are meant for it. Its ->nopage either wraps filemap_nopage
// or looks the page up itself and returns it unlocked, as every ->nopage did
// before the patch; a half-converted one sets the flag all the same. From the
// 2.6.23 ->fault conversion on (fault_vm_fault_locked) the wrapper is a ->fault
// around filemap_fault, the flag no longer exists, and the own lookup stays a
// legacy ->nopage whose page __do_fault locks.
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"
#include "vmcore/v3/v3.h"

namespace faultline::mm {

namespace {

page* legacy_driver_nopage(vm_area_struct* vma, unsigned long address, int* type) {
  KFUNC("legacy_driver_nopage");
  return filemap_nopage(vma, address, type);
}

int legacy_driver_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("legacy_driver_fault");
  return filemap_fault(vma, vmf);
}

// The page is looked up (and read in, synchronously, on a miss) without its
// lock: nothing keeps it in the cache between here and the pte.
page* legacy_driver_own_nopage(vm_area_struct* vma, unsigned long address, int* type) {
  KFUNC("legacy_driver_own_nopage");
  inode* inode = vma->vm_file;
  address_space* mapping = inode->i_mapping;
  const pgoff_t pgoff = pgoff_t(((address - vma->vm_start) >> PAGE_CACHE_SHIFT) + vma->vm_pgoff.v);
  const loff_t size = i_size_read(inode, "legacy_driver_own_nopage:i_size_read");
  if (pgoff.v >= (size + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT) return NOPAGE_SIGBUS;
  for (;;) {
    if (page* p = find_get_page(mapping, pgoff)) {
      point_read("legacy_driver_own_nopage:PageUptodate", obj_page_flags(p));
      if (!PageUptodate(p)) {
        wait_on_page_locked(p);
        point_read("legacy_driver_own_nopage:PageUptodate_after_read", obj_page_flags(p));
        if (!PageUptodate(p)) {
          page_cache_release(p);
          return NOPAGE_SIGBUS;
        }
      }
      if (type) *type = VM_FAULT_MINOR;
      return p;
    }
    const int error = page_cache_read(inode, pgoff);
    if (error < 0) return error == -ENOMEM ? NOPAGE_OOM : NOPAGE_SIGBUS;
    sim().retry("legacy_driver_own_nopage:read");
  }
}

// The 3.x form (->nopage is gone): the same lookup as a ->fault that returns
// the page unlocked, which __do_fault then locks.
int legacy_driver_own_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("legacy_driver_own_fault");
  int type = VM_FAULT_MINOR;
  page* p = legacy_driver_own_nopage(vma, vmf->virtual_address, &type);
  if (p == NOPAGE_SIGBUS) return VM_FAULT_SIGBUS;
  if (p == NOPAGE_OOM) return VM_FAULT_OOM;
  vmf->page = p;
  return type;
}

int legacy_driver_fault_v3(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("legacy_driver_fault");
  return v3::filemap_fault(vma, vmf);
}

const vm_operations_struct legacy_driver_vm_ops = {.nopage = legacy_driver_nopage};
const vm_operations_struct legacy_driver_v3_vm_ops = {.fault = legacy_driver_fault_v3};
const vm_operations_struct legacy_driver_own_v3_vm_ops = {.fault = legacy_driver_own_fault};
const vm_operations_struct legacy_driver_fault_vm_ops = {.fault = legacy_driver_fault};
const vm_operations_struct legacy_driver_own_vm_ops = {.nopage = legacy_driver_own_nopage};

int legacy_driver_mmap(inode* file, vm_area_struct* vma) {
  if (cfg().era >= Era::Linux3) {
    vma->vm_ops = file->driver_nopage == DriverNopage::WrapsFilemapNopage ? &legacy_driver_v3_vm_ops
                                                                          : &legacy_driver_own_v3_vm_ops;
    return 0;
  }
  if (file->driver_nopage == DriverNopage::WrapsFilemapNopage) {
    vma->vm_ops = cfg().fault_vm_fault_locked ? &legacy_driver_fault_vm_ops : &legacy_driver_vm_ops;
    return 0;
  }
  vma->vm_ops = &legacy_driver_own_vm_ops;
  if (file->driver_nopage == DriverNopage::OwnLookupCanInvalidate && cfg().seed_fault_pagelock &&
      !cfg().fault_vm_fault_locked)
    vma->vm_flags |= VM_CAN_INVALIDATE;
  return 0;
}

const file_operations legacy_driver_file_operations = [] {
  file_operations fops = blockfs_file_operations;
  fops.mmap = legacy_driver_mmap;
  return fops;
}();

}  // namespace

void legacy_driver_get_inode(inode* inode) {
  blockfs_get_inode(inode);
  inode->i_fop = &legacy_driver_file_operations;
}

}  // namespace faultline::mm
