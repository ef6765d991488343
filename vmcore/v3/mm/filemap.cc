// mm/filemap.c of 4.4 (filemap_fault: find_get_page, lock_page_or_retry, "did
// it get truncated?", the uptodate and i_size rechecks) and the switch of
// 5.15's invalidate_lock: held shared only to create a page or bring it
// uptodate, dropped before the i_size recheck.
#include "vmcore/mm/locking.h"
#include "vmcore/v3/v3.h"

namespace faultline::mm::v3 {

namespace {

unsigned long size_in_pages(inode* i, sim::Label where) {
  return (i_size_read(i, where) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT;
}

// Locks the page, or (if the fault may retry) drops mmap_sem, waits for the
// page and returns false: the fault is retried.
bool lock_page_or_retry(page* p, mm_struct* mm, unsigned int flags) {
  if (!TestSetPageLocked(p)) return true;
  if (flags & FAULT_FLAG_ALLOW_RETRY) {
    up_read(&mm->mmap_sem, "lock_page_or_retry:up_read");
    wait_on_page_locked(p);
    return false;
  }
  lock_page(p);
  return true;
}

// do_sync_mmap_readahead: ra_pages around the fault (the readaround of 2.6).
void do_sync_mmap_readahead(inode* inode, pgoff_t offset) { readaround(inode, offset); }

}  // namespace

int filemap_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("filemap_fault");
  inode* inode = vma->vm_file;
  address_space* mapping = inode->i_mapping;
  const pgoff_t offset = vmf->pgoff;
  const bool invalidate_lock = cfg().invalidate_lock;
  bool mapping_locked = false;
  int ret = 0;
  int error;
  page* p;

  if (offset.v >= size_in_pages(inode, "filemap_fault:i_size_read")) return VM_FAULT_SIGBUS;

  // Do we have something in the page cache already?
  p = find_get_page(mapping, offset);
  if (p) {
    point_read("filemap_fault:PageUptodate_unlocked", obj_page_flags(p));
    if (invalidate_lock && !PageUptodate(p)) {
      down_read(&mapping->invalidate_lock, "filemap_fault:invalidate_lock_shared");
      mapping_locked = true;
    }
  } else {
    // No page in the page cache at all.
    do_sync_mmap_readahead(inode, offset);
    ret = VM_FAULT_MAJOR;
  retry_find:
    if (invalidate_lock && !mapping_locked) {
      down_read(&mapping->invalidate_lock, "filemap_fault:invalidate_lock_shared_create");
      mapping_locked = true;
    }
    p = find_get_page(mapping, offset);
    if (!p) goto no_cached_page;
  }

  if (!lock_page_or_retry(p, vma->vm_mm, vmf->flags)) {
    page_cache_release(p);
    if (mapping_locked) up_read(&mapping->invalidate_lock, "filemap_fault:invalidate_unlock_shared_retry");
    return ret | VM_FAULT_RETRY;
  }

  // Did it get truncated?
  access_note("filemap_fault:page->mapping", obj_page_mapping(p), sim::Access::Read);
  if (p->mapping != mapping) {
    unlock_page(p);
    page_cache_release(p);
    sim().retry("filemap_fault:truncated");
    goto retry_find;
  }

  // We have a locked page in the page cache, now we need to check that it's
  // up-to-date. If not, it is going to be due to an error.
  point_read("filemap_fault:PageUptodate", obj_page_flags(p));
  if (!PageUptodate(p)) {
    // 5.15: uptodate before and not now (we did not hold the page lock all
    // the time): get the invalidate lock and try again.
    if (invalidate_lock && !mapping_locked) {
      unlock_page(p);
      page_cache_release(p);
      sim().retry("filemap_fault:lost_uptodate");
      goto retry_find;
    }
    goto page_not_uptodate;
  }
  if (mapping_locked) up_read(&mapping->invalidate_lock, "filemap_fault:invalidate_unlock_shared");

  // Found the page and have a reference on it. We must recheck i_size under
  // page lock.
  if (offset.v >= size_in_pages(inode, "filemap_fault:i_size_read_locked")) {
    unlock_page(p);
    page_cache_release(p);
    return VM_FAULT_SIGBUS;
  }
  vmf->page = p;
  return ret | VM_FAULT_LOCKED;

no_cached_page:
  // We're only likely to ever get here if MADV_RANDOM is in effect.
  error = page_cache_read(inode, offset);
  // The page we want has now been added to the page cache. In the unlikely
  // event that someone removed it in the meantime, we'll just come back here
  // and read it again.
  if (error >= 0) {
    sim().retry("filemap_fault:no_cached_page");
    goto retry_find;
  }
  if (mapping_locked) up_read(&mapping->invalidate_lock, "filemap_fault:invalidate_unlock_shared_error");
  return error == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;

page_not_uptodate:
  // Umm, take care of errors if the page isn't up-to-date. Try to re-read it
  // _once_. We do this synchronously and we need to check for errors.
  ClearPageError(p);
  error = mapping->a_ops->readpage(inode, p);
  if (!error) {
    wait_on_page_locked(p);
    point_read("filemap_fault:PageUptodate_after_read", obj_page_flags(p));
    if (!PageUptodate(p)) error = -EIO;
  }
  page_cache_release(p);
  if (!error || error == AOP_TRUNCATED_PAGE) {
    sim().retry("filemap_fault:page_not_uptodate");
    goto retry_find;
  }
  if (mapping_locked) up_read(&mapping->invalidate_lock, "filemap_fault:invalidate_unlock_shared_eio");
  // Things didn't work out. Return zero to tell the mm layer so.
  return VM_FAULT_SIGBUS;
}

}  // namespace faultline::mm::v3
