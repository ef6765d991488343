// mm/shmem.c of 6.12 to 7.0, as far as folios change it: shmem_fault through
// shmem_get_folio_gfp, which allocates a PMD-size folio where the mount's
// huge= and the VMA allow it, and shmem_undo_range over folios, whose
// second pass splits a large folio (55ac8bbe358b, shmem_undo_split_large)
// rather than dropping it whole. shmem_fallocate, shmem_setattr, read() and
// write() stay the 3.x era's (write() and fallocate() allocate single pages).
#include <cstring>

#include "vmcore/mm/locking.h"
#include "vmcore/v3/v3.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm::v6 {

namespace {

// shmem_huge_global_enabled for a fault on a tmpfs mapping (the PMD order:
// there is no write size hint): huge=always, or huge=within_size when the
// aligned PMD-size folio ends inside i_size.
bool shmem_huge_global_enabled(inode* inode, pgoff_t index) {
  switch (inode->info.huge) {
    case ShmemHuge::Never: return false;
    case ShmemHuge::Always: return true;
    case ShmemHuge::WithinSize: {
      const uint64_t aligned_index = (index.v + HPAGE_PMD_NR) & ~uint64_t(HPAGE_PMD_NR - 1);  // round_up(index + 1)
      const uint64_t i_size = (uint64_t(i_size_read(inode, "shmem_huge_global_enabled:i_size_read")) + PAGE_SIZE - 1) &
                              ~uint64_t(PAGE_SIZE - 1);
      return i_size >> PAGE_SHIFT >= aligned_index;
    }
  }
  return false;
}

// shmem_suitable_orders for the PMD order: the VMA can map the folio, and no
// slot of its aligned range is taken (a huge folio just added by a racing
// fault, or a small page already in the extent).
unsigned shmem_suitable_order(address_space* mapping, vm_area_struct* vma, vm_fault* vmf) {
  if (!thp_vma_suitable_order(vma, vmf->virtual_address)) return 0;
  const pgoff_t aligned_index(vmf->pgoff.v & ~uint64_t(HPAGE_PMD_NR - 1));
  if (aligned_index.v + HPAGE_PMD_NR > kMaxFilePages) return 0;
  for (unsigned i = 0; i < HPAGE_PMD_NR; ++i) {
    access_note("shmem_suitable_orders:xa_find", obj_cache_slot(mapping, aligned_index + i), sim::Access::Read);
    if (mapping->page_tree.slots[aligned_index.v + i]) return 0;
  }
  return HPAGE_PMD_ORDER;
}

// shmem_alloc_and_add_folio: a folio of 2^order pages around index, locked
// and in the cache, or nullptr and -ENOMEM or -EEXIST (a slot was taken).
page* shmem_alloc_and_add_folio(address_space* mapping, pgoff_t index, unsigned order, int* error) {
  index = pgoff_t(index.v & ~((uint64_t(1) << order) - 1));
  page* folio = alloc_pages(order);
  if (!folio) {
    *error = -ENOMEM;
    return nullptr;
  }
  *error = add_to_page_cache_lru(folio, mapping, index);
  if (*error) {
    put_page(folio);
    return nullptr;
  }
  return folio;
}

// shmem_get_folio_gfp without swap, for SGP_READ (a hole gives no folio) and
// SGP_CACHE (a fault): the locked, referenced folio of index in *foliop.
int shmem_get_folio_gfp(inode* inode, pgoff_t index, page** foliop, sgp_type sgp, vm_area_struct* vma,
                        vm_fault* vmf) {
  KFUNC("shmem_get_folio_gfp");
  address_space* mapping = inode->i_mapping;
  if (index.v >= kMaxFilePages) return -EFBIG;
  for (;;) {
    if (sgp <= SGP_CACHE && page_offset(index) >= i_size_read(inode, "shmem_get_folio_gfp:i_size_read")) return -EINVAL;
    bool alloced = false;
    page* p = find_get_page(mapping, index);  // filemap_get_entry
    page* folio = p ? page_folio(p) : nullptr;
    if (folio) {
      lock_page(folio);
      // Has the folio been truncated or swapped out?
      access_note("shmem_get_folio_gfp:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
      if (folio->mapping != mapping) {
        unlock_page(folio);
        put_page(folio);
        sim().retry("shmem_get_folio_gfp:repeat");
        continue;
      }
      point_read("shmem_get_folio_gfp:folio_test_uptodate", obj_page_flags(folio));
      if (PageUptodate(folio)) {
        *foliop = folio;
        return 0;
      }
      if (sgp == SGP_READ) {
        unlock_page(folio);
        put_page(folio);
        folio = nullptr;
      }
    }
    if (!folio) {
      // SGP_READ: succeed on hole, with NULL folio, letting caller zero.
      *foliop = nullptr;
      if (sgp == SGP_READ) return 0;
      int error = 0;
      if (vma && shmem_huge_global_enabled(inode, index))
        if (const unsigned order = shmem_suitable_order(mapping, vma, vmf))
          folio = shmem_alloc_and_add_folio(mapping, index, order, &error);
      if (!folio && error != -EEXIST) folio = shmem_alloc_and_add_folio(mapping, index, 0, &error);
      if (!folio) {
        if (error != -EEXIST) return error;
        sim().retry("shmem_get_folio_gfp:repeat_alloc");
        continue;
      }
      alloced = true;
    }
    // clear: a new (or fallocated, not yet uptodate) folio is zeroed whole.
    point_write("shmem_get_folio_gfp:folio_mark_uptodate", obj_page_flags(folio));
    if (!PageUptodate(folio)) {
      for (unsigned long i = 0; i < folio_nr_pages(folio); ++i) std::memset(folio[i].data, 0, PAGE_SIZE);
      SetPageUptodate(folio);
    }
    // Perhaps the file has been truncated since we checked.
    if (sgp <= SGP_CACHE &&
        page_offset(index) >= i_size_read(inode, "shmem_get_folio_gfp:i_size_read_again")) {
      if (alloced) filemap_remove_folio(folio);
      unlock_page(folio);
      put_page(folio);
      return -EINVAL;
    }
    *foliop = folio;
    return 0;
  }
}

// shmem_get_partial_folio: the folio at index, locked, whatever i_size says
// (shmem_get_folio(SGP_READ) would fail beyond it); nullptr for a hole.
page* shmem_get_partial_folio(inode* inode, pgoff_t index) {
  if (page* p = find_get_page(inode->i_mapping, index)) {
    page* folio = page_folio(p);
    lock_page(folio);
    access_note("shmem_get_partial_folio:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
    if (folio->mapping == inode->i_mapping) return folio;
    unlock_page(folio);
    put_page(folio);
  }
  page* folio = nullptr;
  shmem_get_folio_gfp(inode, index, &folio, SGP_READ, nullptr, nullptr);
  return folio;
}

// lend: the last byte, inclusive (-1: truncate to the end).
void shmem_undo_range(inode* inode, loff_t lstart, loff_t lend) {
  KFUNC("shmem_undo_range");
  address_space* mapping = inode->i_mapping;
  pgoff_t start((uint64_t(lstart) + PAGE_SIZE - 1) >> PAGE_SHIFT);
  pgoff_t end = lend == -1 ? pgoff_max() : pgoff_t(uint64_t(lend + 1) >> PAGE_SHIFT);
  page* batch[PAGEVEC_SIZE];

  pgoff_t index = start;
  while (index < end) {
    const unsigned n = find_lock_entries(mapping, &index, end - 1, batch);
    if (!n) break;
    for (unsigned i = 0; i < n; ++i) {
      truncate_inode_folio(mapping, batch[i]);
      unlock_page(batch[i]);
    }
    pagevec_release(batch, n);
  }

  // The folios at each end of the range: zeroed in it, split if large.
  const pgoff_t lend_index(uint64_t(lend >> PAGE_SHIFT));  // lend -1: beyond any folio
  bool same_folio = pgoff_t(uint64_t(lstart >> PAGE_SHIFT)) == lend_index;
  page* folio = shmem_get_partial_folio(inode, pgoff_t(uint64_t(lstart >> PAGE_SHIFT)));
  if (folio) {
    same_folio = uint64_t(lend) < uint64_t(page_offset(folio_next_index(folio)));
    set_page_dirty(folio);  // folio_mark_dirty
    if (!truncate_inode_partial_folio(folio, lstart, lend)) {
      start = folio_next_index(folio);
      if (same_folio) end = folio->index;
    }
    unlock_page(folio);
    put_page(folio);
    folio = nullptr;
  }
  if (!same_folio && lend_index.v < kMaxFilePages) folio = shmem_get_partial_folio(inode, lend_index);
  if (folio) {
    set_page_dirty(folio);
    if (!truncate_inode_partial_folio(folio, lstart, lend)) end = folio->index;
    unlock_page(folio);
    put_page(folio);
  }

  index = start;
  while (index < end) {
    point_local("shmem_undo_range:cond_resched");
    const unsigned n = find_get_entries(mapping, &index, end - 1, batch);
    if (!n) {
      // If all gone or hole-punch, we're done.
      if (index == start || lend != -1) break;
      // But if truncating, restart to make sure all gone.
      index = start;
      sim().retry("shmem_undo_range:restart");
      continue;
    }
    for (unsigned i = 0; i < n; ++i) {
      folio = batch[i];
      lock_page(folio);
      access_note("shmem_undo_range:folio_mapping", obj_page_mapping(folio), sim::Access::Read);
      if (folio->mapping != mapping) {
        // Gone meanwhile (swap is not modelled): look at its index again.
        unlock_page(folio);
        index = folio->index;
        break;
      }
      if (!folio_test_large(folio) || !cfg().shmem_undo_split_large) {
        // Before 55ac8bbe358b a THP faulted in over the range since the
        // partial-folio step goes whole, data outside the range with it.
        truncate_inode_folio(mapping, folio);
      } else if (truncate_inode_partial_folio(folio, lstart, lend) && !folio_test_large(folio)) {
        // If we split a page, reset the loop so that we pick up the new
        // sub pages. Otherwise the THP was entirely dropped or the target
        // range was zeroed, so just continue the loop as is.
        unlock_page(folio);
        index = start;
        break;
      }
      unlock_page(folio);
    }
    pagevec_release(batch, n);
  }
}

}  // namespace

int shmem_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("shmem_fault");
  inode* inode = vma->vm_file;
  const int waited = v3::shmem_falloc_wait(vma, vmf, inode);
  if (waited >= 0) return waited;
  page* folio = nullptr;
  const int err = shmem_get_folio_gfp(inode, vmf->pgoff, &folio, SGP_CACHE, vma, vmf);
  if (err) return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;  // vmf_error
  vmf->page = folio_file_page(folio, vmf->pgoff);
  return VM_FAULT_MINOR | VM_FAULT_LOCKED;
}

void shmem_truncate_range(inode* inode, loff_t lstart, loff_t lend) { shmem_undo_range(inode, lstart, lend); }

}  // namespace faultline::mm::v6
