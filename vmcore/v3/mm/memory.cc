// mm/memory.c of 3.15 to 5.15: handle_pte_fault → do_fault → do_read_fault,
// do_cow_fault or do_shared_fault, each through __do_fault (->fault, the
// page locked) and do_set_pte under the pte lock. ->fault may drop mmap_sem
// and return VM_FAULT_RETRY. Fault-around (do_fault_around, 3.15) is left
// out: the kernel with fault_around_bytes = PAGE_SIZE behaves as modelled.
#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/v3/v3.h"

namespace faultline::mm::v3 {

namespace {

constexpr int kFaultDone = VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY;

// The page comes back locked and referenced, or ret says why not.
int __do_fault(vm_area_struct* vma, unsigned long address, pgoff_t pgoff, unsigned int flags, page** pagep) {
  KFUNC("__do_fault");
  vm_fault vmf{.flags = flags, .pgoff = pgoff, .virtual_address = address & PAGE_MASK, .page = nullptr};
  const int ret = vma->vm_ops->fault(vma, &vmf);
  if (ret & kFaultDone) return ret;
  if (!(ret & VM_FAULT_LOCKED))
    lock_page(vmf.page);
  else
    BUG_ON(!PageLocked(vmf.page), "__do_fault:VM_FAULT_LOCKED", "->fault returned an unlocked page");
  *pagep = vmf.page;
  return ret;
}

// Maps the locked fault page if the pte is still what the fault saw.
bool map_if_pte_same(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t orig_pte, page* p, bool write,
                     bool anon, sim::Label where) {
  sim::SpinLock* ptl = &mm->page_table_lock;
  pte_t* pte = pte_offset(mm, address);
  spin_lock(ptl, "do_fault:pte_offset_map_lock");
  access_note("do_fault:pte_same", obj_pte(mm, address), sim::Access::Read);
  const bool same = pte_same(*pte, orig_pte);
  if (same) set_new_pte(mm, vma, address, pte, p, write, anon, where);
  spin_unlock(ptl, "do_fault:pte_unmap_unlock");
  return same;
}

int do_read_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, pgoff_t pgoff, unsigned int flags,
                  pte_t orig_pte) {
  KFUNC("do_read_fault");
  page* fault_page = nullptr;
  const int ret = __do_fault(vma, address, pgoff, flags, &fault_page);
  if (ret & kFaultDone) return ret;
  if (!map_if_pte_same(mm, vma, address, orig_pte, fault_page, false, false, "do_read_fault:do_set_pte")) {
    unlock_page(fault_page);
    page_cache_release(fault_page);
    return ret;
  }
  unlock_page(fault_page);
  return ret;
}

int do_cow_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, pgoff_t pgoff, unsigned int flags,
                 pte_t orig_pte) {
  KFUNC("do_cow_fault");
  anon_vma_prepare(vma);
  page* new_page = alloc_page();
  if (!new_page) return VM_FAULT_OOM;
  page* fault_page = nullptr;
  const int ret = __do_fault(vma, address, pgoff, flags, &fault_page);
  if (ret & kFaultDone) {
    page_cache_release(new_page);
    return ret;
  }
  copy_user_highpage(new_page, fault_page);
  if (!map_if_pte_same(mm, vma, address, orig_pte, new_page, true, true, "do_cow_fault:do_set_pte"))
    page_cache_release(new_page);
  unlock_page(fault_page);
  page_cache_release(fault_page);
  return ret;
}

int do_shared_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, pgoff_t pgoff, unsigned int flags,
                    pte_t orig_pte) {
  KFUNC("do_shared_fault");
  page* fault_page = nullptr;
  int ret = __do_fault(vma, address, pgoff, flags, &fault_page);
  if (ret & kFaultDone) return ret;
  // Check if the backing address space wants to know that the page is about
  // to become writable.
  if (vma->vm_ops->page_mkwrite) {
    unlock_page(fault_page);
    const int tmp = do_page_mkwrite(vma, fault_page);
    if (!tmp || (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE))) {
      page_cache_release(fault_page);
      return tmp;
    }
  }
  if (!map_if_pte_same(mm, vma, address, orig_pte, fault_page, true, false, "do_shared_fault:do_set_pte")) {
    unlock_page(fault_page);
    page_cache_release(fault_page);
    return ret;
  }
  // Dirtied under the page lock: writeback cannot clean it before it is dirty.
  set_page_dirty(fault_page);
  unlock_page(fault_page);
  return ret;
}

int do_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, unsigned int flags, pte_t orig_pte) {
  const pgoff_t pgoff = pgoff_t((((address & PAGE_MASK) - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff.v);
  if (!(flags & FAULT_FLAG_WRITE)) return do_read_fault(mm, vma, address, pgoff, flags, orig_pte);
  if (!(vma->vm_flags & VM_SHARED)) return do_cow_fault(mm, vma, address, pgoff, flags, orig_pte);
  return do_shared_fault(mm, vma, address, pgoff, flags, orig_pte);
}

int handle_pte_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* pte, unsigned int flags) {
  point_read("handle_pte_fault:read_pte", obj_pte(mm, address));
  const pte_t entry = *pte;  // ACCESS_ONCE
  // Every vma of the model has a file with ->fault (no anonymous vmas).
  if (!entry.present) return do_fault(mm, vma, address, flags, entry);
  return handle_present_pte(mm, vma, address, pte, entry, flags & FAULT_FLAG_WRITE);
}

}  // namespace

int handle_mm_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, unsigned int flags) {
  KFUNC("handle_mm_fault");
  return handle_pte_fault(mm, vma, address, pte_offset(mm, address), flags) & ~VM_FAULT_WRITE;
}

}  // namespace faultline::mm::v3
