// The folio era (v6.12 to v7.0): large folios in the page cache, the fault
// path of finish_fault / set_pte_range and fault-around
// (filemap_map_pages), PMD mappings of whole folios, and truncate's folio
// splitting. The syscalls, ext4, tmpfs and the writeback of the 3.x era stay
// (vmcore/v3, over vmcore/mm), reaching this era's functions through EraOps
// and the vm_operations they install.
#pragma once

#include "vmcore/mm/mm.h"

namespace faultline::mm::v6 {

// ---- mm/memory.c ------------------------------------------------------------
int handle_mm_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, unsigned int flags);
// Maps nr pages of folio from page on at addr (the pte lock held).
void set_pte_range(vm_area_struct* vma, page* folio, page* p, unsigned nr, unsigned long addr, bool write);
// Maps the whole PMD-order folio with a PMD, or VM_FAULT_FALLBACK.
int do_set_pmd(vm_area_struct* vma, unsigned long address, page* folio, bool write);

// ---- mm/filemap.c -------------------------------------------------------------
int filemap_fault(vm_area_struct* vma, vm_fault* vmf);
int filemap_map_pages(vm_area_struct* vma, vm_fault* vmf, pgoff_t start_pgoff, pgoff_t end_pgoff);

// ---- mm/memory.c, include/linux/huge_mm.h ---------------------------------------
// The VMA maps the PMD-aligned range around address, at a file offset that
// a PMD-order folio can fill (thp_vma_suitable_order).
bool thp_vma_suitable_order(const vm_area_struct* vma, unsigned long address);

// ---- mm/truncate.c, mm/internal.h ---------------------------------------------------
constexpr unsigned PAGEVEC_SIZE = 15;  // a folio_batch of the model
// The folios of [*start, end] wholly inside it and not busy, locked and
// referenced; *start moves past the last.
unsigned find_lock_entries(address_space* mapping, pgoff_t* start, pgoff_t end, page** batch);
// The folios from *start to end, referenced; *start moves past the last.
unsigned find_get_entries(address_space* mapping, pgoff_t* start, pgoff_t end, page** batch);
// filemap_remove_folio and the page cache's references (filemap_free_folio).
void filemap_remove_folio(page* folio);
// Unmaps and removes a locked folio; -EIO if it left the mapping.
int truncate_inode_folio(address_space* mapping, page* folio);
// Zeroes the part of a locked folio inside [start, end] and splits it if
// large; false if it stays large (dirty, not split).
bool truncate_inode_partial_folio(page* folio, loff_t start, loff_t end);
// unmap_mapping_folio: the ptes and PMDs of this folio in every mapping of
// its file (private COWs are other pages and stay).
void unmap_folio_range(page* folio);
// lend: the last byte, inclusive (-1: to the end).
void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend);
// Unmaps (before and under each folio's lock) and removes the folios of
// [start, end]; -EBUSY if one could not go (dirty again, or moved).
int invalidate_inode_pages2_range(address_space* mapping, pgoff_t start, pgoff_t end);

// ---- mm/huge_memory.c -------------------------------------------------------------
// split_folio: the locked folio becomes order-0 pages (its pages beyond EOF
// leave the cache); 0, or -ENOMEM / -EAGAIN / -EBUSY and the folio is whole.
int split_folio(page* folio);

// ---- mm/shmem.c ---------------------------------------------------------------------
int shmem_fault(vm_area_struct* vma, vm_fault* vmf);
// shmem_undo_range of a truncate (lend -1) or a hole punch.
void shmem_truncate_range(inode* inode, loff_t lstart, loff_t lend);

}  // namespace faultline::mm::v6
