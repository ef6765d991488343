// mm/filemap.c of 6.12 to 7.0: filemap_fault (the lockless lookup,
// invalidate_lock shared only to create a folio or bring it uptodate, the
// fault lock dropped for I/O with VM_FAULT_RETRY, "did it get truncated?" and
// the i_size recheck under the folio lock) and fault-around: filemap_map_pages
// → next_uptodate_folio → filemap_map_pmd / filemap_map_folio_range, with the
// file_end clamp (743a2753a02e), whole-folio mapping (357b92761d94), the
// i_size gate (74207de2ba10) and the single i_size read (7.0) as switches.
#include <algorithm>

#include "vmcore/mm/locking.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm::v6 {

namespace {

constexpr unsigned long PMD_SIZE = PTRS_PER_PTE * PAGE_SIZE;

// DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE)
pgoff_t size_in_pages(inode* i, sim::Label where) {
  return pgoff_t((uint64_t(i_size_read(i, where)) + PAGE_SIZE - 1) >> PAGE_SHIFT);
}


// The lockless lookup: the folio holding index, referenced, or nullptr.
page* filemap_get_folio(address_space* mapping, pgoff_t index) {
  page* p = find_get_page(mapping, index);
  return p ? page_folio(p) : nullptr;
}

// __filemap_get_folio(FGP_CREAT | FGP_FOR_MMAP): the cached folio, or a new
// order-0 one added (not uptodate, unlocked: mmap wants it so); nullptr when
// the allocation fails.
page* filemap_get_or_create_folio(address_space* mapping, pgoff_t index) {
  for (;;) {
    if (page* folio = filemap_get_folio(mapping, index)) return folio;
    page* folio = alloc_page();
    if (!folio) return nullptr;
    const int err = add_to_page_cache_lru(folio, mapping, index);
    if (!err) {
      unlock_page(folio);
      return folio;
    }
    put_page(folio);
    if (err != -EEXIST) return nullptr;
    sim().retry("__filemap_get_folio:repeat");
  }
}

// Drops the fault's mmap_lock for I/O on the first try of a fault that may
// retry (the file stays pinned: fpin); true if it is (now) dropped.
bool maybe_unlock_mmap_for_io(vm_area_struct* vma, vm_fault* vmf, bool fpin) {
  if (fpin) return true;
  if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY) || (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)) return false;
  up_read(&vma->vm_mm->mmap_sem, "maybe_unlock_mmap_for_io:release_fault_lock");
  return true;
}

// Locks the folio, sleeping for it with the mmap_lock dropped where the
// fault may retry; false if it must return VM_FAULT_RETRY at once.
bool lock_folio_maybe_drop_mmap(vm_area_struct* vma, vm_fault* vmf, page* folio, bool* fpin) {
  if (!TestSetPageLocked(folio)) return true;
  if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT) return false;
  *fpin = maybe_unlock_mmap_for_io(vma, vmf, *fpin);
  lock_page(folio);
  return true;
}

// mmap read-around on a miss: ra_pages around the fault, in folios as large
// as the file takes (page_cache_ra_order).
bool do_sync_mmap_readahead(vm_area_struct* vma, vm_fault* vmf, inode* inode) {
  const unsigned long ra_pages = inode->ra_pages;
  if (!ra_pages) return false;
  const bool fpin = maybe_unlock_mmap_for_io(vma, vmf, false);
  const pgoff_t start = vmf->pgoff.v >= ra_pages / 2 ? vmf->pgoff - ra_pages / 2 : pgoff_t(0);
  do_page_cache_readahead(inode->i_mapping, inode, start, ra_pages);
  return fpin;
}

// filemap_read_folio: ->read_folio, wait, uptodate or -EIO.
int filemap_read_folio(inode* inode, page* folio) {
  ClearPageError(folio);
  const int error = inode->i_mapping->a_ops->readpage(inode, folio);
  if (error) return error;
  wait_on_page_locked(folio);
  point_read("filemap_read_folio:folio_test_uptodate", obj_page_flags(folio));
  return PageUptodate(folio) ? 0 : -EIO;
}

}  // namespace

int filemap_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("filemap_fault");
  inode* inode = vma->vm_file;  // the file is pinned (fpin) once the fault lock is dropped
  address_space* mapping = inode->i_mapping;
  const pgoff_t index = vmf->pgoff;
  bool mapping_locked = false;
  bool fpin = false;
  int ret = 0;
  int error;
  page* folio;

  if (index >= size_in_pages(inode, "filemap_fault:i_size_read")) return VM_FAULT_SIGBUS;

  // Do we have something in the page cache already?
  folio = filemap_get_folio(mapping, index);
  if (folio) {
    point_read("filemap_fault:folio_test_uptodate_unlocked", obj_page_flags(folio));
    if (!PageUptodate(folio)) {
      down_read(&mapping->invalidate_lock, "filemap_fault:filemap_invalidate_lock_shared");
      mapping_locked = true;
    }
  } else {
    // No folio in the page cache at all.
    ret = VM_FAULT_MAJOR;
    fpin = do_sync_mmap_readahead(vma, vmf, inode);
  retry_find:
    // See comment in filemap_create_folio() why we need invalidate_lock.
    if (!mapping_locked) {
      down_read(&mapping->invalidate_lock, "filemap_fault:filemap_invalidate_lock_shared_create");
      mapping_locked = true;
    }
    folio = filemap_get_or_create_folio(mapping, index);
    if (!folio) {
      if (fpin) goto out_retry;
      up_read(&mapping->invalidate_lock, "filemap_fault:filemap_invalidate_unlock_shared_oom");
      return VM_FAULT_OOM;
    }
  }

  if (!lock_folio_maybe_drop_mmap(vma, vmf, folio, &fpin)) goto out_retry;

  // Did it get truncated?
  access_note("filemap_fault:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
  if (folio->mapping != mapping) {
    unlock_page(folio);
    put_page(folio);
    sim().retry("filemap_fault:truncated");
    goto retry_find;
  }
  BUG_ON(!folio_contains(folio, index), "filemap_fault:folio_contains", "the folio no longer holds the index");

  // We have a locked folio in the page cache, now we need to check that
  // it's up-to-date. If not, it is going to be due to an error, or because
  // readahead was otherwise unable to retrieve it.
  point_read("filemap_fault:folio_test_uptodate", obj_page_flags(folio));
  if (!PageUptodate(folio)) {
    // Uptodate before and not now (we did not hold the folio lock all the
    // time): drop everything, get the invalidate lock and try again.
    if (!mapping_locked) {
      unlock_page(folio);
      put_page(folio);
      sim().retry("filemap_fault:lost_uptodate");
      goto retry_find;
    }
    goto page_not_uptodate;
  }

  // We've made it this far and we had to drop our mmap_lock, now is the time
  // to return to the upper layer and have it re-find the vma and redo the
  // fault.
  if (fpin) {
    unlock_page(folio);
    goto out_retry;
  }
  if (mapping_locked) up_read(&mapping->invalidate_lock, "filemap_fault:filemap_invalidate_unlock_shared");

  // Found the page and have a reference on it. We must recheck i_size
  // under page lock.
  if (index >= size_in_pages(inode, "filemap_fault:i_size_read_locked")) {
    unlock_page(folio);
    put_page(folio);
    return VM_FAULT_SIGBUS;
  }
  vmf->page = folio_file_page(folio, index);
  return ret | VM_FAULT_LOCKED;

page_not_uptodate:
  // Umm, take care of errors if the page isn't up-to-date. Try to re-read
  // it _once_.
  fpin = maybe_unlock_mmap_for_io(vma, vmf, fpin);
  error = filemap_read_folio(inode, folio);
  if (fpin) goto out_retry;
  put_page(folio);
  if (!error || error == AOP_TRUNCATED_PAGE) {
    sim().retry("filemap_fault:page_not_uptodate");
    goto retry_find;
  }
  up_read(&mapping->invalidate_lock, "filemap_fault:filemap_invalidate_unlock_shared_eio");
  return VM_FAULT_SIGBUS;

out_retry:
  // We dropped the mmap_lock, we need to return to the fault handler to
  // re-find the vma and come back and find our hopefully still populated
  // page.
  if (folio) put_page(folio);
  if (mapping_locked) up_read(&mapping->invalidate_lock, "filemap_fault:filemap_invalidate_unlock_shared_retry");
  return ret | VM_FAULT_RETRY;
}

namespace {

// The walk of fault-around over the page cache (an xa_state): the index it
// is at, and where the next entry is looked for.
struct folio_walk {
  pgoff_t xa_index;
  pgoff_t next;
};

// xas_next_entry: the next present folio at or after w->next, up to max;
// w->xa_index is where it was found (inside the folio for the first one).
page* xas_next_entry(address_space* mapping, folio_walk* w, pgoff_t max) {
  for (pgoff_t i = w->next; i <= max && i.v < kMaxFilePages; ++i) {
    access_note("next_uptodate_folio:xas_next_entry", obj_cache_slot(mapping, i), sim::Access::Read);
    if (page* p = mapping->page_tree.slots[i.v]) {
      page* folio = page_folio(p);
      w->xa_index = i;
      w->next = folio_next_index(folio);
      return folio;
    }
  }
  return nullptr;
}

// The next folio of [w, end_pgoff] that fault-around may map: uptodate,
// unlocked (it gets locked here), still in the mapping, and starting (at the
// index the walk is at) inside i_size. Returned locked and referenced.
page* next_uptodate_folio(address_space* mapping, folio_walk* w, pgoff_t end_pgoff) {
  KFUNC("next_uptodate_folio");
  while (page* folio = xas_next_entry(mapping, w, end_pgoff)) {
    get_page(folio);  // folio_try_get
    point_read("next_uptodate_folio:folio_test_locked", obj_page_flags(folio));
    if (PageLocked(folio)) goto skip;
    // Has the page moved or been split?
    access_note("next_uptodate_folio:xas_reload", obj_cache_slot(mapping, w->xa_index), sim::Access::Read);
    if (mapping->page_tree.slots[w->xa_index.v] == nullptr ||
        page_folio(mapping->page_tree.slots[w->xa_index.v]) != folio)
      goto skip;
    if (!PageUptodate(folio)) goto skip;
    if (TestSetPageLocked(folio)) goto skip;
    access_note("next_uptodate_folio:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
    if (folio->mapping != mapping) goto unlock;
    if (!PageUptodate(folio)) goto unlock;
    if (w->xa_index >= size_in_pages(mapping->host, "next_uptodate_folio:i_size_read")) goto unlock;
    return folio;
  unlock:
    unlock_page(folio);
  skip:
    put_page(folio);
  }
  return nullptr;
}

// A PMD for the first folio if the page table is not there yet; true if
// the range is done (mapped by a PMD), the folio unlocked and the reference
// consumed or dropped.
bool filemap_map_pmd(vm_area_struct* vma, vm_fault* vmf, page* folio) {
  mm_struct* mm = vma->vm_mm;
  pmd_t* pmd = &mm->pmd[(vmf->virtual_address >> PAGE_SHIFT) / PTRS_PER_PTE];
  point_read("filemap_map_pmd:pmd", obj_pte(mm, vmf->virtual_address));
  // Huge page is mapped? No need to proceed.
  if (*pmd == pmd_t::Huge) {
    unlock_page(folio);
    put_page(folio);
    return true;
  }
  if (*pmd == pmd_t::None && folio_order(folio) == HPAGE_PMD_ORDER) {
    if (!do_set_pmd(vma, vmf->virtual_address, folio, false)) {
      // The page is mapped successfully, reference consumed.
      unlock_page(folio);
      return true;
    }
  }
  if (*pmd == pmd_t::None) *pmd = pmd_t::Table;  // pmd_install(prealloc_pte)
  return false;
}

bool folio_within_vma(const page* folio, const vm_area_struct* vma) {
  if (folio->index < vma->vm_pgoff) return false;
  const unsigned long start = vma->vm_start + ((folio->index - vma->vm_pgoff) << PAGE_SHIFT);
  return start + folio_nr_pages(folio) * PAGE_SIZE <= vma->vm_end;
}

// Maps the runs of none ptes among nr_pages pages of the large folio from
// page `start` of it at addr (357b92761d94: the whole folio where it lies in
// the VMA and one page table). The counts are the kernel's unsigned int: an
// nr_pages of 0 wraps in `--nr_pages > 0`, and the run goes on past the
// folio until set_pte_range warns.
int filemap_map_folio_range(vm_area_struct* vma, vm_fault* vmf, page* folio, unsigned long start, unsigned long addr,
                            unsigned int nr_pages, bool can_map_large) {
  KFUNC("filemap_map_folio_range");
  mm_struct* mm = vma->vm_mm;
  int ret = 0;
  page* p = folio + start;
  unsigned int count = 0;
  if (cfg().fault_around_whole_folio && can_map_large && folio_within_vma(folio, vma)) {
    const unsigned long addr0 = addr - start * PAGE_SIZE;
    if ((addr0 & ~(PMD_SIZE - 1)) == ((addr0 + folio_nr_pages(folio) * PAGE_SIZE - 1) & ~(PMD_SIZE - 1))) {
      p = folio;
      addr = addr0;
      nr_pages = unsigned(folio_nr_pages(folio));
    }
  }
  auto map_run = [&] {
    if (!count) return;
    set_pte_range(vma, folio, p, count, addr, false);
    folio_ref_add(folio, int(count));
    if (vmf->virtual_address >= addr && vmf->virtual_address < addr + count * PAGE_SIZE) ret = VM_FAULT_NOPAGE;
  };
  do {
    // Past the folio (an nr_pages that wrapped): the kernel maps on until
    // set_pte_range's check, which the model reaches at once.
    if (uint64_t(p - folio) + count >= folio_nr_pages(folio)) {
      ++count;
      map_run();
    }
    BUG_ON(((addr + count * PAGE_SIZE) >> PAGE_SHIFT) >= kMaxVpn, "filemap_map_folio_range:pte",
           "fault-around walked past the page table");
    access_note("filemap_map_folio_range:pte_none", obj_pte(mm, addr + count * PAGE_SIZE), sim::Access::Read);
    if (pte_none(*pte_offset(mm, addr + count * PAGE_SIZE))) {
      ++count;
      continue;
    }
    map_run();
    ++count;
    p += count;
    addr += count * PAGE_SIZE;
    count = 0;
  } while (--nr_pages > 0);
  map_run();
  return ret;
}

int filemap_map_order0_folio(vm_area_struct* vma, vm_fault* vmf, page* folio, unsigned long addr) {
  mm_struct* mm = vma->vm_mm;
  access_note("filemap_map_order0_folio:pte_none", obj_pte(mm, addr), sim::Access::Read);
  if (!pte_none(*pte_offset(mm, addr))) return 0;
  set_pte_range(vma, folio, folio, 1, addr, false);
  get_page(folio);
  return vmf->virtual_address == addr ? VM_FAULT_NOPAGE : 0;
}

// DIV_ROUND_UP(i_size_read(), PAGE_SIZE) - 1: the last index inside EOF.
pgoff_t file_end_of(address_space* mapping, sim::Label where) {
  return pgoff_t(size_in_pages(mapping->host, where).v - 1);
}

}  // namespace

int filemap_map_pages(vm_area_struct* vma, vm_fault* vmf, pgoff_t start_pgoff, pgoff_t end_pgoff) {
  KFUNC("filemap_map_pages");
  mm_struct* mm = vma->vm_mm;
  address_space* mapping = vma->vm_file->i_mapping;
  folio_walk w{start_pgoff, start_pgoff};
  pgoff_t last_pgoff = start_pgoff;
  pgoff_t file_end = pgoff_max();
  int ret = 0;

  // 7.0: one i_size read bounds the walk and the ranges it maps.
  if (cfg().fault_around_isize_once) {
    file_end = file_end_of(mapping, "filemap_map_pages:i_size_read_first");
    end_pgoff = std::min(end_pgoff, file_end);
  }
  page* folio = next_uptodate_folio(mapping, &w, end_pgoff);
  if (!folio) return 0;

  // 74207de2ba10: no PMD across i_size (tmpfs excepted).
  if (cfg().map_within_isize && !cfg().fault_around_isize_once) {
    file_end = file_end_of(mapping, "filemap_map_pages:i_size_read");
    end_pgoff = std::min(end_pgoff, file_end);
  }
  const bool can_map_large =
      !cfg().map_within_isize || shmem_mapping(mapping) || file_end >= folio_next_index(folio);
  if (can_map_large && filemap_map_pmd(vma, vmf, folio)) return VM_FAULT_NOPAGE;
  if (mm->pmd[(vmf->virtual_address >> PAGE_SHIFT) / PTRS_PER_PTE] == pmd_t::None) {
    // No page table (filemap_map_pmd was not asked to install it): the
    // fault itself maps the page.
    unlock_page(folio);
    put_page(folio);
    return 0;
  }

  unsigned long addr = vma->vm_start + ((start_pgoff - vma->vm_pgoff) << PAGE_SHIFT);
  sim::SpinLock* ptl = &mm->page_table_lock;
  spin_lock(ptl, "filemap_map_pages:pte_offset_map_lock");
  // 743a2753a02e: cap the range at the last page inside i_size, read now,
  // after the first folio passed next_uptodate_folio's own i_size check.
  if (cfg().fault_around_file_end && !cfg().map_within_isize) {
    file_end = file_end_of(mapping, "filemap_map_pages:i_size_read");
    end_pgoff = std::min(end_pgoff, file_end);
  }
  do {
    addr += (w.xa_index - last_pgoff) << PAGE_SHIFT;
    last_pgoff = w.xa_index;
    const pgoff_t end = folio_next_index(folio) - 1;
    // unsigned int, as the kernel's: it wraps when i_size shrank between
    // the two reads and end_pgoff fell below xa_index.
    const unsigned int nr_pages = unsigned(std::min(end, end_pgoff).v - w.xa_index.v + 1);
    if (!folio_test_large(folio))
      ret |= filemap_map_order0_folio(vma, vmf, folio, addr);
    else
      ret |= filemap_map_folio_range(vma, vmf, folio, w.xa_index - folio->index, addr, nr_pages, can_map_large);
    unlock_page(folio);
    put_page(folio);
  } while ((folio = next_uptodate_folio(mapping, &w, end_pgoff)) != nullptr);
  spin_unlock(ptl, "filemap_map_pages:pte_unmap_unlock");
  return ret;
}

}  // namespace faultline::mm::v6
