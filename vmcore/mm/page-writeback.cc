// mm/page-writeback.c: dirtying, clear_page_dirty_for_io, the writeback loop
// (generic_writepages) and pdflush, the background writeback task.
#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

// Disk-backed mappings account dirty pages and are written back; tmpfs is not.
bool mapping_cap_writeback_dirty(const address_space* mapping) { return mapping->cap_account_dirty; }

void wakeup_pdflush() {
  Kernel& k = kernel();
  if (k.pdflush_kicked) return;
  k.pdflush_kicked = true;
  k.pdflush_wait.wake_all();
}

}  // namespace

int __set_page_dirty_nobuffers(page* p) {
  access_note("__set_page_dirty_nobuffers:TestSetPageDirty", obj_page_flags(p), sim::Access::Write);
  if (TestSetPageDirty(p)) return 0;
  address_space* mapping = page_mapping(p);
  if (!mapping) return 1;
  write_lock_irq(&mapping->tree_lock, "__set_page_dirty_nobuffers:write_lock_irq");
  address_space* mapping2 = page_mapping(p);
  if (mapping2) {  // race with truncate?
    BUG_ON(mapping2 != mapping, "__set_page_dirty_nobuffers:mapping2", "page moved to another mapping");
    mapping->page_tree.tag_dirty[compound_head(p)->index.v] = true;
  }
  write_unlock_irq(&mapping->tree_lock, "__set_page_dirty_nobuffers:write_unlock_irq");
  if (mapping2 && mapping_cap_writeback_dirty(mapping)) wakeup_pdflush();
  return 1;
}

int set_page_dirty(page* p) {
  address_space* mapping = page_mapping(p);
  if (mapping) return mapping->a_ops->set_page_dirty(p);
  access_note("set_page_dirty:TestSetPageDirty", obj_page_flags(p), sim::Access::Write);
  return !TestSetPageDirty(p);
}

// balance_dirty_pages is left out: pdflush is kicked when a page gets dirty.
void set_page_dirty_balance(page* p) { set_page_dirty(p); }

// Clear a page's dirty flag while caring for dirty memory accounting: the
// ptes are write-protected and cleaned first, their dirt moved to the page.
int clear_page_dirty_for_io(page* p) {
  KFUNC("clear_page_dirty_for_io");
  if (cfg().fault_dirty_page_wait)
    BUG_ON(!PageLocked(p), "clear_page_dirty_for_io:PageLocked", "clear_page_dirty_for_io of an unlocked page");
  address_space* mapping = page_mapping(p);
  if (mapping && mapping_cap_writeback_dirty(mapping)) {
    if (page_mkclean(p)) set_page_dirty(p);
  }
  access_note("clear_page_dirty_for_io:TestClearPageDirty", obj_page_flags(p), sim::Access::Write);
  if (!TestClearPageDirty(p)) return 0;
  // The write-out takes what ->page_mkwrite prepared (the block reservation
  // of a delalloc filesystem): the next write through a pte needs another
  // ->page_mkwrite (PG_mkwrite is the model's record of it).
  ClearPageMkwrite(p);
  tracer().page_cleaned_for_io(p);
  return 1;
}

int test_set_page_writeback(page* p) {
  p = compound_head(p);
  address_space* mapping = page_mapping(p);
  write_lock_irq(&mapping->tree_lock, "test_set_page_writeback:write_lock_irq");
  const bool ret = PageWriteback(p);
  access_note("test_set_page_writeback:TestSetPageWriteback", obj_page_flags(p), sim::Access::Write);
  p->writeback.set_bit();
  if (!PageDirty(p)) mapping->page_tree.tag_dirty[p->index.v] = false;
  write_unlock_irq(&mapping->tree_lock, "test_set_page_writeback:write_unlock_irq");
  return ret;
}

// generic_writepages (mpage_writepages): walk the pages tagged dirty and
// ->writepage each. WB_SYNC_NONE skips busy pages; WB_SYNC_ALL waits for
// them, including a page another writer has cleaned but not yet marked
// under writeback: it still holds the tag and the page lock.
int do_writepages(address_space* mapping, writeback_sync_modes mode) {
  KFUNC("generic_writepages");
  if (!mapping_cap_writeback_dirty(mapping)) return 0;
  int ret = 0;
  for_each_cached_page(
      mapping,
      [&](page* p) {
        point_read("generic_writepages:page", obj_page_flags(p));
        if (mode == WB_SYNC_NONE) {
          if (TestSetPageLocked(p)) return;
        } else {
          lock_page(p);
        }
        access_note("generic_writepages:page->mapping", obj_page_mapping(p), sim::Access::Read);
        if (p->mapping != mapping) {
          unlock_page(p);
          return;
        }
        if (mode != WB_SYNC_NONE) wait_on_page_writeback(p);
        if (PageWriteback(p) || !clear_page_dirty_for_io(p)) {
          unlock_page(p);
          return;
        }
        const int err = mapping->a_ops->writepage(p);  // unlocks the page
        if (err && !ret) ret = err;
      },
      pagevec_lookup_tag_dirty);
  return ret;
}

// pdflush: background writeback of every disk-backed file, whenever kicked.
void pdflush(void*) {
  Kernel& k = kernel();
  for (;;) {
    k.pdflush_wait.wait(
        "pdflush:idle", [&] { return k.pdflush_kicked; }, sim::Sim::WaitKind::Idle);
    k.pdflush_kicked = false;
    KFUNC("background_writeout");
    for (uint32_t f = 0; f < k.nfiles; ++f) do_writepages(k.inodes[f].i_mapping, WB_SYNC_NONE);
  }
}

}  // namespace faultline::mm
