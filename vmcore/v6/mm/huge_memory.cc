// mm/huge_memory.c of 6.12: split_folio (split_huge_page_to_list_to_order
// to order 0) of a locked page-cache folio. It fails when the xarray nodes
// for the split cannot be allocated (FOLIO_SPLIT_FAIL), and when anyone but
// the page cache, the mappings and the caller holds a reference
// (can_split_folio, then the refcount freeze after unmap_folio).
#include "vmcore/mm/locking.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm::v6 {

namespace {

// Mapcount and the page cache's references account for all others but the
// caller's.
bool can_split_folio(const page* folio) {
  int mapcount = folio->_entire_mapcount + 1;
  for (unsigned long i = 0; i < folio_nr_pages(folio); ++i) mapcount += folio[i]._mapcount + 1;
  return mapcount == folio_ref_count(folio) - int(folio_nr_pages(folio)) - 1;
}

// __split_huge_page: each page becomes an order-0 folio with the flags of
// the whole and one reference, the page cache's; the head keeps the
// caller's as well, and its lock. Pages beyond EOF leave the cache.
void __split_huge_page(page* folio, pgoff_t end) {
  address_space* mapping = folio->mapping;
  const unsigned long nr = folio_nr_pages(folio);
  const unsigned long kept = folio->flags & (PG_uptodate | PG_dirty | PG_error | PG_mkwrite);
  const bool dirty_tag = mapping->page_tree.tag_dirty[folio->index.v];
  folio->compound_order = 0;
  folio->_count = 2;
  for (unsigned long i = 1; i < nr; ++i) {
    page* p = folio + i;
    p->first_page = nullptr;
    p->flags = kept;
    p->_count = 1;
    mapping->page_tree.tag_dirty[p->index.v] = dirty_tag;
  }
  state_changed();
  for (unsigned long i = 1; i < nr; ++i) {
    page* p = folio + i;
    if (p->index < end) continue;
    // Some pages can be beyond EOF: drop them from the page cache.
    TestClearPageDirty(p);
    __remove_from_page_cache(p);
    put_page(p);
  }
}

}  // namespace

int split_folio(page* folio) {
  KFUNC("split_huge_page_to_list_to_order");
  address_space* mapping = folio->mapping;
  BUG_ON(!PageLocked(folio), "split_huge_page_to_list_to_order:locked", "folio not locked");
  // Truncated?
  if (!mapping) return -EBUSY;
  // xas_split_alloc: the nodes the split needs.
  if (kernel().faults.should_fail(FaultKind::FolioSplitFail)) return -ENOMEM;
  const pgoff_t end((uint64_t(i_size_read(mapping->host, "split_huge_page:i_size_read")) + PAGE_SIZE - 1) >>
                    PAGE_SHIFT);
  // Racy check whether the huge page can be split.
  point_read("split_huge_page:can_split_folio", obj_page_flags(folio));
  if (!can_split_folio(folio)) return -EAGAIN;
  unmap_folio_range(folio);  // unmap_folio: try_to_unmap
  write_lock_irq(&mapping->tree_lock, "split_huge_page:xas_lock");
  // folio_ref_freeze(folio, 1 + extra_pins): no one took a reference meanwhile.
  access_note("split_huge_page:folio_ref_freeze", obj_page_flags(folio), sim::Access::Write);
  const bool frozen = !folio_mapped(folio) && folio_ref_count(folio) == 1 + int(folio_nr_pages(folio));
  if (frozen) __split_huge_page(folio, end);
  write_unlock_irq(&mapping->tree_lock, "split_huge_page:xas_unlock");
  return frozen ? 0 : -EAGAIN;
}

}  // namespace faultline::mm::v6
