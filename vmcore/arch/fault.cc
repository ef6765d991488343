// arch/i386/mm/fault.c and the user-copy routines: the MMU of the model. A
// user access checks the pte and touches the page in one step; if the pte
// does not allow it, the access faults (or, with page faults disabled, stops).
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/era.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

int do_page_fault(unsigned long address, bool write) {
  KFUNC("do_page_fault");
  mm_struct* mm = current().mm;
  if (address >= TASK_SIZE) return SIGSEGV;
  const EraOps& era = *kernel().era;
  // 2.6.37 on: the handler may drop mmap_sem once and have the fault retried.
  unsigned int flags = (write ? FAULT_FLAG_WRITE : 0) | (era.fault_allow_retry ? FAULT_FLAG_ALLOW_RETRY : 0);
retry:
  down_read(&mm->mmap_sem, "do_page_fault:down_read");
  int ret = 0;
  vm_area_struct* vma = find_vma(mm, address);
  if (!vma || vma->vm_start > address || (write && !(vma->vm_flags & VM_WRITE))) {
    ret = SIGSEGV;  // bad_area
  } else {
    const int fault = era.handle_mm_fault(mm, vma, address, flags);
    if (fault & VM_FAULT_RETRY) {
      // mmap_sem is gone. Clear FAULT_FLAG_ALLOW_RETRY to avoid any risk of
      // starvation.
      flags &= ~FAULT_FLAG_ALLOW_RETRY;
      flags |= FAULT_FLAG_TRIED;
      sim().retry("do_page_fault:retry");
      goto retry;
    }
    if (fault & VM_FAULT_ERROR) ret = fault & VM_FAULT_OOM ? -ENOMEM : SIGBUS;
  }
  up_read(&mm->mmap_sem, "do_page_fault:up_read");
  return ret;
}

namespace {

// One access within one page, if the pte allows it.
bool try_access(mm_struct* mm, unsigned long addr, uint8_t* buf, unsigned long n, bool write) {
  pte_t* pte = &mm->pte[addr >> PAGE_SHIFT];
  if (!pte->present || (write && !pte->write)) return false;
  page* p = &kernel().frames[pte->frame];
  const unsigned long off = addr & ~PAGE_MASK;
  sim().access("mmu:data", obj_page_data(p), write ? sim::Access::Write : sim::Access::Read);
  if (write) {
    std::memcpy(p->data + off, buf, n);
    pte->dirty = true;
    tracer().mmu_store(mm, addr, buf, n);
  } else {
    std::memcpy(buf, p->data + off, n);
  }
  pte->young = true;
  return true;
}

// Returns 0, or the fault's result with *done set to the bytes accessed.
// A kernel copy checks the whole range first (access_ok); the CPU's own
// access of user space (kernel_copy false) faults page by page, in order.
int user_access(unsigned long addr, uint8_t* buf, unsigned long n, bool write, bool may_fault, unsigned long* done,
                bool kernel_copy = true) {
  mm_struct* mm = current().mm;
  *done = 0;
  if (kernel_copy && (addr >= TASK_SIZE || n > TASK_SIZE - addr)) return SIGSEGV;  // access_ok
  while (*done < n) {
    const unsigned long at = addr + *done;
    if (at >= TASK_SIZE) return SIGSEGV;
    const unsigned long chunk = std::min(n - *done, PAGE_SIZE - (at & ~PAGE_MASK));
    static constexpr sim::Label kStore = "mmu:store";
    static constexpr sim::Label kLoad = "mmu:load";
    sim().point(write ? kStore : kLoad, obj_pte(mm, at), write ? sim::Access::Write : sim::Access::Read);
    if (try_access(mm, at, buf + *done, chunk, write)) {
      *done += chunk;
      continue;
    }
    if (!may_fault || current().pagefault_disabled) return SIGSEGV;
    if (int err = do_page_fault(at, write)) return err;
    sim().retry("mmu:refault");
  }
  return 0;
}

}  // namespace

namespace {

// A kernel copy to or from user space: the bytes it could not copy.
unsigned long copy_user(unsigned long addr, uint8_t* buf, unsigned long n, bool write, bool may_fault) {
  unsigned long done;
  user_access(addr, buf, n, write, may_fault, &done);
  return n - done;
}

}  // namespace

unsigned long copy_to_user(unsigned long to, const uint8_t* from, unsigned long n) {
  return copy_user(to, const_cast<uint8_t*>(from), n, true, true);
}

unsigned long copy_from_user(uint8_t* to, unsigned long from, unsigned long n) {
  return copy_user(from, to, n, false, true);
}

unsigned long __copy_to_user_inatomic(unsigned long to, const uint8_t* from, unsigned long n) {
  return copy_user(to, const_cast<uint8_t*>(from), n, true, false);
}

unsigned long __copy_from_user_inatomic(uint8_t* to, unsigned long from, unsigned long n) {
  return copy_user(from, to, n, false, false);
}

// Touch the first and the last byte (and so both pages of a straddling range).
int fault_in_pages_readable(unsigned long uaddr, unsigned long size) {
  if (!size) return 0;
  uint8_t c;
  if (copy_from_user(&c, uaddr, 1)) return -EFAULT;
  const unsigned long end = uaddr + size - 1;
  if (((uaddr & PAGE_MASK) != (end & PAGE_MASK)) && copy_from_user(&c, end, 1)) return -EFAULT;
  return 0;
}

// Writing a zero byte at each end is how 2.6.20 faults a destination in.
int fault_in_pages_writeable(unsigned long uaddr, unsigned long size) {
  if (!size) return 0;
  const uint8_t zero = 0;
  if (copy_to_user(uaddr, &zero, 1)) return -EFAULT;
  const unsigned long end = uaddr + size - 1;
  if (((uaddr & PAGE_MASK) != (end & PAGE_MASK)) && copy_to_user(end, &zero, 1)) return -EFAULT;
  return 0;
}

int user_load(unsigned long addr, uint8_t* to, unsigned long n) {
  unsigned long done;
  return user_access(addr, to, n, false, true, &done, false);
}

int user_store(unsigned long addr, const uint8_t* from, unsigned long n) {
  unsigned long done;
  return user_access(addr, const_cast<uint8_t*>(from), n, true, true, &done, false);
}

}  // namespace faultline::mm
