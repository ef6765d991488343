// mm/readahead.c: __do_page_cache_readahead and read_pages. The readahead
// window state machine (page_cache_readahead) is not modelled: callers ask for
// the pages they want read ahead.
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

}  // namespace

int do_page_cache_readahead(address_space* mapping, inode* file, pgoff_t offset, unsigned long nr_to_read) {
  // No device is ever congested in the model.
  if (!mapping->a_ops->readpage) return 0;
  return __do_page_cache_readahead(mapping, file, offset, nr_to_read);
}

}  // namespace faultline::mm
