// mm/memory.c of 6.12 to 7.0: handle_pte_fault → do_fault → do_read_fault
// (fault-around first), do_cow_fault or do_shared_fault, each through
// __do_fault and finish_fault: a PMD for a PMD-order folio when the page
// table is not there yet (do_set_pmd), else set_pte_range under the pte lock,
// for the faulting page or (6.18-rc1, 19773df031bc) the whole folio. A write
// fault on a PMD mapping splits it (wp_huge_pmd) and faults ptes.
#include <fmt/format.h>

#include <algorithm>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm::v6 {

namespace {

constexpr int kFaultDone = VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY;
// fault_around_bytes (64 KiB: 16 of a table's 512 ptes) shrunk with the page table.
constexpr unsigned long fault_around_pages = 4;
constexpr unsigned long PMD_SIZE = PTRS_PER_PTE * PAGE_SIZE;
constexpr unsigned long HPAGE_PMD_MASK = ~(PMD_SIZE - 1);

pmd_t* pmd_offset(mm_struct* mm, unsigned long address) { return &mm->pmd[(address >> PAGE_SHIFT) / PTRS_PER_PTE]; }
unsigned long pte_index(unsigned long address) { return (address >> PAGE_SHIFT) % PTRS_PER_PTE; }
unsigned long vma_pages(const vm_area_struct* vma) { return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT; }

}  // namespace

bool thp_vma_suitable_order(const vm_area_struct* vma, unsigned long address) {
  const unsigned long haddr = address & HPAGE_PMD_MASK;
  if (((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff.v) % HPAGE_PMD_NR) return false;
  return haddr >= vma->vm_start && haddr + PMD_SIZE <= vma->vm_end;
}

namespace {

// The locked page (vmf->page) comes back referenced, or ret says why not.
int __do_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("__do_fault");
  const int ret = vma->vm_ops->fault(vma, vmf);
  if (ret & kFaultDone) return ret;
  if (!(ret & VM_FAULT_LOCKED))
    lock_page(vmf->page);
  else
    BUG_ON(!PageLocked(vmf->page), "__do_fault:VM_FAULT_LOCKED", "->fault returned an unlocked page");
  return ret;
}

// Maps the page the fault is for (the copy, for a private write), the whole
// folio where the switches allow it. Returns VM_FAULT_NOPAGE if the pte
// changed meanwhile.
int finish_fault(vm_area_struct* vma, vm_fault* vmf, page* cow_page) {
  KFUNC("finish_fault");
  mm_struct* mm = vma->vm_mm;
  const bool is_cow = cow_page != nullptr;
  address_space* mapping = vma->vm_file->i_mapping;
  bool needs_fallback = false;
  page* p = is_cow ? cow_page : vmf->page;
  page* folio = page_folio(p);
  if (cfg().map_within_isize && !is_cow) {
    // Do not allow to map with PTEs beyond i_size and with PMD across
    // i_size to preserve SIGBUS semantics; tmpfs maps PMDs across i_size
    // on purpose.
    const pgoff_t file_end((uint64_t(i_size_read(mapping->host, "finish_fault:i_size_read")) + PAGE_SIZE - 1) >>
                           PAGE_SHIFT);
    needs_fallback = !shmem_mapping(mapping) && file_end < folio_next_index(folio);
  }
fallback:
  unsigned long addr = vmf->virtual_address;
  p = is_cow ? cow_page : vmf->page;
  point_read("finish_fault:pmd_none", obj_pte(mm, addr));
  if (*pmd_offset(mm, addr) == pmd_t::None && !is_cow) {
    if (!needs_fallback && folio_order(folio) == HPAGE_PMD_ORDER) {
      const int ret = do_set_pmd(vma, addr, folio, vmf->flags & FAULT_FLAG_WRITE);
      if (ret != VM_FAULT_FALLBACK) return ret;
    }
  }
  unsigned nr_pages = unsigned(folio_nr_pages(folio));
  // 6.12 maps a large folio whole only for anonymous shmem (none in the
  // model); 19773df031bc for every file, inside the VMA and one page table.
  if (!cfg().finish_fault_whole_folio || needs_fallback) {
    nr_pages = 1;
  } else if (nr_pages > 1) {
    const uint64_t idx = p - folio;
    const uint64_t vma_off = vmf->pgoff - vma->vm_pgoff;
    const uint64_t pte_off = pte_index(vmf->virtual_address);
    if (vma_off < idx || vma_off + (nr_pages - idx) > vma_pages(vma) || pte_off < idx ||
        pte_off + (nr_pages - idx) > PTRS_PER_PTE) {
      nr_pages = 1;
    } else {
      addr = vmf->virtual_address - idx * PAGE_SIZE;
      p = folio;
    }
  }
  sim::SpinLock* ptl = &mm->page_table_lock;
  spin_lock(ptl, "finish_fault:pte_offset_map_lock");
  // Re-check under ptl.
  bool changed = false;
  for (unsigned i = 0; i < nr_pages && !changed; ++i) {
    access_note("finish_fault:pte_none", obj_pte(mm, addr + i * PAGE_SIZE), sim::Access::Read);
    changed = !pte_none(*pte_offset(mm, addr + i * PAGE_SIZE));
  }
  if (changed && nr_pages > 1) {
    needs_fallback = true;
    spin_unlock(ptl, "finish_fault:pte_unmap_unlock_fallback");
    goto fallback;
  }
  if (changed) {
    spin_unlock(ptl, "finish_fault:pte_unmap_unlock_changed");
    return VM_FAULT_NOPAGE;
  }
  if (is_cow) {
    set_new_pte(mm, vma, addr, pte_offset(mm, addr), p, true, true, "finish_fault:set_pte_range");
  } else {
    folio_ref_add(folio, int(nr_pages) - 1);
    set_pte_range(vma, folio, p, nr_pages, addr, vmf->flags & FAULT_FLAG_WRITE);
  }
  spin_unlock(ptl, "finish_fault:pte_unmap_unlock");
  return 0;
}

// The window of fault_around_pages around the address, inside the VMA and
// its page table, goes to ->map_pages; VM_FAULT_NOPAGE if that mapped the
// faulting page.
int do_fault_around(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("do_fault_around");
  const uint64_t nr_pages = fault_around_pages;
  const uint64_t pte_off = pte_index(vmf->virtual_address);
  // The page offset of vmf->address within the VMA.
  const uint64_t vma_off = vmf->pgoff - vma->vm_pgoff;
  // The PTE offset of the start address, clamped to the VMA.
  const uint64_t from_pte = std::max(pte_off & ~(nr_pages - 1), pte_off - std::min(pte_off, vma_off));
  // The PTE offset of the end address, clamped to the VMA and PTE.
  const uint64_t to_pte =
      std::min({from_pte + nr_pages, uint64_t(PTRS_PER_PTE), pte_off + vma_pages(vma) - vma_off}) - 1;
  return vma->vm_ops->map_pages(vma, vmf, vmf->pgoff + from_pte - pte_off, vmf->pgoff + to_pte - pte_off);
}

int do_read_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("do_read_fault");
  // Let's call ->map_pages() first and use ->fault() as fallback if page by
  // the offset is not ready to be mapped (cold cache or something).
  if (vma->vm_ops->map_pages) {
    const int ret = do_fault_around(vma, vmf);
    if (ret) return ret;
  }
  int ret = __do_fault(vma, vmf);
  if (ret & kFaultDone) return ret;
  page* folio = page_folio(vmf->page);
  ret |= finish_fault(vma, vmf, nullptr);
  unlock_page(folio);
  if (ret & kFaultDone) put_page(folio);
  return ret;
}

int do_cow_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("do_cow_fault");
  anon_vma_prepare(vma);
  page* cow_page = alloc_page();  // folio_prealloc
  if (!cow_page) return VM_FAULT_OOM;
  int ret = __do_fault(vma, vmf);
  if (ret & kFaultDone) {
    put_page(cow_page);
    return ret;
  }
  copy_user_highpage(cow_page, vmf->page);
  ret |= finish_fault(vma, vmf, cow_page);
  unlock_page(vmf->page);
  put_page(vmf->page);
  if (ret & kFaultDone) put_page(cow_page);
  return ret;
}

int do_shared_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("do_shared_fault");
  int ret = __do_fault(vma, vmf);
  if (ret & kFaultDone) return ret;
  page* folio = page_folio(vmf->page);
  // Check if the backing address space wants to know that the page is about
  // to become writable.
  if (vma->vm_ops->page_mkwrite) {
    unlock_page(folio);
    const int tmp = do_page_mkwrite(vma, vmf->page);
    if (!tmp || (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE))) {
      put_page(folio);
      return tmp;
    }
  }
  ret |= finish_fault(vma, vmf, nullptr);
  if (ret & kFaultDone) {
    unlock_page(folio);
    put_page(folio);
    return ret;
  }
  // fault_dirty_shared_page: dirtied under the folio lock.
  set_page_dirty(folio);
  unlock_page(folio);
  return ret;
}

int do_fault(vm_area_struct* vma, vm_fault* vmf) {
  if (!(vmf->flags & FAULT_FLAG_WRITE)) return do_read_fault(vma, vmf);
  if (!(vma->vm_flags & VM_SHARED)) return do_cow_fault(vma, vmf);
  return do_shared_fault(vma, vmf);
}

}  // namespace

// folio_add_file_rmap_ptes checks VM_WARN_ON_FOLIO(page_folio(page +
// nr_pages - 1) != folio): a range beyond the folio maps other folios' or
// free pages, and their counts go wrong ("Bad page state" later). The model
// stops at the warning.
void set_pte_range(vm_area_struct* vma, page* folio, page* p, unsigned nr, unsigned long addr, bool write) {
  KFUNC("set_pte_range");
  const uint64_t first = p - folio;
  if (first + nr > folio_nr_pages(folio)) {
    oops("WARNING: mm/rmap.c: folio_add_file_rmap_ptes: page_folio(page + nr_pages - 1) != folio",
         fmt::format("set_pte_range of {} pages from page {} of the folio ({} pages) at {:#x}\n{}\n", nr, first,
                     folio_nr_pages(folio), addr, describe_page(folio)),
         "WARN:folio_add_file_rmap_ptes:page_outside_folio");
  }
  for (unsigned i = 0; i < nr; ++i, addr += PAGE_SIZE)
    set_new_pte(vma->vm_mm, vma, addr, pte_offset(vma->vm_mm, addr), p + i, write, false, "set_pte_range:set_ptes");
}

int do_set_pmd(vm_area_struct* vma, unsigned long address, page* folio, bool write) {
  KFUNC("do_set_pmd");
  mm_struct* mm = vma->vm_mm;
  const unsigned long haddr = address & HPAGE_PMD_MASK;
  if (!thp_vma_suitable_order(vma, haddr) || folio_order(folio) != HPAGE_PMD_ORDER) return VM_FAULT_FALLBACK;
  // The folio's index must line up with the PMD (the page cache aligns it).
  if (folio->index.v != vma->vm_pgoff.v + ((haddr - vma->vm_start) >> PAGE_SHIFT)) return VM_FAULT_FALLBACK;
  sim::SpinLock* ptl = &mm->page_table_lock;
  spin_lock(ptl, "do_set_pmd:pmd_lock");
  point_read("do_set_pmd:pmd_none", obj_pte(mm, haddr));
  if (*pmd_offset(mm, haddr) != pmd_t::None) {
    spin_unlock(ptl, "do_set_pmd:unlock_fallback");
    return VM_FAULT_FALLBACK;
  }
  folio_add_file_rmap_pmd(folio);
  pte_t entry = mk_pte(folio, vma);
  if (write) {
    entry.dirty = true;
    entry = maybe_mkwrite(entry, vma);
  }
  for (unsigned i = 0; i < HPAGE_PMD_NR; ++i) {
    entry.frame = folio[i].frame;
    set_pte_at(mm, haddr + i * PAGE_SIZE, pte_offset(mm, haddr + i * PAGE_SIZE), entry, "do_set_pmd:set_pmd_at");
  }
  *pmd_offset(mm, haddr) = pmd_t::Huge;
  mm->file_rss += HPAGE_PMD_NR;
  spin_unlock(ptl, "do_set_pmd:spin_unlock");
  return 0;
}

int handle_mm_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, unsigned int flags) {
  KFUNC("handle_mm_fault");
  pte_t* pte = pte_offset(mm, address);
  point_read("handle_mm_fault:pmd", obj_pte(mm, address));
  if (*pmd_offset(mm, address) == pmd_t::Huge && (flags & FAULT_FLAG_WRITE) && !pte->write) {
    // wp_huge_pmd: a file vma without ->huge_fault splits the PMD (which
    // zaps it) and falls back to ptes.
    spin_lock(&mm->page_table_lock, "wp_huge_pmd:pmd_lock");
    if (*pmd_offset(mm, address) == pmd_t::Huge) zap_huge_pmd(vma, address, nullptr);
    spin_unlock(&mm->page_table_lock, "wp_huge_pmd:pmd_unlock");
  }
  point_read("handle_pte_fault:read_pte", obj_pte(mm, address));
  // A fault (fault-around's filemap_map_pmd, do_set_pmd) made the PMD huge
  // again since: pte_offset_map fails on it, and the access is retried.
  if (*pmd_offset(mm, address) == pmd_t::Huge) return 0;
  const pte_t entry = *pte;  // ptep_get_lockless
  int ret;
  if (!entry.present) {
    vm_fault vmf{.flags = flags,
                 .pgoff = pgoff_t((((address & PAGE_MASK) - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff.v),
                 .virtual_address = address & PAGE_MASK,
                 .page = nullptr};
    ret = do_fault(vma, &vmf);
  } else {
    ret = handle_present_pte(mm, vma, address, pte, entry, flags & FAULT_FLAG_WRITE);
  }
  return ret & ~VM_FAULT_WRITE;
}

}  // namespace faultline::mm::v6
