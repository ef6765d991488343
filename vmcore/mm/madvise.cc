// mm/madvise.c: MADV_DONTNEED and MADV_REMOVE, with the 2.6.20 sys_madvise
// walk (and its stale-prev bug) kept as it was.
#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

long madvise_dontneed(vm_area_struct* vma, vm_area_struct** prev, unsigned long start, unsigned long end) {
  KFUNC("madvise_dontneed");
  *prev = vma;
  zap_page_range(vma, start, end - start, nullptr);
  return 0;
}

// Application wants to free up the pages and associated backing store: punch
// a hole. Only tmpfs supports it; other filesystems return -ENOSYS.
long madvise_remove(vm_area_struct* vma, vm_area_struct** prev, unsigned long start, unsigned long end) {
  KFUNC("madvise_remove");
  mm_struct* mm = vma->vm_mm;
  if (cfg().madvise_remove_fallocate) {
    *prev = nullptr;  // tell sys_madvise we drop mmap_sem
    if ((vma->vm_flags & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE)) return -EACCES;
    inode* f = vma->vm_file;
    const loff_t offset = loff_t(start - vma->vm_start) + page_offset(vma->vm_pgoff);
    // Filesystem's fallocate may need to take i_mutex (the model's files
    // outlive their vmas: no get_file needed).
    up_read(&mm->mmap_sem, "madvise_remove:up_read");
    const long error = do_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, loff_t(end - start));
    down_read(&mm->mmap_sem, "madvise_remove:down_read");
    return error;
  }
  if ((vma->vm_flags & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE)) return -EACCES;
  inode* host = vma->vm_file;
  const loff_t offset = loff_t(start - vma->vm_start) + page_offset(vma->vm_pgoff);
  const loff_t endoff = loff_t(end - vma->vm_start - 1) + page_offset(vma->vm_pgoff);
  tracer().punch_hole_begin(host, offset, endoff + 1);
  long error;
  if (!cfg().madvise_remove_drops_mmap_sem) {
    error = vmtruncate_range(host, offset, endoff);  // *prev untouched
  } else {
    // 2.6.21: vmtruncate_range needs to take i_mutex; tell sys_madvise we
    // dropped mmap_sem.
    *prev = nullptr;
    up_write(&mm->mmap_sem, "madvise_remove:up_write");
    error = vmtruncate_range(host, offset, endoff);
    down_write(&mm->mmap_sem, "madvise_remove:down_write");
  }
  tracer().punch_hole_end(host, int(error));
  return error;
}

long madvise_vma(vm_area_struct* vma, vm_area_struct** prev, unsigned long start, unsigned long end, int behavior) {
  switch (behavior) {
    case MADV_REMOVE: return madvise_remove(vma, prev, start, end);
    case MADV_DONTNEED: return madvise_dontneed(vma, prev, start, end);
    default: return -EINVAL;
  }
}

}  // namespace

long sys_madvise(unsigned long start, unsigned long len_in, int behavior) {
  KFUNC("sys_madvise");
  mm_struct* mm = current().mm;
  long unmapped_error = 0;
  long error = -EINVAL;
  vm_area_struct* vma;
  vm_area_struct* prev;
  unsigned long end, tmp, len;

  // 3.5: MADV_REMOVE needs mmap_sem only for read (madvise_need_mmap_write).
  const bool write = !(cfg().madvise_remove_fallocate && behavior == MADV_REMOVE);
  if (write)
    down_write(&mm->mmap_sem, "sys_madvise:down_write");
  else
    down_read(&mm->mmap_sem, "sys_madvise:down_read");
  if (start & ~PAGE_MASK) goto out;
  len = (len_in + ~PAGE_MASK) & PAGE_MASK;
  if (len_in && !len) goto out;  // len was rounded up from a small negative to zero
  end = start + len;
  if (end < start) goto out;
  error = 0;
  if (end == start) goto out;

  // If the interval [start,end) covers some unmapped address ranges, just
  // ignore them, but return -ENOMEM at the end.
  vma = find_vma_prev(mm, start, &prev);
  if (vma && start > vma->vm_start) prev = vma;

  for (;;) {
    error = -ENOMEM;
    if (!vma) goto out;
    if (start < vma->vm_start) {
      unmapped_error = -ENOMEM;
      start = vma->vm_start;
      if (start >= end) goto out;
    }
    tmp = vma->vm_end;
    if (end < tmp) tmp = end;
    error = madvise_vma(vma, &prev, start, tmp, behavior);
    if (error) goto out;
    start = tmp;
    if (cfg().madvise_remove_drops_mmap_sem) {
      if (prev && start < prev->vm_end) start = prev->vm_end;
      error = unmapped_error;
      if (start >= end) goto out;
      vma = prev ? vma_next(mm, prev) : find_vma(mm, start);
    } else {
      // 2.6.20: madvise_remove never sets prev, which may be NULL or stale.
      if (!prev)
        oops("BUG: unable to handle kernel NULL pointer dereference (prev->vm_end)",
             "sys_madvise used the prev vma that madvise_remove never set\n", "oops:sys_madvise:prev");
      if (start < prev->vm_end) start = prev->vm_end;
      error = unmapped_error;
      if (start >= end) goto out;
      vma = vma_next(mm, prev);
    }
    sim().retry("sys_madvise:next_vma");
  }
out:
  if (write)
    up_write(&mm->mmap_sem, "sys_madvise:up_write");
  else
    up_read(&mm->mmap_sem, "sys_madvise:up_read");
  return error;
}

}  // namespace faultline::mm
