// mm/shmem.c of 3.15 and 3.16: shmem_fault, shmem_fallocate, shmem_undo_range
// and shmem_setattr, with CVE-2014-4171's fixes as switches: f00cdc6df7d7's
// fault waiting on i_mutex (shmem_falloc_i_mutex), and 8e205f779d14 with
// b1a366500bd5 (shmem_falloc_waitq): the fault sleeps on the punch's wait
// queue and the punch's second pass no longer restarts. Lookup, read() and
// write() are the 2.6 era's (without swap, 2.6's shmem_getpage and 3.x's
// agree on what a caller sees; 3.x returns every page locked).
#include <cstring>

#include "vmcore/mm/locking.h"
#include "vmcore/kernel/era.h"
#include "vmcore/v3/v3.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm::v3 {

// Trinity finds that probing a hole which tmpfs is punching can prevent the
// hole-punch from ever completing: the faults refill it as fast as it is
// emptied. Returns -1 to go on with the fault, or the fault's result.
int shmem_falloc_wait(vm_area_struct* vma, vm_fault* vmf, inode* inode) {
  if (!cfg().shmem_falloc_i_mutex && !cfg().shmem_falloc_waitq) return -1;
  point_read("shmem_fault:i_private", obj_shmem_info(inode));
  if (!inode->i_private) return -1;
  spin_lock(&inode->i_lock, "shmem_fault:i_lock");
  // Read under i_lock: the notice lives on the puncher's stack.
  const shmem_falloc* falloc = inode->i_private;
  const bool in_hole = falloc && vmf->pgoff >= falloc->start && vmf->pgoff < falloc->next;
  const bool waitq = falloc && falloc->waitq;
  const int mode = falloc ? falloc->mode : 0;
  const bool may_retry = (vmf->flags & FAULT_FLAG_ALLOW_RETRY) && !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT);
  if (cfg().shmem_falloc_waitq) {
    if (!in_hole || !waitq) {
      spin_unlock(&inode->i_lock, "shmem_fault:i_unlock");
      return -1;
    }
    int ret = VM_FAULT_NOPAGE;
    if (may_retry) {
      // It's polite to up mmap_sem if we can.
      up_read(&vma->vm_mm->mmap_sem, "shmem_fault:up_read");
      ret = VM_FAULT_RETRY;
    }
    // prepare_to_wait(TASK_UNINTERRUPTIBLE); schedule(): until the punch's
    // wake_up_all.
    const uint32_t woken = inode->falloc_wakeups;
    spin_unlock(&inode->i_lock, "shmem_fault:i_unlock_wait");
    inode->falloc_waitq.wait("shmem_fault:schedule", [inode, woken] { return inode->falloc_wakeups != woken; });
    spin_lock(&inode->i_lock, "shmem_fault:i_lock_finish_wait");
    spin_unlock(&inode->i_lock, "shmem_fault:i_unlock_finish_wait");
    return ret;
  }
  // f00cdc6df7d7: i_lock has protected us from taking shmem_falloc seriously
  // once return from shmem_fallocate() went back up that stack. i_lock does
  // not serialize with i_mutex at all, but it does not matter if sometimes we
  // wait unnecessarily, or sometimes miss out on waiting.
  spin_unlock(&inode->i_lock, "shmem_fault:i_unlock");
  if (!in_hole || mode != FALLOC_FL_PUNCH_HOLE) return -1;
  if (may_retry) {
    up_read(&vma->vm_mm->mmap_sem, "shmem_fault:up_read");
    mutex_lock(&inode->i_mutex, "shmem_fault:i_mutex");
    mutex_unlock(&inode->i_mutex, "shmem_fault:i_mutex_unlock");
    return VM_FAULT_RETRY;
  }
  // cond_resched? Leave that to GUP or return to user.
  return VM_FAULT_NOPAGE;
}

namespace {

constexpr unsigned PAGEVEC_SIZE = 14;

// The 2.6 shmem_getpage returns SGP_READ and SGP_CACHE pages unlocked (and
// SGP_WRITE ones too without shmem_write_begin_end): lock them as 3.x does.
int shmem_getpage_locked(inode* inode, pgoff_t index, page** pagep, sgp_type sgp) {
  const int error = shmem_getpage(inode, index, pagep, sgp, nullptr);
  if (!error && *pagep && !(sgp == SGP_WRITE && cfg().shmem_write_begin_end)) lock_page(*pagep);
  return error;
}

int shmem_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("shmem_fault");
  inode* inode = vma->vm_file;
  const int waited = shmem_falloc_wait(vma, vmf, inode);
  if (waited >= 0) return waited;
  int ret = VM_FAULT_MINOR;
  const int error = shmem_getpage(inode, vmf->pgoff, &vmf->page, SGP_FAULT, &ret);
  if (error) return error == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
  // 3.x's shmem_getpage checks i_size for every page it returns but to
  // SGP_WRITE and SGP_FALLOC (-EINVAL), a page found as well as one
  // allocated; the 2.6 one checks only before allocating, and since 3.5 a
  // page fallocated with FALLOC_FL_KEEP_SIZE may be found beyond EOF.
  if (page_offset(vmf->pgoff) >= i_size_read(inode, "shmem_getpage:i_size_read_found")) {
    unlock_page(vmf->page);
    page_cache_release(vmf->page);
    vmf->page = nullptr;
    return VM_FAULT_SIGBUS;
  }
  return ret | VM_FAULT_LOCKED;
}

const vm_operations_struct shmem_vm_ops = {.fault = shmem_fault};
// 6.x: shmem_fault over folios, with fault-around.
const vm_operations_struct shmem_vm_ops_6 = {.fault = v6::shmem_fault, .map_pages = v6::filemap_map_pages};

int shmem_mmap(inode*, vm_area_struct* vma) {
  vma->vm_ops = cfg().era == Era::Linux6 ? &shmem_vm_ops_6 : &shmem_vm_ops;
  return 0;
}

void zero_user_segment(page* p, unsigned start, unsigned end) {
  point_write("shmem_undo_range:zero_user_segment", obj_page_data(p));
  std::memset(p->data + start, 0, end - start);
}

// Zero [from, to) of the page at index (a hole stays a hole).
void shmem_zero_partial(inode* inode, pgoff_t index, unsigned from, unsigned to) {
  page* p = nullptr;
  shmem_getpage_locked(inode, index, &p, SGP_READ);
  if (!p) return;
  zero_user_segment(p, from, to);
  set_page_dirty(p);
  unlock_page(p);
  page_cache_release(p);
}

// lend: the last byte (-1: truncate to the end).
void shmem_undo_range(inode* inode, loff_t lstart, loff_t lend) {
  KFUNC("shmem_undo_range");
  address_space* mapping = inode->i_mapping;
  const pgoff_t start = pgoff_t((uint64_t(lstart) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT);
  const pgoff_t end = lend == -1 ? pgoff_max() : pgoff_t(uint64_t(lend + 1) >> PAGE_CACHE_SHIFT);
  const unsigned partial_start = unsigned(lstart & (PAGE_CACHE_SIZE - 1));
  unsigned partial_end = lend == -1 ? 0 : unsigned((lend + 1) & (PAGE_CACHE_SIZE - 1));
  page* pvec[PAGEVEC_SIZE];
  unsigned n;

  pgoff_t index = start;
  while (index < end &&
         (n = pagevec_lookup(pvec, mapping, index, unsigned(std::min<uint64_t>(end - index, PAGEVEC_SIZE))))) {
    for (unsigned i = 0; i < n; ++i) {
      page* p = pvec[i];
      point_read("shmem_undo_range:page->index", obj_page_mapping(p));
      index = p->index;
      if (index >= end) break;
      if (TestSetPageLocked(p)) continue;
      truncate_inode_page(mapping, p);
      unlock_page(p);
    }
    pagevec_release(pvec, n);
    ++index;
  }

  if (partial_start) {
    unsigned top = PAGE_CACHE_SIZE;
    if (start > end) {
      top = partial_end;
      partial_end = 0;
    }
    shmem_zero_partial(inode, start - 1, partial_start, top);
  }
  if (partial_end) shmem_zero_partial(inode, end, 0, partial_end);
  if (start >= end) return;

  // 3.15 restarts for a punch as for a truncate: faults refilling the hole
  // keep it going (CVE-2014-4171). b1a366500bd5: "If all gone or hole-punch
  // or unfalloc, we're done; but if truncating, restart to make sure all gone".
  const bool punch_done_once = cfg().shmem_falloc_waitq && lend != -1;
  index = start;
  for (;;) {
    n = pagevec_lookup(pvec, mapping, index, unsigned(std::min<uint64_t>(end - index, PAGEVEC_SIZE)));
    if (!n) {
      if (index == start || punch_done_once) break;
      index = start;
      sim().retry("shmem_undo_range:restart");
      continue;
    }
    point_read("shmem_undo_range:first_index", obj_page_mapping(pvec[0]));
    if ((index == start || punch_done_once) && pvec[0]->index >= end) {
      pagevec_release(pvec, n);
      break;
    }
    for (unsigned i = 0; i < n; ++i) {
      page* p = pvec[i];
      point_read("shmem_undo_range:page->index_pass2", obj_page_mapping(p));
      index = p->index;
      if (index >= end) break;
      lock_page(p);
      access_note("shmem_undo_range:page->mapping", obj_page_mapping(p), sim::Access::Read);
      if (p->mapping == mapping) truncate_inode_page(mapping, p);
      unlock_page(p);
    }
    pagevec_release(pvec, n);
    ++index;
  }
}

}  // namespace

void shmem_truncate_range(inode* inode, loff_t lstart, loff_t lend) { shmem_undo_range(inode, lstart, lend); }

namespace {

// notify_change(ATTR_SIZE): i_size first, then unmap, truncate, unmap again
// to remove racily COWed private pages.
int shmem_setattr(inode* inode, loff_t newsize) {
  KFUNC("shmem_setattr");
  if (newsize > kMaxFileBytes) return -EFBIG;  // inode_newsize_ok
  const loff_t oldsize = inode->i_size;
  if (newsize != oldsize) i_size_write(inode, newsize, "shmem_setattr:i_size_write");
  if (newsize < oldsize) {
    const loff_t holebegin = loff_t((uint64_t(newsize) + PAGE_SIZE - 1) & PAGE_MASK);
    unmap_mapping_range(inode->i_mapping, holebegin, 0, 1);
    kernel().era->shmem_truncate_range(inode, newsize, -1);
    unmap_mapping_range(inode->i_mapping, holebegin, 0, 1);
  }
  return 0;
}

// Punch: publish the range for faults (3.16: with its wait queue), unmap the
// whole pages of it, empty it; no need to unmap again: hole-punching leaves
// COWed pages. Allocation: the pages of the range, and i_size unless
// FALLOC_FL_KEEP_SIZE.
long shmem_fallocate(inode* inode, int mode, loff_t offset, loff_t len) {
  KFUNC("shmem_fallocate");
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  mutex_lock(&inode->i_mutex, "shmem_fallocate:i_mutex");
  long error = 0;
  shmem_falloc falloc;
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    address_space* mapping = inode->i_mapping;
    const loff_t unmap_start = loff_t((uint64_t(offset) + PAGE_SIZE - 1) & PAGE_MASK);
    const loff_t unmap_end = loff_t(uint64_t(offset + len) & PAGE_MASK) - 1;
    const bool notify = cfg().shmem_falloc_i_mutex || cfg().shmem_falloc_waitq;
    if (notify) {
      falloc.mode = mode & ~FALLOC_FL_KEEP_SIZE;
      falloc.waitq = cfg().shmem_falloc_waitq;
      falloc.start = pgoff_t(uint64_t(unmap_start) >> PAGE_SHIFT);
      falloc.next = pgoff_t(uint64_t(unmap_end + 1) >> PAGE_SHIFT);
      spin_lock(&inode->i_lock, "shmem_fallocate:i_lock");
      point_write("shmem_fallocate:i_private", obj_shmem_info(inode));
      inode->i_private = &falloc;
      spin_unlock(&inode->i_lock, "shmem_fallocate:i_unlock");
    }
    if (unmap_end > unmap_start) unmap_mapping_range(mapping, unmap_start, 1 + unmap_end - unmap_start, 0);
    kernel().era->shmem_truncate_range(inode, offset, offset + len - 1);
    if (notify) {
      spin_lock(&inode->i_lock, "shmem_fallocate:i_lock_done");
      point_write("shmem_fallocate:i_private_clear", obj_shmem_info(inode));
      inode->i_private = nullptr;
      if (falloc.waitq) {
        ++inode->falloc_wakeups;
        inode->falloc_waitq.wake_all();  // wake_up_all
      }
      spin_unlock(&inode->i_lock, "shmem_fallocate:i_unlock_done");
    }
    mutex_unlock(&inode->i_mutex, "shmem_fallocate:i_mutex_unlock");
    return 0;
  }
  // Allocate [offset, offset + len): each page is brought in zeroed.
  const pgoff_t start(uint64_t(offset) >> PAGE_SHIFT);
  const pgoff_t end((uint64_t(offset + len) + PAGE_SIZE - 1) >> PAGE_SHIFT);
  for (pgoff_t index = start; index < end && !error; ++index) {
    page* p = nullptr;
    error = shmem_getpage_locked(inode, index, &p, SGP_WRITE);
    if (error) break;
    point_write("shmem_fallocate:SetPageUptodate", obj_page_flags(p));
    if (!PageUptodate(p)) {
      std::memset(p->data, 0, PAGE_SIZE);
      SetPageUptodate(p);
    }
    set_page_dirty(p);
    unlock_page(p);
    page_cache_release(p);
  }
  if (!error && !(mode & FALLOC_FL_KEEP_SIZE) && offset + len > inode->i_size)
    i_size_write(inode, offset + len, "shmem_fallocate:i_size_write");
  mutex_unlock(&inode->i_mutex, "shmem_fallocate:i_mutex_unlock");
  return error;
}

const inode_operations shmem_inode_operations = {.setattr = shmem_setattr, .fallocate = shmem_fallocate};

const file_operations shmem_file_operations = {
    .read = shmem_file_read, .write = generic_file_aio_write, .mmap = shmem_mmap, .fsync = simple_sync_file};

}  // namespace

void shmem_get_inode(inode* inode) {
  inode->i_mapping->a_ops = &shmem_aops;
  inode->i_mapping->cap_account_dirty = false;
  inode->i_op = &shmem_inode_operations;
  inode->i_fop = &shmem_file_operations;
}

}  // namespace faultline::mm::v3
