// mm/truncate.c: truncate_inode_pages_range (both passes and the partial
// page), invalidate_mapping_pages and invalidate_inode_pages2_range; with
// remove_mapping from mm/vmscan.c.
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

constexpr unsigned PAGEVEC_SIZE = 14;

void truncate_partial_page(page* p, unsigned partial) {
  point_write("truncate_partial_page:zero", obj_page_data(p));
  std::memset(p->data + partial, 0, PAGE_CACHE_SIZE - partial);
}

// Only the page flag: radix tags and dirty ptes are not touched.
void cancel_dirty_page(page* p) { TestClearPageDirty(p); }

// If truncate cannot remove the fs-private metadata from the page, the page
// becomes anonymous (not modelled: no buffers). The caller holds the page lock.
void truncate_complete_page(address_space* mapping, page* p) {
  KFUNC("truncate_complete_page");
  access_note("truncate_complete_page:page->mapping", obj_page_mapping(p), sim::Access::Read);
  if (p->mapping != mapping) return;
  cancel_dirty_page(p);
  ClearPageUptodate(p);
  remove_from_page_cache(p);
  page_cache_release(p);  // pagecache ref
}

// The patch: a mapped page is unmapped under its page lock before removal.
void unmap_locked_page(address_space* mapping, page* p, pgoff_t index, sim::Label label) {
  if (cfg().seed_fault_pagelock && page_mapped(p, label))
    unmap_mapping_range(mapping, page_offset(index), loff_t(PAGE_CACHE_SIZE), 0);
}

int invalidate_complete_page(address_space* mapping, page* p) {
  access_note("invalidate_complete_page:page->mapping", obj_page_mapping(p), sim::Access::Read);
  if (p->mapping != mapping) return 0;
  return remove_mapping(mapping, p);
}

// This is like invalidate_complete_page(), except it ignores the page's
// refcount: invalidate_inode_pages2() has to remove pages that are in use.
int invalidate_complete_page2(address_space* mapping, page* p) {
  KFUNC("invalidate_complete_page2");
  access_note("invalidate_complete_page2:page->mapping", obj_page_mapping(p), sim::Access::Read);
  if (p->mapping != mapping) return 0;
  write_lock_irq(&mapping->tree_lock, "invalidate_complete_page2:write_lock_irq");
  if (PageDirty(p)) {
    write_unlock_irq(&mapping->tree_lock, "invalidate_complete_page2:write_unlock_irq_failed");
    return 0;
  }
  __remove_from_page_cache(p);
  write_unlock_irq(&mapping->tree_lock, "invalidate_complete_page2:write_unlock_irq");
  ClearPageUptodate(p);
  page_cache_release(p);  // pagecache ref
  return 1;
}

int do_launder_page(address_space* mapping, page* p) {
  if (!PageDirty(p)) return 0;
  if (p->mapping != mapping || mapping->a_ops->launder_page == nullptr) return 0;
  return mapping->a_ops->launder_page(p);
}

}  // namespace

// Truncate the page cache from lstart on (lend: last byte, inclusive).
// Called under (and serialised by) i_mutex.
void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend) {
  KFUNC("truncate_inode_pages_range");
  const pgoff_t start = pgoff_t((uint64_t(lstart) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT);
  const unsigned partial = unsigned(lstart & (PAGE_CACHE_SIZE - 1));
  const pgoff_t end = lend < 0 ? pgoff_max() : pgoff_t(uint64_t(lend) >> PAGE_CACHE_SHIFT);
  page* pvec[PAGEVEC_SIZE];
  unsigned n;

  point_read("truncate_inode_pages_range:nrpages", obj_nrpages(mapping));
  if (mapping->nrpages == 0) return;

  // Pass 1: remove what can be had without sleeping.
  pgoff_t next = start;
  while (next <= end && (n = pagevec_lookup(pvec, mapping, next, PAGEVEC_SIZE))) {
    for (unsigned i = 0; i < n; ++i) {
      page* p = pvec[i];
      point_read("truncate_inode_pages_range:page->index", obj_page_mapping(p));
      const pgoff_t page_index = p->index;
      if (page_index > end) {
        next = page_index;
        break;
      }
      if (page_index > next) next = page_index;
      ++next;
      if (TestSetPageLocked(p)) continue;
      point_read("truncate_inode_pages_range:PageWriteback", obj_page_flags(p));
      if (PageWriteback(p)) {
        unlock_page(p);
        continue;
      }
      unmap_locked_page(mapping, p, page_index, "truncate_inode_pages_range:page_mapped");
      truncate_complete_page(mapping, p);
      unlock_page(p);
    }
    pagevec_release(pvec, n);
  }

  // The partial page at the new EOF: zero its tail.
  if (partial && start.v > 0) {
    page* p = find_lock_page(mapping, start - 1);
    if (p) {
      wait_on_page_writeback(p);
      truncate_partial_page(p, partial);
      unlock_page(p);
      page_cache_release(p);
    }
  }

  // Pass 2: sleep for every page lock and writeback until the range is empty.
  next = start;
  for (;;) {
    n = pagevec_lookup(pvec, mapping, next, PAGEVEC_SIZE);
    if (!n) {
      if (next == start) break;
      next = start;
      sim().retry("truncate_inode_pages_range:rescan");
      continue;
    }
    point_read("truncate_inode_pages_range:first_index", obj_page_mapping(pvec[0]));
    if (pvec[0]->index > end) {
      pagevec_release(pvec, n);
      break;
    }
    for (unsigned i = 0; i < n; ++i) {
      page* p = pvec[i];
      point_read("truncate_inode_pages_range:page->index_pass2", obj_page_mapping(p));
      if (p->index > end) break;
      lock_page(p);
      wait_on_page_writeback(p);
      unmap_locked_page(mapping, p, p->index, "truncate_inode_pages_range:page_mapped_pass2");
      if (p->index > next) next = p->index;
      ++next;
      truncate_complete_page(mapping, p);
      unlock_page(p);
    }
    pagevec_release(pvec, n);
  }
}

void truncate_inode_pages(address_space* mapping, loff_t lstart) { truncate_inode_pages_range(mapping, lstart, -1); }

// Invalidate the clean, unmapped, unlocked pages of [start, end]: what
// fadvise(POSIX_FADV_DONTNEED) does. Never sleeps on a page.
unsigned long invalidate_mapping_pages(address_space* mapping, pgoff_t start, pgoff_t end) {
  KFUNC("invalidate_mapping_pages");
  page* pvec[PAGEVEC_SIZE];
  pgoff_t next = start;
  unsigned long ret = 0;
  unsigned n;
  while (next <= end && (n = pagevec_lookup(pvec, mapping, next, PAGEVEC_SIZE))) {
    for (unsigned i = 0; i < n; ++i) {
      page* p = pvec[i];
      const bool lock_failed = TestSetPageLocked(p);
      // We really shouldn't be looking at the ->index of an unlocked page,
      // but we have a reference on it, so the worst is a wrong page.
      point_read("invalidate_mapping_pages:page->index", obj_page_mapping(p));
      const pgoff_t index = p->index;
      if (index > next) next = index;
      ++next;
      if (lock_failed) continue;
      point_read("invalidate_mapping_pages:PageDirty", obj_page_flags(p));
      if (!(PageDirty(p) || PageWriteback(p)) && !page_mapped(p, "invalidate_mapping_pages:page_mapped"))
        ret += invalidate_complete_page(mapping, p);
      unlock_page(p);
      if (next > end) break;
    }
    pagevec_release(pvec, n);
  }
  return ret;
}

// Any pages which are found to be mapped into pagetables are unmapped prior
// to invalidation. Returns -EIO if any pages could not be invalidated; the
// walk stops at the first failure, as in 2.6.20.
int invalidate_inode_pages2_range(address_space* mapping, pgoff_t start, pgoff_t end) {
  KFUNC("invalidate_inode_pages2_range");
  page* pvec[PAGEVEC_SIZE];
  pgoff_t next = start;
  int ret = 0;
  int did_range_unmap = 0;
  bool wrapped = false;
  unsigned n;
  while (next <= end && !ret && !wrapped &&
         (n = pagevec_lookup(pvec, mapping, next, unsigned(std::min<uint64_t>(end - next, PAGEVEC_SIZE - 1)) + 1))) {
    for (unsigned i = 0; !ret && i < n; ++i) {
      page* p = pvec[i];
      lock_page(p);
      access_note("invalidate_inode_pages2_range:page->mapping", obj_page_mapping(p), sim::Access::Read);
      if (p->mapping != mapping) {
        unlock_page(p);
        continue;
      }
      const pgoff_t page_index = p->index;
      next = page_index + 1;
      if (next.v == 0) wrapped = true;
      if (page_index > end) {
        unlock_page(p);
        break;
      }
      wait_on_page_writeback(p);
      // 2.6.20: `while (page_mapped(page))`; the patch: a single `if`.
      while (page_mapped(p, "invalidate_inode_pages2_range:page_mapped")) {
        if (!did_range_unmap) {
          // Zap the rest of the file in one hit.
          unmap_mapping_range(mapping, page_offset(page_index), loff_t((end - page_index + 1) << PAGE_CACHE_SHIFT), 0);
          did_range_unmap = 1;
        } else {
          // Just zap this page.
          unmap_mapping_range(mapping, page_offset(page_index), loff_t(PAGE_CACHE_SIZE), 0);
        }
        if (cfg().seed_fault_pagelock) break;
        sim().retry("invalidate_inode_pages2_range:while_page_mapped");
      }
      if (cfg().seed_fault_pagelock)
        BUG_ON(page_mapped(p, "invalidate_inode_pages2_range:BUG_ON_page_mapped"),
               "invalidate_inode_pages2_range:page_mapped", "page mapped after unmap_mapping_range");
      ret = do_launder_page(mapping, p);
      if (ret == 0 && !invalidate_complete_page2(mapping, p)) ret = -EIO;
      unlock_page(p);
    }
    pagevec_release(pvec, n);
  }
  return ret;
}

int invalidate_inode_pages2(address_space* mapping) {
  return invalidate_inode_pages2_range(mapping, pgoff_t(0), pgoff_max());
}

// mm/vmscan.c: detach a clean, unused page from the cache. The caller holds
// the page lock and one reference; the cache holds the other.
int remove_mapping(address_space* mapping, page* p) {
  KFUNC("remove_mapping");
  BUG_ON(!PageLocked(p), "remove_mapping:PageLocked", "page not locked");
  BUG_ON(p->mapping != mapping, "remove_mapping:page_mapping", "page not in this mapping");
  write_lock_irq(&mapping->tree_lock, "remove_mapping:write_lock_irq");
  // The non-racy check for a busy page: only the cache and our caller.
  if (page_count(p) != 2 || PageDirty(p)) {
    write_unlock_irq(&mapping->tree_lock, "remove_mapping:write_unlock_irq_failed");
    return 0;
  }
  __remove_from_page_cache(p);
  write_unlock_irq(&mapping->tree_lock, "remove_mapping:write_unlock_irq");
  put_page(p);  // the cache's reference
  return 1;
}

}  // namespace faultline::mm
