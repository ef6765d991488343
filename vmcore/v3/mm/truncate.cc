// mm/truncate.c of 3.15 to 5.15: truncate_inode_page (unmap a mapped page
// under its lock, then delete it), truncate_inode_pages_range with exclusive
// ends, partial pages zeroed at both ends and a second pass that restarts
// until the range is empty, and the helpers filesystems call:
// truncate_pagecache (unmap, truncate, unmap), truncate_setsize and
// truncate_pagecache_range.
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/era.h"
#include "vmcore/mm/locking.h"
#include "vmcore/v3/v3.h"

namespace faultline::mm::v3 {

namespace {

constexpr unsigned PAGEVEC_SIZE = 14;

// The page keeps PG_uptodate (3.x no longer clears it): a reader holding a
// reference still sees its old contents.
int truncate_complete_page(address_space* mapping, page* p) {
  KFUNC("truncate_complete_page");
  access_note("truncate_complete_page:page->mapping", obj_page_mapping(p), sim::Access::Read);
  if (p->mapping != mapping) return -EIO;
  TestClearPageDirty(p);  // cancel_dirty_page
  // delete_from_page_cache: out of the cache, and the cache's reference.
  remove_from_page_cache(p);
  page_cache_release(p);
  return 0;
}

// zero_user_segment under the page lock.
void zero_user_segment(page* p, unsigned start, unsigned end) {
  point_write("truncate_inode_pages_range:zero_user_segment", obj_page_data(p));
  std::memset(p->data + start, 0, end - start);
}

}  // namespace

int truncate_inode_page(address_space* mapping, page* p) {
  if (page_mapped(p, "truncate_inode_page:page_mapped"))
    unmap_mapping_range(mapping, page_offset(p->index), loff_t(PAGE_CACHE_SIZE), 0);
  return truncate_complete_page(mapping, p);
}

void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend) {
  KFUNC("truncate_inode_pages_range");
  page* pvec[PAGEVEC_SIZE];
  unsigned n;

  point_read("truncate_inode_pages_range:nrpages", obj_nrpages(mapping));
  if (mapping->nrpages == 0) return;

  // Offsets within partial pages.
  const unsigned partial_start = unsigned(lstart & (PAGE_CACHE_SIZE - 1));
  unsigned partial_end = unsigned((lend + 1) & (PAGE_CACHE_SIZE - 1));
  // start is inclusive, end exclusive (-1: unsigned, so actually very big).
  const pgoff_t start = pgoff_t((uint64_t(lstart) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT);
  const pgoff_t end = lend == -1 ? pgoff_max() : pgoff_t(uint64_t(lend + 1) >> PAGE_CACHE_SHIFT);
  if (lend == -1) partial_end = 0;

  pgoff_t index = start;
  while (index < end &&
         (n = pagevec_lookup(pvec, mapping, index, unsigned(std::min<uint64_t>(end - index, PAGEVEC_SIZE))))) {
    for (unsigned i = 0; i < n; ++i) {
      page* p = pvec[i];
      // We rely upon deletion not changing page->index.
      point_read("truncate_inode_pages_range:page->index", obj_page_mapping(p));
      index = p->index;
      if (index >= end) break;
      if (TestSetPageLocked(p)) continue;
      point_read("truncate_inode_pages_range:PageWriteback", obj_page_flags(p));
      if (PageWriteback(p)) {
        unlock_page(p);
        continue;
      }
      truncate_inode_page(mapping, p);
      unlock_page(p);
    }
    pagevec_release(pvec, n);
    ++index;
  }

  if (partial_start) {
    if (page* p = find_lock_page(mapping, start - 1)) {
      unsigned top = PAGE_CACHE_SIZE;
      if (start > end) {
        // Truncation within a single page.
        top = partial_end;
        partial_end = 0;
      }
      wait_on_page_writeback(p);
      zero_user_segment(p, partial_start, top);
      unlock_page(p);
      page_cache_release(p);
    }
  }
  if (partial_end) {
    if (page* p = find_lock_page(mapping, end)) {
      wait_on_page_writeback(p);
      zero_user_segment(p, 0, partial_end);
      unlock_page(p);
      page_cache_release(p);
    }
  }
  // If the truncation happened within a single page no pages will be
  // released, just zeroed, so we can bail out now.
  if (start >= end) return;

  index = start;
  for (;;) {
    n = pagevec_lookup(pvec, mapping, index, unsigned(std::min<uint64_t>(end - index, PAGEVEC_SIZE)));
    if (!n) {
      // If all gone from start onwards, we're done.
      if (index == start) break;
      // Otherwise restart to make sure all gone.
      index = start;
      sim().retry("truncate_inode_pages_range:restart");
      continue;
    }
    point_read("truncate_inode_pages_range:first_index", obj_page_mapping(pvec[0]));
    if (index == start && pvec[0]->index >= end) {
      // All gone out of hole to be punched, we're done.
      pagevec_release(pvec, n);
      break;
    }
    for (unsigned i = 0; i < n; ++i) {
      page* p = pvec[i];
      point_read("truncate_inode_pages_range:page->index_pass2", obj_page_mapping(p));
      index = p->index;
      if (index >= end) {
        // Restart punch to make sure all gone.
        index = start - 1;
        break;
      }
      lock_page(p);
      wait_on_page_writeback(p);
      truncate_inode_page(mapping, p);
      unlock_page(p);
    }
    pagevec_release(pvec, n);
    ++index;
  }
}

// Unmap, truncate, unmap again: the second unmap catches private COWed pages
// a racing fault made meanwhile (even_cows).
void truncate_pagecache(inode* inode, loff_t newsize) {
  KFUNC("truncate_pagecache");
  address_space* mapping = inode->i_mapping;
  const loff_t holebegin = loff_t((uint64_t(newsize) + PAGE_SIZE - 1) & PAGE_MASK);
  unmap_mapping_range(mapping, holebegin, 0, 1);
  kernel().era->truncate_inode_pages_range(mapping, newsize, -1);
  unmap_mapping_range(mapping, holebegin, 0, 1);
}

void truncate_setsize(inode* inode, loff_t newsize) {
  i_size_write(inode, newsize, "truncate_setsize:i_size_write");
  truncate_pagecache(inode, newsize);
}

// The page cache of [lstart, lend]: whole pages unmapped (shared ones only:
// a hole punch leaves private COWed pages), then truncated.
void truncate_pagecache_range(inode* inode, loff_t lstart, loff_t lend) {
  KFUNC("truncate_pagecache_range");
  address_space* mapping = inode->i_mapping;
  const loff_t unmap_start = loff_t((uint64_t(lstart) + PAGE_SIZE - 1) & PAGE_MASK);
  const loff_t unmap_end = loff_t((uint64_t(lend) + 1) & PAGE_MASK) - 1;
  // This rounding is currently just for example: unmap_mapping_range expands
  // its hole outwards, whereas we want it to contract the hole inwards.
  if (unmap_end > unmap_start) unmap_mapping_range(mapping, unmap_start, 1 + unmap_end - unmap_start, 0);
  kernel().era->truncate_inode_pages_range(mapping, lstart, lend);
}

}  // namespace faultline::mm::v3
