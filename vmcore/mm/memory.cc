// mm/memory.c: the fault handlers (handle_pte_fault, do_no_page, do_wp_page),
// zapping, unmap_mapping_range, vmtruncate and vmtruncate_range.
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

pte_t* pte_offset(mm_struct* mm, unsigned long address) { return &mm->pte[address >> PAGE_SHIFT]; }

page* pte_page(pte_t pte) { return &kernel().frames[pte.frame]; }

pte_t mk_pte(page* p, vm_area_struct* vma) {
  return pte_t{.frame = p->frame, .present = true, .write = vma->vm_page_prot_write, .dirty = false, .young = true};
}

pte_t maybe_mkwrite(pte_t pte, vm_area_struct* vma) {
  if (vma->vm_flags & VM_WRITE) pte.write = true;
  return pte;
}

void set_pte_at(mm_struct* mm, unsigned long address, pte_t* ptep, pte_t pte, sim::Label where) {
  access_note(where, obj_pte(mm, address), sim::Access::Write);
  *ptep = pte;
  pmd_t& pmd = mm->pmd[(address >> PAGE_SHIFT) / PTRS_PER_PTE];
  if (pmd == pmd_t::None) pmd = pmd_t::Table;  // pte_alloc
  state_changed();
}

// The pte install every fault path shares, under the pte lock: the entry
// (dirty and writable for a write), the rss counter and the rmap (3.x calls
// it do_set_pte).
void set_new_pte(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* page_table, page* p, bool write,
                 bool anon, sim::Label where) {
  pte_t entry = mk_pte(p, vma);
  if (write) {
    entry.dirty = true;
    entry = maybe_mkwrite(entry, vma);
  }
  set_pte_at(mm, address, page_table, entry, where);
  if (anon) {
    ++mm->anon_rss;
    page_add_new_anon_rmap(p, vma, address);
  } else {
    ++mm->file_rss;
    page_add_file_rmap(p);
  }
}

namespace {}  // namespace

// anon_vma_prepare cannot fail in the model (its allocation is not injected).
int anon_vma_prepare(vm_area_struct* vma) {
  vma->anon_vma = true;
  return 0;
}

void copy_user_highpage(page* to, page* from) {
  point_read("copy_user_highpage:copy", obj_page_data(from));
  std::memcpy(to->data, from->data, PAGE_SIZE);
}

// 2.6.30 (b827e496c893): ->page_mkwrite returns the page locked, or this
// locks it; 0 means the page was truncated meanwhile (retry the fault).
int do_page_mkwrite(vm_area_struct* vma, page* p) {
  KFUNC("do_page_mkwrite");
  int ret = vma->vm_ops->page_mkwrite(vma, p);
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) return ret;
  if (!(ret & VM_FAULT_LOCKED)) {
    lock_page(p);
    point_read("do_page_mkwrite:page->mapping", obj_page_mapping(p));
    if (!p->mapping) {
      unlock_page(p);
      return 0;  // retry
    }
    ret |= VM_FAULT_LOCKED;
  } else {
    BUG_ON(!PageLocked(p), "do_page_mkwrite:VM_FAULT_LOCKED", "->page_mkwrite returned an unlocked page");
  }
  return ret;
}

// ---- Linux 2.6.20 and the reference patch: ->nopage and do_no_page ---------

// do_no_page() tries to create a new page mapping. 2.6.20 guards against
// truncation with the truncate_count sequence; the patch instead keeps the page
// locked from ->nopage until the pte is in.
static int do_no_page(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* page_table, int write_access) {
  KFUNC("do_no_page");
  const bool seed = cfg().seed_fault_pagelock;
  sim::SpinLock* ptl = &mm->page_table_lock;
  address_space* mapping = nullptr;
  unsigned int sequence = 0;
  int ret = VM_FAULT_MINOR;
  int anon = 0;
  page* dirty_page = nullptr;
  page* nopage_page;
  page* new_page;

  if (!seed && vma->vm_file) {
    mapping = vma->vm_file->i_mapping;
    point_read("do_no_page:truncate_count", obj_truncate_count(mapping));
    sequence = mapping->truncate_count;  // smp_rmb(): serializes i_size against truncate_count
  }
retry:
  nopage_page = vma->vm_ops->nopage(vma, address & PAGE_MASK, &ret);
  // no page was available -- either SIGBUS or OOM
  if (nopage_page == NOPAGE_SIGBUS) return VM_FAULT_SIGBUS;
  if (nopage_page == NOPAGE_OOM) return VM_FAULT_OOM;

  if (seed) {
    BUG_ON((vma->vm_flags & VM_CAN_INVALIDATE) && !PageLocked(nopage_page), "do_no_page:PageLocked",
           "VM_CAN_INVALIDATE ->nopage returned an unlocked page");
    // For consistency in subsequent calls, make the nopage_page always locked.
    if (!(vma->vm_flags & VM_CAN_INVALIDATE)) nopage_page->locked.lock("do_no_page:lock_page");
  }

  // Should we do an early C-O-W break?
  new_page = nopage_page;
  if (write_access) {
    if (!(vma->vm_flags & VM_SHARED)) {
      anon_vma_prepare(vma);
      page* p = alloc_page();
      if (!p) {
        ret = VM_FAULT_OOM;
        goto out_error;
      }
      copy_user_highpage(p, nopage_page);
      if (!seed) page_cache_release(nopage_page);  // 2.6.20 drops the file page at once
      new_page = p;
      anon = 1;
    } else if (vma->vm_ops->page_mkwrite) {
      // If the page will be shareable, see if the backing address space
      // wants to know that the page is about to become writable.
      if (vma->vm_ops->page_mkwrite(vma, new_page) & VM_FAULT_ERROR) {
        ret = VM_FAULT_SIGBUS;
        goto out_error;
      }
    }
  }

  spin_lock(ptl, "do_no_page:pte_offset_map_lock");
  if (!seed && mapping) {
    // For a file-backed vma, someone could have truncated or otherwise
    // invalidated this page. If unmap_mapping_range got called, retry.
    access_note("do_no_page:truncate_count_locked", obj_truncate_count(mapping), sim::Access::Read);
    if (sequence != mapping->truncate_count) {
      spin_unlock(ptl, "do_no_page:pte_unmap_unlock_retry");
      page_cache_release(new_page);
      point_read("do_no_page:truncate_count_again", obj_truncate_count(mapping));
      sequence = mapping->truncate_count;
      sim().retry("do_no_page:retry");
      goto retry;
    }
  }

  // Only go through if we didn't race with anybody else...
  access_note("do_no_page:pte_none", obj_pte(mm, address), sim::Access::Read);
  if (pte_none(*page_table)) {
    set_new_pte(mm, vma, address, page_table, new_page, write_access, anon, "do_no_page:set_pte_at");
    if (!anon && write_access) {
      dirty_page = new_page;
      get_page(dirty_page);
    }
  } else if (!seed) {
    // One of our sibling threads was faster, back out.
    page_cache_release(new_page);
  } else if (anon) {
    page_cache_release(new_page);
  } else {
    anon = 1;  // not anon, but release nopage_page
  }
  spin_unlock(ptl, "do_no_page:pte_unmap_unlock");

out:
  if (seed) {
    unlock_page(nopage_page);
    if (anon) page_cache_release(nopage_page);
  }
  if (dirty_page) {
    // No wait for a racing clear_page_dirty_for_io() here: the patched fault
    // holds the page lock across the pte install.
    set_page_dirty_balance(dirty_page);
    put_page(dirty_page);
  }
  return ret;

out_error:
  if (!seed) {
    page_cache_release(nopage_page);
    return ret;
  }
  anon = 1;  // release nopage_page
  goto out;
}

// ---- Linux 2.6.23 to 2.6.26: ->fault, __do_fault and do_linear_fault ---------

// The page stays locked from ->fault (or, for a legacy ->nopage, from here)
// until the pte is in: the fix of the reference patch, merged.
static int __do_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* page_table, pgoff_t pgoff,
                      unsigned int flags, pte_t orig_pte) {
  KFUNC("__do_fault");
  sim::SpinLock* ptl = &mm->page_table_lock;
  page* p;
  int anon = 0;
  page* dirty_page = nullptr;
  vm_fault vmf{.flags = flags, .pgoff = pgoff, .virtual_address = address & PAGE_MASK, .page = nullptr};
  int ret;

  if (vma->vm_ops->fault) {
    ret = vma->vm_ops->fault(vma, &vmf);
    if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) return ret;
  } else {
    // Legacy ->nopage path
    ret = VM_FAULT_MINOR;
    vmf.page = vma->vm_ops->nopage(vma, address & PAGE_MASK, &ret);
    // no page was available -- either SIGBUS or OOM
    if (vmf.page == NOPAGE_SIGBUS) return VM_FAULT_SIGBUS;
    if (vmf.page == NOPAGE_OOM) return VM_FAULT_OOM;
  }

  // For consistency in subsequent calls, make the faulted page always locked.
  if (!(ret & VM_FAULT_LOCKED))
    vmf.page->locked.lock("__do_fault:lock_page_legacy");
  else
    BUG_ON(!PageLocked(vmf.page), "__do_fault:VM_FAULT_LOCKED", "->fault returned an unlocked page");

  // Should we do an early C-O-W break?
  p = vmf.page;
  if (flags & FAULT_FLAG_WRITE) {
    if (!(vma->vm_flags & VM_SHARED)) {
      anon = 1;
      anon_vma_prepare(vma);
      p = alloc_page();
      if (!p) {
        ret = VM_FAULT_OOM;
        goto out;
      }
      copy_user_highpage(p, vmf.page);
    } else if (vma->vm_ops->page_mkwrite && cfg().fault_mkwrite_unlocked) {
      // If the page will be shareable, see if the backing address space
      // wants to know that the page is about to become writable.
      unlock_page(p);
      if (cfg().page_mkwrite_locked) {
        // 2.6.30: the page comes back locked (or was truncated: retry).
        const int tmp = do_page_mkwrite(vma, p);
        if (!tmp || (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE))) {
          ret = tmp & VM_FAULT_ERROR ? tmp : VM_FAULT_MINOR;
          anon = 1;  // no anon but release vmf.page
          goto out_unlocked;
        }
        goto mkwrite_locked;
      }
      if (vma->vm_ops->page_mkwrite(vma, p) & VM_FAULT_ERROR) {
        ret = VM_FAULT_SIGBUS;
        anon = 1;  // no anon but release vmf.page
        goto out_unlocked;
      }
      p->locked.lock("__do_fault:lock_page");
      // XXX: this is not quite right (racy vs invalidate) to unlock and
      // relock the page like this, however a better fix requires reworking
      // page_mkwrite locking API, which is better done later.
      point_read("__do_fault:page_mapping", obj_page_mapping(p));
      if (!p->mapping) {
        ret = VM_FAULT_MINOR;
        anon = 1;  // no anon but release vmf.page
        goto out;
      }
    } else if (vma->vm_ops->page_mkwrite) {
      // Without the switch: ->page_mkwrite under the page lock, as the reference patch calls it.
      if (vma->vm_ops->page_mkwrite(vma, p) & VM_FAULT_ERROR) {
        ret = VM_FAULT_SIGBUS;
        anon = 1;  // no anon but release vmf.page
        goto out;
      }
    }
  }

mkwrite_locked:
  spin_lock(ptl, "__do_fault:pte_offset_map_lock");
  // Only go through if we didn't race with anybody else...
  access_note("__do_fault:pte_same", obj_pte(mm, address), sim::Access::Read);
  if (pte_same(*page_table, orig_pte)) {
    set_new_pte(mm, vma, address, page_table, p, flags & FAULT_FLAG_WRITE, anon, "__do_fault:set_pte_at");
    if (!anon && (flags & FAULT_FLAG_WRITE)) {
      dirty_page = p;
      get_page(dirty_page);
    }
  } else if (anon) {
    page_cache_release(p);
  } else {
    anon = 1;  // no anon but release faulted_page
  }
  spin_unlock(ptl, "__do_fault:pte_unmap_unlock");

out:
  if (dirty_page && cfg().page_mkwrite_locked) {
    // 2.6.30: dirtied before the page lock goes, so writeback cannot clean
    // the page between the pte and PG_dirty.
    set_page_dirty(dirty_page);
    unlock_page(dirty_page);
    put_page(dirty_page);
    return ret;
  }
  unlock_page(vmf.page);
out_unlocked:
  if (anon) {
    page_cache_release(vmf.page);
  } else if (dirty_page) {
    set_page_dirty_balance(dirty_page);
    put_page(dirty_page);
  }
  return ret;
}

static int do_linear_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* page_table,
                           int write_access, pte_t orig_pte) {
  KFUNC("do_linear_fault");
  const pgoff_t pgoff = pgoff_t((((address & PAGE_MASK) - vma->vm_start) >> PAGE_CACHE_SHIFT) + vma->vm_pgoff.v);
  const unsigned int flags = write_access ? FAULT_FLAG_WRITE : 0;
  return __do_fault(mm, vma, address, page_table, pgoff, flags, orig_pte);
}

// ---- both: write faults on present ptes, handle_pte_fault ---------------------

// We enter with the pte lock held and the pte unchanged since the caller
// read it; we return with the lock dropped.
int do_wp_page(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* page_table, pte_t orig_pte) {
  KFUNC("do_wp_page");
  sim::SpinLock* ptl = &mm->page_table_lock;
  page* old_page = pte_page(orig_pte);
  page* new_page;
  page* dirty_page = nullptr;
  int reuse = 0;
  int page_mkwrite = 0;
  int ret = VM_FAULT_MINOR;

  if (PageAnon(old_page)) {
    if (!TestSetPageLocked(old_page)) {
      reuse = page_mapcount(old_page) == 1;  // can_share_swap_page without swap
      unlock_page(old_page);
    }
  } else if ((vma->vm_flags & (VM_WRITE | VM_SHARED)) == (VM_WRITE | VM_SHARED)) {
    // Only catch write-faults on shared writable pages, read-only shared
    // pages can get COWed by get_user_pages(.write=1, .force=1).
    if (vma->vm_ops->page_mkwrite) {
      // Notify the address space that the page is about to become writable
      // so that it can prohibit this or wait for the page to get into an
      // appropriate state. We do this without the lock held.
      page_cache_get(old_page);
      spin_unlock(ptl, "do_wp_page:pte_unmap_unlock_mkwrite");
      if (cfg().page_mkwrite_locked) {
        // 2.6.30: the page comes back locked and stays so until it is dirty.
        const int tmp = do_page_mkwrite(vma, old_page);
        if (!tmp || (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE))) {
          page_cache_release(old_page);
          return tmp & VM_FAULT_ERROR ? tmp : VM_FAULT_MINOR;
        }
        page_mkwrite = 1;
        spin_lock(ptl, "do_wp_page:pte_offset_map_lock_mkwrite");
        page_cache_release(old_page);
        access_note("do_wp_page:pte_same_mkwrite", obj_pte(mm, address), sim::Access::Read);
        if (!pte_same(*page_table, orig_pte)) {
          unlock_page(old_page);
          goto unlock;
        }
      } else {
        if (vma->vm_ops->page_mkwrite(vma, old_page) & VM_FAULT_ERROR) goto unwritable_page;
        if (!cfg().wp_page_mkwrite_late_release) page_cache_release(old_page);
        spin_lock(ptl, "do_wp_page:pte_offset_map_lock_mkwrite");
        if (cfg().wp_page_mkwrite_late_release) page_cache_release(old_page);
        // Since we dropped the lock we need to revalidate the PTE as someone
        // else may have changed it. If they did, we just return, as we can
        // count on the MMU to tell us if they didn't also make it writable.
        access_note("do_wp_page:pte_same_mkwrite", obj_pte(mm, address), sim::Access::Read);
        if (!pte_same(*page_table, orig_pte)) goto unlock;
      }
    }
    dirty_page = old_page;
    get_page(dirty_page);
    reuse = 1;
  }

  if (reuse) {
    pte_t entry = orig_pte;
    entry.young = true;
    entry.dirty = true;
    entry = maybe_mkwrite(entry, vma);
    set_pte_at(mm, address, page_table, entry, "do_wp_page:ptep_set_access_flags");
    ret |= VM_FAULT_WRITE;
    goto unlock;
  }

  // Ok, we need to copy. Oh, well..
  page_cache_get(old_page);
  spin_unlock(ptl, "do_wp_page:pte_unmap_unlock_copy");
  anon_vma_prepare(vma);
  new_page = alloc_page();
  if (!new_page) goto oom;
  copy_user_highpage(new_page, old_page);

  // Re-check the pte - we dropped the lock.
  spin_lock(ptl, "do_wp_page:pte_offset_map_lock_copy");
  access_note("do_wp_page:pte_same", obj_pte(mm, address), sim::Access::Read);
  if (pte_same(*page_table, orig_pte)) {
    page_remove_rmap(old_page, vma);
    if (!PageAnon(old_page)) {
      --mm->file_rss;
      ++mm->anon_rss;
    }
    pte_t entry = mk_pte(new_page, vma);
    entry.dirty = true;
    entry = maybe_mkwrite(entry, vma);
    set_pte_at(mm, address, page_table, entry, "do_wp_page:set_pte_at");
    page_add_new_anon_rmap(new_page, vma, address);
    // Free the old page: the release below drops the old pte's reference.
    new_page = old_page;
    ret |= VM_FAULT_WRITE;
  }
  if (new_page) page_cache_release(new_page);
  page_cache_release(old_page);
unlock:
  spin_unlock(ptl, "do_wp_page:pte_unmap_unlock");
  if (dirty_page) {
    if (page_mkwrite) {
      // 2.6.30: dirtied under the page lock ->page_mkwrite returned it with.
      set_page_dirty(dirty_page);
      unlock_page(dirty_page);
      put_page(dirty_page);
      return ret;
    }
    if (cfg().fault_dirty_page_wait) wait_on_page_locked(dirty_page);
    set_page_dirty_balance(dirty_page);
    put_page(dirty_page);
  }
  return ret;
oom:
  page_cache_release(old_page);
  return VM_FAULT_OOM;
unwritable_page:
  page_cache_release(old_page);
  return VM_FAULT_SIGBUS;
}

static int handle_pte_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* pte, int write_access) {
  point_read("handle_pte_fault:read_pte", obj_pte(mm, address));
  pte_t entry = *pte;
  if (!entry.present) {
    // 2.6.23: ->fault and legacy ->nopage handlers both go through __do_fault.
    if (cfg().fault_vm_fault_locked) return do_linear_fault(mm, vma, address, pte, write_access, entry);
    return do_no_page(mm, vma, address, pte, write_access);
  }

  return handle_present_pte(mm, vma, address, pte, entry, write_access);
}

int handle_present_pte(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* pte, pte_t entry, bool write) {
  sim::SpinLock* ptl = &mm->page_table_lock;
  spin_lock(ptl, "handle_pte_fault:spin_lock");
  access_note("handle_pte_fault:pte_same", obj_pte(mm, address), sim::Access::Read);
  if (pte_same(*pte, entry)) {
    if (write) {
      if (!entry.write) return do_wp_page(mm, vma, address, pte, entry);
      entry.dirty = true;
    }
    entry.young = true;
    if (!pte_same(*pte, entry)) set_pte_at(mm, address, pte, entry, "handle_pte_fault:ptep_set_access_flags");
  }
  spin_unlock(ptl, "handle_pte_fault:pte_unmap_unlock");
  return VM_FAULT_MINOR;
}

int handle_mm_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, int write_access) {
  KFUNC("handle_mm_fault");
  return handle_pte_fault(mm, vma, address, pte_offset(mm, address), write_access) & ~VM_FAULT_WRITE;
}

// ---- zapping -----------------------------------------------------------------

// 6.x: a PMD mapping of a file folio goes whole, whatever part of it is
// zapped (__split_huge_pmd of a file PMD just zaps it; the next fault maps
// ptes). Called with the pte lock held (the pmd lock of the model).
void zap_huge_pmd(vm_area_struct* vma, unsigned long addr, zap_details* details) {
  KFUNC("zap_huge_pmd");
  mm_struct* mm = vma->vm_mm;
  const unsigned long haddr = addr & ~(PTRS_PER_PTE * PAGE_SIZE - 1);
  page* folio = compound_head(pte_page(*pte_offset(mm, haddr)));
  if (details && details->check_mapping && folio->mapping != details->check_mapping) return;
  bool dirty = false;
  for (unsigned long a = haddr; a < haddr + PTRS_PER_PTE * PAGE_SIZE; a += PAGE_SIZE) {
    dirty |= pte_offset(mm, a)->dirty;
    set_pte_at(mm, a, pte_offset(mm, a), pte_t{}, "zap_huge_pmd:pmdp_huge_get_and_clear");
  }
  mm->pmd[(haddr >> PAGE_SHIFT) / PTRS_PER_PTE] = pmd_t::None;
  if (dirty) set_page_dirty(folio);
  mm->file_rss -= PTRS_PER_PTE;
  folio_remove_rmap_pmd(folio, vma);
  put_page(folio);
}

static void zap_pte_range(vm_area_struct* vma, unsigned long addr, unsigned long end, zap_details* details) {
  KFUNC("zap_pte_range");
  mm_struct* mm = vma->vm_mm;
  sim::SpinLock* ptl = &mm->page_table_lock;
  spin_lock(ptl, "zap_pte_range:pte_offset_map_lock");
  for (; addr < end; addr += PAGE_SIZE) {
    if (mm->pmd[(addr >> PAGE_SHIFT) / PTRS_PER_PTE] == pmd_t::Huge) [[unlikely]] {
      zap_huge_pmd(vma, addr, details);
      addr |= PTRS_PER_PTE * PAGE_SIZE - 1;
      addr &= PAGE_MASK;
      continue;
    }
    pte_t* pte = pte_offset(mm, addr);
    access_note("zap_pte_range:read_pte", obj_pte(mm, addr), sim::Access::Read);
    if (pte_none(*pte)) continue;
    page* p = pte_page(*pte);
    // unmap_shared_mapping_pages() wants to invalidate cache without
    // truncating: it leaves anonymous COW pages (and pages already cut off
    // from the mapping) where they are.
    if (details && details->check_mapping && p->mapping != details->check_mapping) continue;
    const pte_t ptent = *pte;
    set_pte_at(mm, addr, pte, pte_t{}, "zap_pte_range:ptep_get_and_clear");
    if (PageAnon(p)) {
      --mm->anon_rss;
    } else {
      if (ptent.dirty) set_page_dirty(p);
      --mm->file_rss;
    }
    page_remove_rmap(p, vma);
    // tlb_remove_page: the reference is dropped at once (the gather batch is not modelled).
    put_page(p);
  }
  spin_unlock(ptl, "zap_pte_range:pte_unmap_unlock");
}

void zap_page_range(vm_area_struct* vma, unsigned long address, unsigned long size, zap_details* details) {
  KFUNC("zap_page_range");
  const unsigned long start = std::max(address, vma->vm_start);
  const unsigned long end = std::min(address + size, vma->vm_end);
  if (start < end) zap_pte_range(vma, start, end, details);
}

static void unmap_mapping_range_vma(vm_area_struct* vma, unsigned long start_addr, unsigned long end_addr,
                                    zap_details* details) {
  if (cfg().seed_fault_pagelock && !cfg().fault_vm_fault_locked) {
    // Files that support invalidating or truncating portions of the file
    // from under mmaped areas must set VM_CAN_INVALIDATE and have their
    // ->nopage return the page locked.
    BUG_ON(!(vma->vm_flags & VM_CAN_INVALIDATE), "unmap_mapping_range_vma:VM_CAN_INVALIDATE",
           "vma without VM_CAN_INVALIDATE");
  }
  zap_page_range(vma, start_addr, end_addr - start_addr, details);
}

void unmap_mapping_range(address_space* mapping, loff_t holebegin, loff_t holelen, int even_cows) {
  KFUNC("unmap_mapping_range");
  zap_details details;
  const pgoff_t hba = pgoff_t(uint64_t(holebegin) >> PAGE_SHIFT);
  uint64_t hlen = (uint64_t(holelen) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  details.check_mapping = even_cows ? nullptr : mapping;
  details.first_index = hba;
  details.last_index = hlen ? hba + (hlen - 1) : pgoff_max();  // holelen 0: to the end

  spin_lock(&mapping->i_mmap_lock, "unmap_mapping_range:i_mmap_lock");
  // 2.6.20: protect against page faults (smp_wmb/smp_mb around the increment);
  // after the patch only against endless unmapping loops.
  point_write("unmap_mapping_range:truncate_count++", obj_truncate_count(mapping));
  ++mapping->truncate_count;
  for (uint32_t i = 0; i < mapping->i_mmap_count; ++i) {
    vm_area_struct* vma = mapping->i_mmap[i];
    const pgoff_t vba = vma->vm_pgoff;
    const pgoff_t vea = vba + ((vma->vm_end - vma->vm_start) >> PAGE_SHIFT) - 1;
    if (vea < details.first_index || vba > details.last_index) continue;
    const pgoff_t zba = std::max(vba, details.first_index);
    const pgoff_t zea = std::min(vea, details.last_index);
    unmap_mapping_range_vma(vma, vma->vm_start + ((zba - vba) << PAGE_SHIFT),
                            vma->vm_start + ((zea - vba + 1) << PAGE_SHIFT), &details);
  }
  spin_unlock(&mapping->i_mmap_lock, "unmap_mapping_range:i_mmap_unlock");
}

// Handle all mappings that got truncated by a "truncate()" system call. The
// caller holds i_mutex and i_alloc_sem for write.
int vmtruncate(inode* inode, loff_t offset) {
  KFUNC("vmtruncate");
  address_space* mapping = inode->i_mapping;
  if (inode->i_size < offset) {
    // do_expand
    if (offset > kMaxFileBytes) return -EFBIG;
    i_size_write(inode, offset, "vmtruncate:i_size_write_expand");
  } else {
    i_size_write(inode, offset, "vmtruncate:i_size_write");
    // unmap_mapping_range is called twice in the merged form: the first is
    // for efficiency, the second for correctness (pages COWed meanwhile).
    const bool unmap_first = !cfg().seed_fault_pagelock || cfg().merged_truncate_unmap;
    if (unmap_first) unmap_mapping_range(mapping, offset + loff_t(PAGE_SIZE) - 1, 0, 1);
    truncate_inode_pages(mapping, offset);
    if (cfg().merged_truncate_unmap) unmap_mapping_range(mapping, offset + loff_t(PAGE_SIZE) - 1, 0, 1);
  }
  if (inode->i_op->truncate) inode->i_op->truncate(inode);
  return 0;
}

// Hole punch: `end` is the last byte, inclusive.
int vmtruncate_range(inode* inode, loff_t offset, loff_t end) {
  KFUNC("vmtruncate_range");
  address_space* mapping = inode->i_mapping;
  if (!inode->i_op || !inode->i_op->truncate_range) return -ENOSYS;
  mutex_lock(&inode->i_mutex, "vmtruncate_range:i_mutex");
  down_write(&inode->i_alloc_sem, "vmtruncate_range:i_alloc_sem");
  const bool unmap_first = !cfg().seed_fault_pagelock || cfg().merged_truncate_unmap;
  if (unmap_first) unmap_mapping_range(mapping, offset, end - offset, 1);
  truncate_inode_pages_range(mapping, offset, end);
  if (cfg().merged_truncate_unmap) unmap_mapping_range(mapping, offset, end - offset, 1);
  inode->i_op->truncate_range(inode, offset, end);
  up_write(&inode->i_alloc_sem, "vmtruncate_range:i_alloc_sem_up");
  mutex_unlock(&inode->i_mutex, "vmtruncate_range:i_mutex_unlock");
  return 0;
}

}  // namespace faultline::mm
