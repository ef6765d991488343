// mm/truncate.c of 6.12: truncate_inode_pages_range over folios. The first
// pass takes the folios wholly inside the range that it can lock at once
// (find_lock_entries); the folios at each end go to
// truncate_inode_partial_folio, which zeroes the part in the range and
// splits a large one; a large folio that fails to split is kept if dirty
// (the range shrinks around it), dropped if clean (fa04f5b60fda: unmapped
// first). The second pass locks and truncates what is left, restarting until
// the range is empty. The callers (truncate_pagecache and
// truncate_pagecache_range) are the 3.x era's.
#include <algorithm>
#include <cstring>

#include "vmcore/mm/locking.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm::v6 {

namespace {

// Unmaps the folio if mapped, cancels its dirtiness.
void truncate_cleanup_folio(page* folio) {
  if (folio_mapped(folio)) unmap_folio_range(folio);
  TestClearPageDirty(folio);  // folio_cancel_dirty
}

}  // namespace

void filemap_remove_folio(page* folio) {
  remove_from_page_cache(folio);
  put_page(folio);
}

int truncate_inode_folio(address_space* mapping, page* folio) {
  KFUNC("truncate_inode_folio");
  access_note("truncate_inode_folio:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
  if (folio->mapping != mapping) return -EIO;
  truncate_cleanup_folio(folio);
  filemap_remove_folio(folio);
  return 0;
}

unsigned find_lock_entries(address_space* mapping, pgoff_t* start, pgoff_t end, page** batch) {
  KFUNC("find_lock_entries");
  unsigned n = 0;
  for (pgoff_t i = *start; n < PAGEVEC_SIZE && i <= end && i.v < kMaxFilePages;) {
    access_note("find_lock_entries:find_get_entry", obj_cache_slot(mapping, i), sim::Access::Read);
    page* p = mapping->page_tree.slots[i.v];
    if (!p) {
      ++i;
      continue;
    }
    page* folio = page_folio(p);
    i = folio_next_index(folio);
    get_page(folio);
    // Omit a large folio which begins before the start or extends beyond the end.
    if (folio->index < *start || folio_next_index(folio) - 1 > end || TestSetPageLocked(folio)) {
      put_page(folio);
      continue;
    }
    access_note("find_lock_entries:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
    if (folio->mapping != mapping || PageWriteback(folio)) {
      unlock_page(folio);
      put_page(folio);
      continue;
    }
    batch[n++] = folio;
  }
  if (n) *start = folio_next_index(batch[n - 1]);
  return n;
}

unsigned find_get_entries(address_space* mapping, pgoff_t* start, pgoff_t end, page** batch) {
  unsigned n = 0;
  for (pgoff_t i = *start; n < PAGEVEC_SIZE && i <= end && i.v < kMaxFilePages; ++i) {
    access_note("find_get_entries:find_get_entry", obj_cache_slot(mapping, i), sim::Access::Read);
    page* p = mapping->page_tree.slots[i.v];
    if (!p) continue;
    page* folio = page_folio(p);
    if (n && batch[n - 1] == folio) continue;
    get_page(folio);
    batch[n++] = folio;
  }
  if (n) *start = folio_next_index(batch[n - 1]);
  return n;
}

namespace {

// fa04f5b60fda: on failure the folio is unmapped (tmpfs excepted), so no
// PMD or pte keeps mapping it across the new EOF.
bool try_folio_split_or_unmap(page* folio) {
  if (!split_folio(folio)) return true;
  if (cfg().truncate_unmap_unsplit_folio && !shmem_mapping(folio->mapping)) {
    unmap_folio_range(folio);
    BUG_ON(folio_mapped(folio), "try_folio_split_or_unmap:folio_mapped", "unsplit folio still mapped");
  }
  return false;
}

}  // namespace

// Handle partial folios. The folio may be entirely within the range if a
// split has raced with us. If not, we zero the part of the folio that's
// within the [start, end] range, and then split the folio if it's large.
// Returns false if the folio stays (large, dirty, not split).
bool truncate_inode_partial_folio(page* folio, loff_t start, loff_t end) {
  KFUNC("truncate_inode_partial_folio");
  const loff_t pos = page_offset(folio->index);
  const loff_t size = loff_t(folio_nr_pages(folio) * PAGE_SIZE);
  const loff_t offset = pos < start ? start - pos : 0;
  const loff_t length = uint64_t(pos + size) <= uint64_t(end) ? size - offset : end + 1 - pos - offset;
  wait_on_page_writeback(folio);
  if (length == size) {
    truncate_inode_folio(folio->mapping, folio);
    return true;
  }
  // We may be zeroing pages we're about to discard, but it avoids doing a
  // complex calculation here, and then doing the zeroing anyway if the
  // page split fails.
  for (loff_t at = offset; at < offset + length;) {
    page* p = folio + (at >> PAGE_SHIFT);
    const loff_t in_page = at & loff_t(PAGE_SIZE - 1);
    const loff_t n = std::min<loff_t>(loff_t(PAGE_SIZE) - in_page, offset + length - at);
    point_write("truncate_inode_partial_folio:folio_zero_range", obj_page_data(p));
    std::memset(p->data + in_page, 0, size_t(n));
    at += n;
  }
  // folio_invalidate (block_invalidate_folio): the buffers wholly inside
  // the range are discarded; their blocks are being freed.
  for (loff_t at = (offset + loff_t(PAGE_SIZE) - 1) & loff_t(PAGE_MASK); at + loff_t(PAGE_SIZE) <= offset + length;
       at += loff_t(PAGE_SIZE))
  {
    folio[at >> PAGE_SHIFT].b_blocknr = kNoBlock;
    folio[at >> PAGE_SHIFT].buffer_discarded = true;
  }
  if (!folio_test_large(folio)) return true;
  if (try_folio_split_or_unmap(folio)) return true;
  point_read("truncate_inode_partial_folio:folio_test_dirty", obj_page_flags(folio));
  if (PageDirty(folio)) return false;
  truncate_inode_folio(folio->mapping, folio);
  return true;
}

namespace {

// __filemap_get_folio(FGP_LOCK): the folio holding index, locked and still
// in the mapping, or nullptr.
page* filemap_lock_folio(address_space* mapping, pgoff_t index) {
  page* p = find_lock_page(mapping, index);
  return p ? page_folio(p) : nullptr;
}

}  // namespace

void unmap_folio_range(page* folio) {
  unmap_mapping_range(folio->mapping, page_offset(folio->index), loff_t(folio_nr_pages(folio) * PAGE_SIZE), 0);
}

namespace {

// folio_unmap_invalidate: under the folio lock, unmap what a fault mapped
// since the range unmap, launder, and take the folio out unless it is dirty
// again (-EBUSY).
int folio_unmap_invalidate(address_space* mapping, page* folio) {
  if (folio_mapped(folio)) unmap_folio_range(folio);
  BUG_ON(folio_mapped(folio), "folio_unmap_invalidate:folio_mapped", "folio mapped after unmap_mapping_folio");
  if (PageDirty(folio) && mapping->a_ops->launder_page)
    if (const int ret = mapping->a_ops->launder_page(folio)) return ret;
  access_note("folio_unmap_invalidate:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
  if (folio->mapping != mapping) return -EBUSY;
  write_lock_irq(&mapping->tree_lock, "folio_unmap_invalidate:xa_lock_irq");
  access_note("folio_unmap_invalidate:folio_test_dirty", obj_page_flags(folio), sim::Access::Read);
  if (PageDirty(folio)) {
    write_unlock_irq(&mapping->tree_lock, "folio_unmap_invalidate:xa_unlock_irq_failed");
    return -EBUSY;
  }
  __remove_from_page_cache(folio);
  write_unlock_irq(&mapping->tree_lock, "folio_unmap_invalidate:xa_unlock_irq");
  put_page(folio);  // filemap_free_folio
  return 1;
}

}  // namespace

int invalidate_inode_pages2_range(address_space* mapping, pgoff_t start, pgoff_t end) {
  KFUNC("invalidate_inode_pages2_range");
  page* batch[PAGEVEC_SIZE];
  int ret = 0;
  bool did_range_unmap = false;
  point_read("invalidate_inode_pages2_range:mapping_empty", obj_nrpages(mapping));
  if (mapping->nrpages == 0) return 0;
  pgoff_t index = start;
  while (const unsigned n = find_get_entries(mapping, &index, end, batch)) {
    for (unsigned i = 0; i < n; ++i) {
      page* folio = batch[i];
      // If the folio is mapped, before taking its lock, zap the rest of the
      // file in one hit.
      if (!did_range_unmap && page_mapped(folio, "invalidate_inode_pages2_range:folio_mapped")) {
        const pgoff_t from = std::max(folio->index, start);
        unmap_mapping_range(mapping, page_offset(from), loff_t((end - from + 1) << PAGE_SHIFT), 0);
        did_range_unmap = true;
      }
      lock_page(folio);
      access_note("invalidate_inode_pages2_range:folio->mapping", obj_page_mapping(folio), sim::Access::Read);
      if (folio->mapping != mapping) {
        unlock_page(folio);
        continue;
      }
      wait_on_page_writeback(folio);
      const int ret2 = folio_unmap_invalidate(mapping, folio);
      if (ret2 < 0) ret = ret2;
      unlock_page(folio);
    }
    pagevec_release(batch, n);
  }
  return ret;
}

void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend) {
  KFUNC("truncate_inode_pages_range");
  page* batch[PAGEVEC_SIZE];

  point_read("truncate_inode_pages_range:mapping_empty", obj_nrpages(mapping));
  if (mapping->nrpages == 0) return;

  // 'start' and 'end' always covers the range of pages to be fully
  // truncated; end is exclusive, lend inclusive (-1: unsigned, so the end).
  pgoff_t start((uint64_t(lstart) + PAGE_SIZE - 1) >> PAGE_SHIFT);
  pgoff_t end = lend == -1 ? pgoff_max() : pgoff_t(uint64_t(lend + 1) >> PAGE_SHIFT);

  pgoff_t index = start;
  while (index < end) {
    const unsigned n = find_lock_entries(mapping, &index, end - 1, batch);
    if (!n) break;
    for (unsigned i = 0; i < n; ++i) truncate_cleanup_folio(batch[i]);
    // delete_from_page_cache_batch
    for (unsigned i = 0; i < n; ++i) filemap_remove_folio(batch[i]);
    for (unsigned i = 0; i < n; ++i) unlock_page(batch[i]);
    pagevec_release(batch, n);
  }

  const pgoff_t lstart_index(uint64_t(lstart >> PAGE_SHIFT));
  const pgoff_t lend_index(uint64_t(lend >> PAGE_SHIFT));  // lend -1: beyond any folio
  bool same_folio = lstart_index == lend_index;
  if (page* folio = filemap_lock_folio(mapping, lstart_index)) {
    // loff_t against folio_pos + folio_size (size_t): an unsigned compare,
    // so lend == -1 (to the end) is never in the same folio.
    same_folio = uint64_t(lend) < uint64_t(page_offset(folio_next_index(folio)));
    if (!truncate_inode_partial_folio(folio, lstart, lend)) {
      start = folio_next_index(folio);
      if (same_folio) end = folio->index;
    }
    unlock_page(folio);
    put_page(folio);
  }
  if (!same_folio) {
    if (page* folio = filemap_lock_folio(mapping, lend_index)) {
      if (!truncate_inode_partial_folio(folio, lstart, lend)) end = folio->index;
      unlock_page(folio);
      put_page(folio);
    }
  }

  index = start;
  while (index < end) {
    const unsigned n = find_get_entries(mapping, &index, end - 1, batch);
    if (!n) {
      // If all gone from start onwards, we're done.
      if (index == start) break;
      // Otherwise restart to make sure all gone.
      index = start;
      sim().retry("truncate_inode_pages_range:restart");
      continue;
    }
    for (unsigned i = 0; i < n; ++i) {
      page* folio = batch[i];
      // We rely upon deletion not changing folio->index.
      lock_page(folio);
      wait_on_page_writeback(folio);
      truncate_inode_folio(mapping, folio);
      unlock_page(folio);
    }
    pagevec_release(batch, n);
  }
}

}  // namespace faultline::mm::v6
