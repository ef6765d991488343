// Declarations of the modelled kernel functions, grouped by the kernel file
// that defines them (the role of include/linux/mm.h, pagemap.h, rmap.h, ...).
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>

#include "vmcore/kernel/kernel.h"
#include "vmcore/mm/types.h"

namespace faultline::mm {

// ---- page flags (include/linux/page-flags.h) --------------------------------
// Flags, the lock and the reference count are the folio's: a tail page's are
// its head's (compound_head).
inline bool PageUptodate(const page* p) { return compound_head(p)->flags & PG_uptodate; }
inline void SetPageUptodate(page* p) { compound_head(p)->flags |= PG_uptodate; }
inline void ClearPageUptodate(page* p) { compound_head(p)->flags &= ~PG_uptodate; }
inline bool PageDirty(const page* p) { return compound_head(p)->flags & PG_dirty; }
inline bool TestSetPageDirty(page* p) {
  unsigned long& flags = compound_head(p)->flags;
  const bool was = flags & PG_dirty;
  flags |= PG_dirty;
  return was;
}
inline bool TestClearPageDirty(page* p) {
  unsigned long& flags = compound_head(p)->flags;
  const bool was = flags & PG_dirty;
  flags &= ~PG_dirty;
  return was;
}
inline bool PageError(const page* p) { return compound_head(p)->flags & PG_error; }
inline void SetPageError(page* p) { compound_head(p)->flags |= PG_error; }
inline void ClearPageError(page* p) { compound_head(p)->flags &= ~PG_error; }
inline bool PageAnon(const page* p) { return p->flags & PG_anon; }  // anonymous pages are never large
inline bool PageMkwrite(const page* p) { return compound_head(p)->flags & PG_mkwrite; }
inline void SetPageMkwrite(page* p) { compound_head(p)->flags |= PG_mkwrite; }
inline void ClearPageMkwrite(page* p) { compound_head(p)->flags &= ~PG_mkwrite; }
inline bool PageLocked(const page* p) { return compound_head(p)->locked.test(); }
inline bool PageWriteback(const page* p) { return compound_head(p)->writeback.test(); }
inline int page_count(const page* p) { return compound_head(p)->_count; }
// The ptes mapping this page, plus the PMD mappings of its whole folio.
inline int page_mapcount(const page* p) { return p->_mapcount + 1 + compound_head(p)->_entire_mapcount + 1; }
inline address_space* page_mapping(const page* p) { return PageAnon(p) ? nullptr : p->mapping; }

// ---- folios (include/linux/mm.h, pagemap.h) ----------------------------------
inline page* page_folio(page* p) { return compound_head(p); }
inline unsigned folio_order(const page* folio) { return folio->compound_order; }
inline unsigned long folio_nr_pages(const page* folio) { return 1ul << folio->compound_order; }
inline bool folio_test_large(const page* folio) { return folio->compound_order != 0; }
// The folio's page of file index `index` (folio_file_page).
page* folio_file_page(page* folio, pgoff_t index);
inline pgoff_t folio_next_index(const page* folio) { return folio->index + folio_nr_pages(folio); }
inline bool folio_contains(const page* folio, pgoff_t index) {
  return index >= folio->index && index < folio_next_index(folio);
}
// tmpfs: the one mapping that keeps PMDs across i_size on purpose.
inline bool shmem_mapping(const address_space* mapping) { return mapping->host->kind == FileKind::Shmem; }
// Any pte or PMD maps a page of the folio.
bool folio_mapped(const page* folio);
inline int folio_ref_count(const page* folio) { return folio->_count; }
void folio_ref_add(page* folio, int nr);
void folio_put_refs(page* folio, int nr);

// ---- mm/page_alloc.c ------------------------------------------------------
page* alloc_page();
// A folio of 2^order pages (naturally aligned frames), or nullptr.
page* alloc_pages(unsigned order);
void get_page(page* p);
void put_page(page* p);
inline void page_cache_get(page* p) { get_page(p); }
inline void page_cache_release(page* p) { put_page(p); }

// ---- mm/filemap.c ---------------------------------------------------------
void lock_page(page* p);
bool TestSetPageLocked(page* p);  // trylock: true if it was already locked
void unlock_page(page* p);
void wait_on_page_locked(page* p);
void wait_on_page_writeback(page* p);
void end_page_writeback(page* p);
page* find_get_page(address_space* mapping, pgoff_t offset);
page* find_lock_page(address_space* mapping, pgoff_t offset);
unsigned pagevec_lookup(page** pages, address_space* mapping, pgoff_t start, unsigned nr_pages);
// pagevec_lookup_tag(PAGECACHE_TAG_DIRTY)
unsigned pagevec_lookup_tag_dirty(page** pages, address_space* mapping, pgoff_t start, unsigned nr_pages);
void pagevec_release(page** pages, unsigned nr);
// Every cached page of the mapping in index order, referenced while fn runs
// (a pagevec_lookup loop; pass pagevec_lookup_tag_dirty for the dirty ones).
template <class Fn>
void for_each_cached_page(address_space* mapping, Fn fn, decltype(&pagevec_lookup) lookup = pagevec_lookup) {
  page* pvec[16];
  pgoff_t index(0);
  while (unsigned n = lookup(pvec, mapping, index, 16)) {
    for (unsigned i = 0; i < n; ++i) {
      index = folio_next_index(pvec[i]);
      fn(pvec[i]);
    }
    pagevec_release(pvec, n);
  }
}
int add_to_page_cache(page* p, address_space* mapping, pgoff_t offset);
int add_to_page_cache_lru(page* p, address_space* mapping, pgoff_t offset);
void __remove_from_page_cache(page* p);
void remove_from_page_cache(page* p);
page* filemap_nopage(vm_area_struct* area, unsigned long address, int* type);  // 2.6.20
int filemap_fault(vm_area_struct* vma, vm_fault* vmf);                         // 2.6.23
int generic_file_mmap(inode* file, vm_area_struct* vma);
int filemap_write_and_wait(address_space* mapping);
int filemap_fdatawrite(address_space* mapping);
int filemap_fdatawait(address_space* mapping);

// read(): fills out[0..ret) with the bytes copied to the caller.
long do_generic_file_read(inode* file, loff_t* ppos, unsigned long count, user_buffer buf, uint8_t* out);

struct read_descriptor_t {
  unsigned long written = 0;
  unsigned long count = 0;
  user_buffer buf;
  uint8_t* out = nullptr;  // what the caller got: for results and the lost-write check
  int error = 0;
};

// Copies part of a page to the reader, faulting the destination in first.
unsigned long file_read_actor(read_descriptor_t* desc, page* p, unsigned long offset, unsigned long size);
// The same from ZERO_PAGE (a tmpfs hole).
unsigned long zero_page_read_actor(read_descriptor_t* desc, unsigned long size);
long generic_file_aio_write(inode* file, loff_t pos, unsigned long count, user_buffer buf, bool o_direct);

// ---- mm/readahead.c -------------------------------------------------------
int do_page_cache_readahead(address_space* mapping, inode* file, pgoff_t offset, unsigned long nr_to_read);
// The fault's read-around on a miss: ra_pages around pgoff (3.x:
// do_sync_mmap_readahead).
void readaround(inode* inode, pgoff_t pgoff);
// Reads one page into the cache; does not wait for the I/O.
int page_cache_read(inode* file, pgoff_t offset);

// ---- mm/memory.c ------------------------------------------------------------
int handle_mm_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, int write_access);
// Shared by every era's fault path.
pte_t* pte_offset(mm_struct* mm, unsigned long address);
int anon_vma_prepare(vm_area_struct* vma);
void set_new_pte(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* page_table, page* p, bool write,
                 bool anon, sim::Label where);
// The present-pte half of handle_pte_fault (the same from 2.6.20 to 5.x).
int handle_present_pte(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* pte, pte_t entry, bool write);
// Called with the pte lock held, returns with it dropped.
int do_wp_page(mm_struct* mm, vm_area_struct* vma, unsigned long address, pte_t* page_table, pte_t orig_pte);
// 2.6.30: the page locked on success, 0 if it was truncated meanwhile.
int do_page_mkwrite(vm_area_struct* vma, page* p);
struct zap_details {
  address_space* check_mapping = nullptr;  // even_cows == 0: only this mapping's pages
  pgoff_t first_index;
  pgoff_t last_index;
};
void zap_page_range(vm_area_struct* vma, unsigned long address, unsigned long size, zap_details* details);
// Zaps the PMD mapping that covers addr (the pte lock held).
void zap_huge_pmd(vm_area_struct* vma, unsigned long addr, zap_details* details);
pte_t mk_pte(page* p, vm_area_struct* vma);
pte_t maybe_mkwrite(pte_t pte, vm_area_struct* vma);
void set_pte_at(mm_struct* mm, unsigned long address, pte_t* ptep, pte_t pte, sim::Label where);
page* pte_page(pte_t pte);
void unmap_mapping_range(address_space* mapping, loff_t holebegin, loff_t holelen, int even_cows);
int vmtruncate(inode* inode, loff_t offset);
int vmtruncate_range(inode* inode, loff_t offset, loff_t end);
void copy_user_highpage(page* to, page* from);

// ---- mm/rmap.c ------------------------------------------------------------
void page_add_file_rmap(page* p);
void page_add_new_anon_rmap(page* p, vm_area_struct* vma, unsigned long address);
void page_remove_rmap(page* p, vm_area_struct* vma);
// 6.x: a PMD mapping of the whole folio (_entire_mapcount).
void folio_add_file_rmap_pmd(page* folio);
void folio_remove_rmap_pmd(page* folio, vm_area_struct* vma);
bool page_mapped(page* p, sim::Label label);  // lockless read of _mapcount
int page_mkclean(page* p);

// ---- mm/truncate.c ----------------------------------------------------------
void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend);
void truncate_inode_pages(address_space* mapping, loff_t lstart);
unsigned long invalidate_mapping_pages(address_space* mapping, pgoff_t start, pgoff_t end);
int invalidate_inode_pages2_range(address_space* mapping, pgoff_t start, pgoff_t end);
int invalidate_inode_pages2(address_space* mapping);

// ---- mm/vmscan.c ------------------------------------------------------------
int remove_mapping(address_space* mapping, page* p);

// ---- mm/shmem.c -------------------------------------------------------------
// SGP_NOPAGE (the patch) returns the page locked; 2.6.23 calls it SGP_FAULT.
enum sgp_type { SGP_QUICK, SGP_READ, SGP_CACHE, SGP_WRITE, SGP_NOPAGE, SGP_FAULT = SGP_NOPAGE };
int shmem_getpage(inode* inode, pgoff_t idx, page** pagep, sgp_type sgp, int* type);
page* shmem_nopage(vm_area_struct* vma, unsigned long address, int* type);  // 2.6.20
int shmem_fault(vm_area_struct* vma, vm_fault* vmf);                        // 2.6.23
int shmem_mmap(inode* file, vm_area_struct* vma);
// A tmpfs inode: its operations as this kernel's tmpfs has them.
void shmem_get_inode(inode* inode);
// Shared with the later eras' tmpfs.
extern const address_space_operations shmem_aops;
long shmem_file_read(inode* inode, loff_t* ppos, unsigned long count, user_buffer buf, uint8_t* out);
int simple_sync_file(inode* inode);

// ---- mm/page-writeback.c ------------------------------------------------------
enum writeback_sync_modes { WB_SYNC_NONE, WB_SYNC_ALL };
int set_page_dirty(page* p);
int __set_page_dirty_nobuffers(page* p);
void set_page_dirty_balance(page* p);
int clear_page_dirty_for_io(page* p);
int test_set_page_writeback(page* p);
int do_writepages(address_space* mapping, writeback_sync_modes mode);
void pdflush(void* arg);  // the background writeback task

// ---- mm/mmap.c ------------------------------------------------------------------
vm_area_struct* find_vma(mm_struct* mm, unsigned long addr);
vm_area_struct* find_vma_prev(mm_struct* mm, unsigned long addr, vm_area_struct** pprev);
vm_area_struct* vma_next(mm_struct* mm, vm_area_struct* vma);
long do_mmap_pgoff(mm_struct* mm, inode* file, unsigned long addr, unsigned long len, bool write, bool shared,
                   pgoff_t pgoff);
int do_munmap(mm_struct* mm, unsigned long start, unsigned long len);

// ---- mm/msync.c ---------------------------------------------------------------------
enum { MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4 };
long sys_msync(unsigned long start, unsigned long len, int flags);

// ---- mm/madvise.c, mm/fadvise.c -------------------------------------------------
enum { MADV_DONTNEED = 4, MADV_REMOVE = 9 };
long sys_madvise(unsigned long start, unsigned long len_in, int behavior);
long sys_fadvise64_64(inode* file, loff_t offset, loff_t len);

// ---- fs/: the block filesystem, attributes, the I/O queue -----------------------
// An inode of the block filesystem (an NFS client's if inode->has_launder_page).
void blockfs_get_inode(inode* inode);
extern const file_operations blockfs_file_operations;
void blockfs_truncate(inode* inode);  // ->truncate: free the blocks beyond i_size
int blockfs_fsync(inode* file);
// ->page_mkwrite returns VM_FAULT_ bits (2.6.28's convention; 2.6.23's 0 or
// -errno is 0 or VM_FAULT_SIGBUS here), VM_FAULT_LOCKED from 2.6.30 on.
int blockfs_page_mkwrite(vm_area_struct* vma, page* p);
// 2.6.30's block_page_mkwrite: lock, recheck against truncate, map the block.
int block_page_mkwrite(vm_area_struct* vma, page* p);
int do_truncate(inode* inode, loff_t length);
// fs/open.c: sys_fallocate's checks, then the filesystem's ->fallocate.
enum { FALLOC_FL_KEEP_SIZE = 0x01, FALLOC_FL_PUNCH_HOLE = 0x02 };
long do_fallocate(inode* inode, int mode, loff_t offset, loff_t len);
// fs/stat.c: the size fstat() reports.
int64_t vfs_getattr(inode* inode);
uint32_t blockfs_get_block(inode* inode, pgoff_t idx, bool create);
// A large folio (6.x) that is not uptodate becomes uptodate when one of its
// blocks is read or written whole: the model has no per-buffer uptodate, so
// its other pages are read from their blocks along (a buffer a punch
// discarded stays as the punch left it).
void folio_read_other_blocks(inode* inode, page* folio, const page* except);
void blockfs_free_blocks(inode* inode, pgoff_t start, pgoff_t end);
void submit_page_io(page* p, bool write);
// The I/O of a folio's first nr pages, ended (unlocked or out of writeback)
// when all of it completes.
void submit_folio_io(page* folio, unsigned long nr, bool write);
// The block device's data: a hole (kNoBlock) reads as zeros.
void bdev_read(uint32_t block, uint8_t* to);
void bdev_write(uint32_t block, unsigned offset, const uint8_t* from, unsigned n);
void end_io_task(void* arg);  // the I/O completion task

// ---- drivers/: a legacy nopage driver that never sets VM_CAN_INVALIDATE ----------
// A block filesystem inode whose file's mmap is the driver's.
void legacy_driver_get_inode(inode* inode);

// ---- arch/: the page-fault handler and user copies ------------------------------
// Result of a user access: 0, a signal (SIGSEGV, SIGBUS) or -ENOMEM (OOM).
int do_page_fault(unsigned long address, bool write);
// Copies that fault as needed; return the bytes not copied.
unsigned long copy_to_user(unsigned long to, const uint8_t* from, unsigned long n);
unsigned long copy_from_user(uint8_t* to, unsigned long from, unsigned long n);
// The same with page faults disabled: stop at the first missing or read-only pte.
unsigned long __copy_to_user_inatomic(unsigned long to, const uint8_t* from, unsigned long n);
unsigned long __copy_from_user_inatomic(uint8_t* to, unsigned long from, unsigned long n);
int fault_in_pages_readable(unsigned long uaddr, unsigned long size);
int fault_in_pages_writeable(unsigned long uaddr, unsigned long size);
// A user-mode load or store of n bytes: 0 or a signal / -ENOMEM.
int user_load(unsigned long addr, uint8_t* to, unsigned long n);
int user_store(unsigned long addr, const uint8_t* from, unsigned long n);

// ---- kernel BUG()s -----------------------------------------------------------------
// BUG_ON(cond): an oops with the current call chain; ends the run.
#define BUG_ON(cond, label, what)                              \
  do {                                                         \
    if (cond) ::faultline::mm::kernel_bug(label, what, #cond); \
  } while (0)
[[noreturn]] void kernel_bug(sim::Label where, const char* what, const char* cond, const page* p = nullptr);

}  // namespace faultline::mm
