// mm/mmap.c: vma lookup, mmap (MAP_FIXED only) and munmap with vma splitting.
// The vma list is a small array; address order is computed when needed.
#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

vm_area_struct* find_vma(mm_struct* mm, unsigned long addr) {
  vm_area_struct* best = nullptr;
  for (vm_area_struct& v : mm->vmas)
    if (v.in_use && v.vm_end > addr && (!best || v.vm_start < best->vm_start)) best = &v;
  return best;
}

vm_area_struct* vma_next(mm_struct* mm, vm_area_struct* vma) { return find_vma(mm, vma->vm_end); }

vm_area_struct* find_vma_prev(mm_struct* mm, unsigned long addr, vm_area_struct** pprev) {
  vm_area_struct* vma = find_vma(mm, addr);
  vm_area_struct* prev = nullptr;
  for (vm_area_struct& v : mm->vmas)
    if (v.in_use && v.vm_end <= addr && (!prev || v.vm_end > prev->vm_end)) prev = &v;
  *pprev = prev;
  return vma;
}

namespace {

vm_area_struct* vma_alloc(mm_struct* mm) {
  for (uint32_t i = 0; i < mm->vmas.size(); ++i) {
    vm_area_struct& v = mm->vmas[i];
    if (v.in_use) continue;
    v = vm_area_struct{};
    v.in_use = true;
    v.slot = i;
    v.vm_mm = mm;
    return &v;
  }
  return nullptr;
}

void __vma_link_file(vm_area_struct* vma) {
  address_space* mapping = vma->vm_file->i_mapping;
  mapping->i_mmap[mapping->i_mmap_count++] = vma;
}

void vma_link(vm_area_struct* vma) {
  address_space* mapping = vma->vm_file->i_mapping;
  spin_lock(&mapping->i_mmap_lock, "vma_link:i_mmap_lock");
  __vma_link_file(vma);
  spin_unlock(&mapping->i_mmap_lock, "vma_link:i_mmap_unlock");
}

// Removes the vma from i_mmap, keeping the order of the others.
void unlink_file_vma(vm_area_struct* vma) {
  address_space* mapping = vma->vm_file->i_mapping;
  spin_lock(&mapping->i_mmap_lock, "unlink_file_vma:i_mmap_lock");
  uint32_t j = 0;
  for (uint32_t i = 0; i < mapping->i_mmap_count; ++i)
    if (mapping->i_mmap[i] != vma) mapping->i_mmap[j++] = mapping->i_mmap[i];
  mapping->i_mmap_count = j;
  spin_unlock(&mapping->i_mmap_lock, "unlink_file_vma:i_mmap_unlock");
}

// Split a vma at addr; the new vma takes the upper part. Both stay in i_mmap.
int split_vma(mm_struct* mm, vm_area_struct* vma, unsigned long addr) {
  vm_area_struct* upper = vma_alloc(mm);
  if (!upper) return -ENOMEM;
  const uint32_t slot = upper->slot;
  *upper = *vma;
  upper->slot = slot;
  upper->vm_start = addr;
  upper->vm_pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
  address_space* mapping = vma->vm_file->i_mapping;
  spin_lock(&mapping->i_mmap_lock, "vma_adjust:i_mmap_lock");
  vma->vm_end = addr;
  __vma_link_file(upper);
  spin_unlock(&mapping->i_mmap_lock, "vma_adjust:i_mmap_unlock");
  return 0;
}

bool vma_wants_writenotify(const vm_area_struct* vma) {
  if ((vma->vm_flags & (VM_WRITE | VM_SHARED)) != (VM_WRITE | VM_SHARED)) return false;
  if (vma->vm_ops && vma->vm_ops->page_mkwrite) return true;
  // Mappings that account dirty pages want to know when a page is written.
  return vma->vm_file->i_mapping->cap_account_dirty;
}

}  // namespace

// Caller holds mmap_sem for write.
int do_munmap(mm_struct* mm, unsigned long start, unsigned long len) {
  KFUNC("do_munmap");
  if ((start & ~PAGE_MASK) || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  len = (len + PAGE_SIZE - 1) & PAGE_MASK;
  if (len == 0) return -EINVAL;
  const unsigned long end = start + len;
  // Split the vmas straddling start and end, then unmap what lies inside.
  vm_area_struct* vma = find_vma(mm, start);
  if (vma && vma->vm_start < start && vma->vm_end > start) {
    if (int err = split_vma(mm, vma, start)) return err;
  }
  vma = find_vma(mm, end);
  if (vma && vma->vm_start < end && vma->vm_end > end) {
    if (int err = split_vma(mm, vma, end)) return err;
  }
  for (vm_area_struct& v : mm->vmas) {
    if (!v.in_use || v.vm_start < start || v.vm_end > end) continue;
    // unmap_region: zap everything (no details), then unlink from i_mmap.
    zap_page_range(&v, v.vm_start, v.vm_end - v.vm_start, nullptr);
    unlink_file_vma(&v);
    v.in_use = false;
    v.vm_file = nullptr;  // freed: a stale vma->vm_file is an oops (checked_ptr)
  }
  return 0;
}

// mmap(addr, len, PROT_READ [| PROT_WRITE], MAP_FIXED | MAP_SHARED/PRIVATE, file, pgoff).
// Caller holds mmap_sem for write.
long do_mmap_pgoff(mm_struct* mm, inode* file, unsigned long addr, unsigned long len, bool write, bool shared,
                   pgoff_t pgoff) {
  KFUNC("do_mmap_pgoff");
  if (addr & ~PAGE_MASK) return -EINVAL;
  if (!len) return -EINVAL;
  len = (len + PAGE_SIZE - 1) & PAGE_MASK;
  if (len > TASK_SIZE || addr > TASK_SIZE - len) return -ENOMEM;
  if (pgoff.v + (len >> PAGE_SHIFT) < pgoff.v) return -EOVERFLOW;
  // MAP_FIXED: whatever was there goes first.
  if (int err = do_munmap(mm, addr, len)) return err;
  vm_area_struct* vma = vma_alloc(mm);
  if (!vma) return -ENOMEM;
  vma->vm_start = addr;
  vma->vm_end = addr + len;
  vma->vm_pgoff = pgoff;
  vma->vm_file = file;
  vma->vm_flags = VM_READ | (write ? VM_WRITE : 0) | (shared ? VM_SHARED | VM_MAYWRITE : 0);
  const int error = file->i_fop->mmap(file, vma);
  if (error) {
    vma->in_use = false;
    vma->vm_file = nullptr;
    return error;
  }
  // Private mappings and write-notified shared ones start read-only.
  vma->vm_page_prot_write = shared && write && !vma_wants_writenotify(vma);
  vma_link(vma);
  return long(addr);
}

}  // namespace faultline::mm
