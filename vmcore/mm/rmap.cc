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

namespace {

// One pte (a PMD mapping's ptes all together: pmd_mkclean).
bool page_mkclean_one(mm_struct* mm, unsigned long address, const page* p) {
  const uint32_t vpn = uint32_t(address >> PAGE_SHIFT);
  const bool huge = mm->pmd[vpn / PTRS_PER_PTE] == pmd_t::Huge;
  const uint32_t first = huge ? vpn - vpn % PTRS_PER_PTE : vpn;
  access_note("page_mkclean_one:read_pte", obj_pte(mm, address), sim::Access::Read);
  const pte_t& pte = mm->pte[vpn];
  if (!pte.present || pte.frame != p->frame) return false;
  bool ret = false;
  for (uint32_t v = first; v < first + (huge ? PTRS_PER_PTE : 1); ++v) {
    pte_t* ptep = &mm->pte[v];
    if (!ptep->dirty && !ptep->write) continue;
    access_note("page_mkclean_one:set_pte_at", obj_pte(mm, v << PAGE_SHIFT), sim::Access::Write);
    ptep->dirty = false;
    ptep->write = false;
    state_changed();
    ret = true;
  }
  return ret;
}

}  // namespace

void folio_add_file_rmap_pmd(page* folio) {
  access_note("folio_add_file_rmap_pmd:_entire_mapcount", obj_mapcount(folio), sim::Access::Write);
  ++folio->_entire_mapcount;
  state_changed();
}

void folio_remove_rmap_pmd(page* folio, vm_area_struct* vma) {
  access_note("folio_remove_rmap_pmd:_entire_mapcount", obj_mapcount(folio), sim::Access::Write);
  --folio->_entire_mapcount;
  state_changed();
  if (folio->_entire_mapcount < -1) {
    oops("Eeek! folio_entire_mapcount(folio) went negative!",
         fmt::format("{}\n{}\n", describe_page(folio), describe_vma(vma)), "BUG:folio_remove_rmap_pmd:mapcount_negative");
  }
}

// Write-protect and clean every shared pte that maps a page of the folio;
// returns 1 if any was dirty or writable.
int page_mkclean(page* p) {
  KFUNC("page_mkclean");
  page* folio = compound_head(p);
  address_space* mapping = page_mapping(folio);
  if (!mapping) return 0;
  int ret = 0;
  spin_lock(&mapping->i_mmap_lock, "page_mkclean_file:i_mmap_lock");
  for (uint32_t i = 0; i < mapping->i_mmap_count; ++i) {
    vm_area_struct* vma = mapping->i_mmap[i];
    if (!(vma->vm_flags & VM_SHARED)) continue;
    for (unsigned long n = 0; n < folio_nr_pages(folio); ++n) {
      const page* p = folio + n;
      if (p->index < vma->vm_pgoff) continue;
      const unsigned long address = vma->vm_start + ((p->index - vma->vm_pgoff) << PAGE_SHIFT);
      if (address >= vma->vm_end) continue;
      mm_struct* mm = vma->vm_mm;
      spin_lock(&mm->page_table_lock, "page_mkclean_one:pte_lock");
      ret |= page_mkclean_one(mm, address, p);
      spin_unlock(&mm->page_table_lock, "page_mkclean_one:pte_unlock");
    }
  }
  spin_unlock(&mapping->i_mmap_lock, "page_mkclean_file:i_mmap_unlock");
  return ret;
}

}  // namespace faultline::mm
