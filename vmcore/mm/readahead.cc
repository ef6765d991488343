// mm/readahead.c: __do_page_cache_readahead and read_pages. The readahead
// window state machine (page_cache_readahead) is not modelled: callers ask for
// the pages they want read ahead.
#include <algorithm>

#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

// Allocates the absent pages of [offset, offset + nr_to_read) below EOF, then
// adds each to the cache (locked) and starts its read.
int __do_page_cache_readahead(address_space* mapping, inode* file, pgoff_t offset, unsigned long nr_to_read) {
  KFUNC("__do_page_cache_readahead");
  const loff_t isize = i_size_read(file, "__do_page_cache_readahead:i_size_read");
  if (isize == 0) return 0;
  const pgoff_t end_index = pgoff_t(uint64_t(isize - 1) >> PAGE_CACHE_SHIFT);

  page* pages[kMaxFilePages];
  int ret = 0;
  // 5.15 (page_cache_ra_unbounded): pages are added under invalidate_lock.
  if (cfg().invalidate_lock) down_read(&mapping->invalidate_lock, "page_cache_ra_unbounded:invalidate_lock_shared");
  read_lock_irq(&mapping->tree_lock, "__do_page_cache_readahead:read_lock_irq");
  for (unsigned long i = 0; i < nr_to_read; ++i) {
    const pgoff_t page_offset = offset + i;
    if (page_offset > end_index || page_offset.v >= kMaxFilePages) break;
    access_note("__do_page_cache_readahead:radix_tree_lookup", obj_cache_slot(mapping, page_offset), sim::Access::Read);
    if (mapping->page_tree.slots[page_offset.v]) continue;
    read_unlock_irq(&mapping->tree_lock, "__do_page_cache_readahead:read_unlock_irq");
    page* p = alloc_page();
    read_lock_irq(&mapping->tree_lock, "__do_page_cache_readahead:read_lock_irq_again");
    if (!p) break;
    p->index = page_offset;
    pages[ret++] = p;
  }
  read_unlock_irq(&mapping->tree_lock, "__do_page_cache_readahead:read_unlock_irq_done");

  // read_pages: a page someone else added meanwhile is simply dropped.
  for (int i = 0; i < ret; ++i) {
    page* p = pages[i];
    if (add_to_page_cache_lru(p, mapping, p->index) == 0) mapping->a_ops->readpage(file, p);
    page_cache_release(p);
  }
  if (cfg().invalidate_lock) up_read(&mapping->invalidate_lock, "page_cache_ra_unbounded:invalidate_unlock_shared");
  return ret;
}

// 6.x page_cache_ra_order for a mapping with large folios: folios as large
// as the mapping takes and the window allows (the readahead state's ramp-up
// is not modelled: the largest order comes at once), naturally aligned, none
// past EOF, added and read under invalidate_lock. A folio that finds its
// slots taken ends the window.
int page_cache_ra_order(address_space* mapping, inode* file, pgoff_t index, unsigned long size) {
  KFUNC("page_cache_ra_order");
  const loff_t isize = i_size_read(file, "page_cache_ra_order:i_size_read");
  if (isize == 0) return 0;
  const pgoff_t limit = std::min(pgoff_t(uint64_t(isize - 1) >> PAGE_SHIFT), index + (size - 1));
  unsigned new_order = mapping->max_folio_order;
  while (new_order && (1ul << new_order) > size) --new_order;  // min(new_order, ilog2(ra->size))
  int nr = 0;
  down_read(&mapping->invalidate_lock, "page_cache_ra_order:filemap_invalidate_lock_shared");
  while (index <= limit && index.v < kMaxFilePages) {
    unsigned order = new_order;
    // Align with smaller pages if needed.
    while (order && index.v & ((1ul << order) - 1)) --order;
    // Don't allocate pages past EOF.
    while (order && index + ((1ul << order) - 1) > limit) --order;
    page* folio = alloc_pages(order);  // ra_alloc_folio
    if (!folio) break;
    if (add_to_page_cache_lru(folio, mapping, index)) {
      put_page(folio);
      break;
    }
    // read_pages, a folio at a time.
    mapping->a_ops->readpage(file, folio);
    put_page(folio);
    index = index + (1ul << order);
    ++nr;
  }
  up_read(&mapping->invalidate_lock, "page_cache_ra_order:filemap_invalidate_unlock_shared");
  return nr;
}

}  // namespace

int do_page_cache_readahead(address_space* mapping, inode* file, pgoff_t offset, unsigned long nr_to_read) {
  // No device is ever congested in the model.
  if (!mapping->a_ops->readpage) return 0;
  if (mapping->max_folio_order && nr_to_read >= 4) return page_cache_ra_order(mapping, file, offset, nr_to_read);
  return __do_page_cache_readahead(mapping, file, offset, nr_to_read);
}

}  // namespace faultline::mm
