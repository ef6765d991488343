// mm/rmap.c: _mapcount accounting and page_mkclean (write-protecting the ptes
// of a page before writeback, so later stores fault and re-dirty it).
#include <fmt/format.h>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

bool page_mapped(page* p, sim::Label label) {
  point_read(label, obj_mapcount(p));
  return folio_mapped(compound_head(p));
}

// Caller holds the pte lock.
void page_add_file_rmap(page* p) {
  access_note("page_add_file_rmap:_mapcount", obj_mapcount(p), sim::Access::Write);
  ++p->_mapcount;
  state_changed();
}

void page_add_new_anon_rmap(page* p, vm_area_struct* vma, unsigned long address) {
  access_note("page_add_new_anon_rmap:_mapcount", obj_mapcount(p), sim::Access::Write);
  p->_mapcount = 0;  // increment count (starts at -1)
  p->flags |= PG_anon;
  p->mapping = nullptr;  // the anon_vma is not modelled
  p->index = pgoff_t(((address - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff.v);
  state_changed();
}

// Caller holds the pte lock and drops the pte's reference itself.
void page_remove_rmap(page* p, vm_area_struct* vma) {
  access_note("page_remove_rmap:_mapcount", obj_mapcount(p), sim::Access::Write);
  --p->_mapcount;
  state_changed();
  if (p->_mapcount < -1) {
    oops("Eeek! page_mapcount(page) went negative!", fmt::format("{}\n{}\n", describe_page(p), describe_vma(vma)),
         "BUG:page_remove_rmap:mapcount_negative");
  }
}

// Write-protect and clean every shared pte that maps the page; returns 1 if
// any was dirty or writable.
int page_mkclean(page* p) {
  KFUNC("page_mkclean");
  address_space* mapping = page_mapping(p);
  if (!mapping) return 0;
  int ret = 0;
  spin_lock(&mapping->i_mmap_lock, "page_mkclean_file:i_mmap_lock");
  for (uint32_t i = 0; i < mapping->i_mmap_count; ++i) {
    vm_area_struct* vma = mapping->i_mmap[i];
    if (!(vma->vm_flags & VM_SHARED)) continue;
    if (p->index < vma->vm_pgoff) continue;
    const unsigned long address = vma->vm_start + ((p->index - vma->vm_pgoff) << PAGE_SHIFT);
    if (address >= vma->vm_end) continue;
    mm_struct* mm = vma->vm_mm;
    spin_lock(&mm->page_table_lock, "page_mkclean_one:pte_lock");
    pte_t* pte = &mm->pte[address >> PAGE_SHIFT];
    access_note("page_mkclean_one:read_pte", obj_pte(mm, address), sim::Access::Read);
    if (pte->present && pte->frame == p->frame && (pte->dirty || pte->write)) {
      access_note("page_mkclean_one:set_pte_at", obj_pte(mm, address), sim::Access::Write);
      pte->dirty = false;
      pte->write = false;
      state_changed();
      ret = 1;
    }
    spin_unlock(&mm->page_table_lock, "page_mkclean_one:pte_unlock");
  }
  spin_unlock(&mapping->i_mmap_lock, "page_mkclean_file:i_mmap_unlock");
  return ret;
}

}  // namespace faultline::mm
