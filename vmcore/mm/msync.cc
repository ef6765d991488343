// mm/msync.c (2.6.19 on): MS_SYNC fsyncs the file of every shared mapping in
// the range, mmap_sem dropped around each; dirty ptes need no walk, since
// shared writable mappings are write-notified and page_mkclean cleans them.
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

long sys_msync(unsigned long start, unsigned long len, int flags) {
  KFUNC("sys_msync");
  mm_struct* mm = current().mm;
  long error = -EINVAL;
  long unmapped_error = 0;
  if (start & ~PAGE_MASK) return error;
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return error;
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return error;
  error = -ENOMEM;
  len = (len + ~PAGE_MASK) & PAGE_MASK;
  const unsigned long end = start + len;
  if (end < start) return error;
  error = 0;
  if (end == start) return error;
  // If the interval [start,end) covers some unmapped address ranges, just
  // ignore them, but return -ENOMEM at the end.
  down_read(&mm->mmap_sem, "sys_msync:down_read");
  vm_area_struct* vma = find_vma(mm, start);
  for (;;) {
    error = -ENOMEM;
    if (!vma) break;
    if (start < vma->vm_start) {
      unmapped_error = -ENOMEM;
      start = vma->vm_start;
      if (start >= end) break;  // the hole ran to the end
    }
    inode* file = vma->vm_file;
    start = vma->vm_end;
    if ((flags & MS_SYNC) && file && (vma->vm_flags & VM_SHARED)) {
      up_read(&mm->mmap_sem, "sys_msync:up_read_fsync");
      error = file->i_fop->fsync(file);
      if (error || start >= end) return error ? error : unmapped_error;
      down_read(&mm->mmap_sem, "sys_msync:down_read_again");
      vma = find_vma(mm, start);
    } else {
      if (start >= end) {
        error = 0;
        break;
      }
      vma = vma_next(mm, vma);
    }
  }
  up_read(&mm->mmap_sem, "sys_msync:up_read");
  return error ? error : unmapped_error;
}

}  // namespace faultline::mm
