// The kernel objects of the model: struct page, address_space, inode,
// vm_area_struct, mm_struct, shmem_inode_info. Field names follow Linux 2.6.20;
// sizes are shrunk (a page holds PAGE_SIZE = 16 bytes) and containers are
// fixed arrays so a run allocates nothing.
#pragma once

#include <array>
#include <cerrno>
#include <compare>
#include <cstddef>
#include <cstdint>

#include "vmcore/sim/locks.h"

namespace faultline::mm {

using loff_t = int64_t;

inline constexpr unsigned PAGE_SHIFT = 4;
inline constexpr unsigned long PAGE_SIZE = 1ul << PAGE_SHIFT;
inline constexpr unsigned long PAGE_MASK = ~(PAGE_SIZE - 1);
inline constexpr unsigned PAGE_CACHE_SHIFT = PAGE_SHIFT;
inline constexpr unsigned long PAGE_CACHE_SIZE = PAGE_SIZE;
inline constexpr unsigned long PAGE_CACHE_MASK = PAGE_MASK;

// Capacities of the model (the schedule validator enforces them).
inline constexpr uint32_t kMaxFiles = 4;
inline constexpr uint32_t kMaxFilePages = 32;  // s_maxbytes = kMaxFilePages * PAGE_SIZE
inline constexpr loff_t kMaxFileBytes = loff_t(kMaxFilePages * PAGE_SIZE);
inline constexpr uint32_t kMaxProcesses = 4;
inline constexpr uint32_t kMaxVmas = 8;  // per mm
inline constexpr uint32_t kMaxVpn = 64;  // user addresses below kMaxVpn * PAGE_SIZE
inline constexpr unsigned long TASK_SIZE = kMaxVpn * PAGE_SIZE;
inline constexpr uint32_t kMaxFrames = 256;
inline constexpr uint32_t kMaxIoRequests = 64;
inline constexpr uint32_t kMaxBlocks = kMaxFiles * kMaxFilePages;  // the block device: every page of every file
inline constexpr uint32_t kNoBlock = 0xffffffffu;
// The page tables, shrunk: a PMD entry covers PTRS_PER_PTE ptes, and a folio
// of HPAGE_PMD_ORDER can be mapped by it whole (a "PMD mapping"). Large
// folios go up to MAX_PAGECACHE_ORDER.
inline constexpr uint32_t PTRS_PER_PTE = 8;
inline constexpr unsigned HPAGE_PMD_ORDER = 3;
inline constexpr unsigned HPAGE_PMD_NR = 1u << HPAGE_PMD_ORDER;
inline constexpr unsigned MAX_PAGECACHE_ORDER = HPAGE_PMD_ORDER;
static_assert(PTRS_PER_PTE == HPAGE_PMD_NR && kMaxVpn % PTRS_PER_PTE == 0 && kMaxFilePages % HPAGE_PMD_NR == 0);

// Page-cache index: a distinct type so it never mixes with byte offsets or frames.
struct pgoff_t {
  uint64_t v = 0;
  constexpr pgoff_t() = default;
  constexpr explicit pgoff_t(uint64_t x) : v(x) {}
  constexpr auto operator<=>(const pgoff_t&) const = default;
  constexpr pgoff_t operator+(uint64_t d) const { return pgoff_t(v + d); }
  constexpr pgoff_t operator-(uint64_t d) const { return pgoff_t(v - d); }
  constexpr uint64_t operator-(pgoff_t o) const { return v - o.v; }
  pgoff_t& operator++() {
    ++v;
    return *this;
  }
};

inline constexpr pgoff_t pgoff_max() { return pgoff_t(~0ull); }
inline constexpr loff_t page_offset(pgoff_t i) { return loff_t(i.v << PAGE_CACHE_SHIFT); }

struct address_space;
struct inode;
struct vm_area_struct;

// A NULL dereference of `field`, or a use of it in a freed object (see
// checked_ptr): an oops "oops:<function>:<field>" of the model.
[[noreturn]] void bad_dereference(const char* field, const char* freed_object);

// A pointer field that model code dereferences where the kernel does. A NULL
// target, or the field of an object already freed (freeing clears it), ends
// the run with an oops instead of crashing faultline (a changed recheck in a
// switch can bring either about). Field names the field and says whether its
// owner is freed.
template <class T, class Field>
class checked_ptr {
 public:
  checked_ptr() = default;
  checked_ptr(T* p) : p_(p) {}  // NOLINT: assigned like the raw pointer it stands for
  operator T*() const { return p_; }  // NOLINT
  T* operator->() const { return checked(); }
  T& operator*() const { return *checked(); }

 private:
  // Freeing an object clears the field (page_alloc, do_munmap), so one test
  // covers both; the owner tells which it was.
  T* checked() const {
    if (!p_) [[unlikely]]
      bad_dereference(Field::kName, Field::freed(this) ? Field::kOwner : nullptr);
    return p_;
  }
  T* p_ = nullptr;
};

struct PageMapping {
  static constexpr const char* kName = "page->mapping";
  static constexpr const char* kOwner = "page";
  static bool freed(const void* field);
};
struct VmaFile {
  static constexpr const char* kName = "vma->vm_file";
  static constexpr const char* kOwner = "vma";
  static bool freed(const void* field);
};
struct mm_struct;

// page->flags bits that the model keeps (PG_locked and PG_writeback are bit locks).
enum : unsigned long {
  PG_uptodate = 1ul << 0,
  PG_dirty = 1ul << 1,
  PG_error = 1ul << 2,
  PG_anon = 1ul << 3,     // the kernel encodes this in page->mapping's low bit
  PG_mkwrite = 1ul << 4,  // model only: ->page_mkwrite ran since the page was last cleaned
};

// A folio is its head page: a large folio's tail pages point at it
// (first_page) and keep their own index, mapping and _mapcount (a pte maps
// one page); the flags, the lock, the reference count and the PMD mapcount
// are the head's (compound_head()).
struct page {
  uint32_t frame = 0;  // index in the frame pool: stable across runs
  uint8_t compound_order = 0;  // head: log2 of the folio's pages
  // head: block I/O requests of the folio still in flight (the page is
  // unlocked, or its writeback ended, when the last completes).
  uint8_t io_pending = 0;
  bool io_error = false;  // head: one of them failed
  page* first_page = nullptr;  // tail: the head page
  int _entire_mapcount = -1;   // head: PMD mappings of the whole folio, less one
  unsigned long flags = 0;
  sim::BitLock locked;     // PG_locked
  sim::BitLock writeback;  // PG_writeback
  int _count = 0;          // 0 = free
  int _mapcount = -1;
  checked_ptr<address_space, PageMapping> mapping;
  pgoff_t index;
  uint8_t data[PAGE_SIZE] = {};
  // The disk block its buffer maps (BH_Mapped, b_blocknr; a block is a page),
  // or kNoBlock: set when get_block maps it for a read, a write or
  // ->page_mkwrite; the cache keeps it until the page leaves.
  uint32_t b_blocknr = kNoBlock;
  // While b_blocknr is kNoBlock: the buffer was discarded (discard_buffer,
  // from 6.x truncate_inode_partial_folio) and is unmapped, clean and not
  // delayed, so writeback leaves it a hole (ext4_bio_write_folio: "A hole?
  // We can safely clear the dirty bit") until get_block maps it again.
  // Otherwise an unmapped page of a dirty folio is one writeback maps.
  bool buffer_discarded = false;
  uint32_t next_free = 0;  // free-list link (model)
  bool in_free_list = false;
};

// The radix tree, shrunk to an array indexed by pgoff, with the one tag the
// model needs (PAGECACHE_TAG_WRITEBACK is PG_writeback itself: both change
// together under tree_lock).
struct radix_tree_root {
  std::array<page*, kMaxFilePages> slots{};
  // PAGECACHE_TAG_DIRTY: set with PG_dirty, cleared only when writeback
  // starts on a clean page or the slot is deleted; clear_page_dirty_for_io
  // leaves it, so a page being written is still found by the dirty lookup.
  std::array<bool, kMaxFilePages> tag_dirty{};
};

struct address_space_operations;

struct address_space {
  inode* host = nullptr;
  radix_tree_root page_tree;
  sim::SpinLock tree_lock;  // rwlock_t in 2.6.20; readers never overlap in the model
  unsigned long nrpages = 0;
  // i_mmap: the vmas mapping this file, in the order they were linked.
  std::array<vm_area_struct*, kMaxProcesses * kMaxVmas> i_mmap{};
  uint32_t i_mmap_count = 0;
  sim::SpinLock i_mmap_lock;
  unsigned int truncate_count = 0;
  const address_space_operations* a_ops = nullptr;
  unsigned long flags = 0;  // AS_EIO
  // 5.15: held shared to add pages (fault, read, readahead), exclusive to
  // remove them and change the block map (punch, truncate).
  sim::RwSemaphore invalidate_lock;
  // The backing_dev_info's capabilities: dirty pages are accounted and
  // written back (not for tmpfs: BDI_CAP_NO_ACCT_AND_WRITEBACK).
  bool cap_account_dirty = true;
  // 6.x: the largest folio the filesystem takes (mapping_max_folio_order).
  uint8_t max_folio_order = 0;
  uint32_t id = 0;  // file index
};

inline constexpr unsigned long AS_EIO = 1;

enum class FileKind : uint8_t { Regular, Shmem, Driver };
// A Driver file's ->nopage (schedule.proto File.DriverNopage).
enum class DriverNopage : uint8_t { WrapsFilemapNopage, OwnLookup, OwnLookupCanInvalidate };
// tmpfs's huge= (schedule.proto File.ShmemHuge).
enum class ShmemHuge : uint8_t { Never, Always, WithinSize };

// shmem_inode_info (swap is left out of the model).
struct shmem_inode_info {
  sim::SpinLock lock;
  unsigned long flags = 0;  // SHMEM_PAGEIN, SHMEM_TRUNCATE
  unsigned long next_index = 0;
  unsigned long alloced = 0;
  // SHMEM_SB(inode->i_sb)->huge: each file is on a tmpfs mount of its own.
  ShmemHuge huge = ShmemHuge::Never;
};

inline constexpr unsigned long SHMEM_PAGEIN = 1;    // VM_READ in the kernel
inline constexpr unsigned long SHMEM_TRUNCATE = 2;  // VM_WRITE in the kernel

struct inode_operations;
struct file_operations;

// 3.16's struct shmem_falloc: the range a hole punch is emptying, published
// in inode->i_private for the faults that would refill it. The kernel keeps
// it and its wait queue on the puncher's stack; the model keeps the queue in
// the inode (inode::falloc_waitq), as fibers must not reach into each
// other's stacks, and a wake-up count stands for the queue being woken.
struct shmem_falloc {
  int mode = 0;        // f00cdc6df7d7: FALLOC_FL_PUNCH_HOLE
  bool waitq = false;  // 8e205f779d14: faults wait on inode::falloc_waitq
  pgoff_t start;       // start of the range currently being punched
  pgoff_t next;        // the next page offset to be fallocated / the end of the punch
};

// The block device under the block filesystem: a block holds a page's bytes.
// Freed blocks are handed out again first (LIFO), so another file's write may
// get a block that a truncate or a hole punch just freed.
struct block_device {
  std::array<std::array<uint8_t, PAGE_SIZE>, kMaxBlocks> data{};
  std::array<bool, kMaxBlocks> in_use{};
  std::array<uint32_t, kMaxBlocks> next_free{};
  uint32_t free_head = kNoBlock;
};

struct inode {
  uint32_t i_ino = 0;
  loff_t i_size = 0;
  sim::Mutex i_mutex;
  sim::RwSemaphore i_alloc_sem;
  address_space i_data;
  address_space* i_mapping = nullptr;
  const inode_operations* i_op = nullptr;
  const file_operations* i_fop = nullptr;  // the file's f_op (one open file per inode in the model)
  FileKind kind = FileKind::Regular;
  shmem_inode_info info;  // SHMEM only
  // The block map of a block filesystem's file (its extents, shrunk): the
  // block of each page index, or kNoBlock for a hole.
  std::array<uint32_t, kMaxFilePages> i_block;
  // 3.x to 5.x: inode->i_lock and i_private (shmem's hole-punch notice), the
  // punch's wait queue and how often it was woken (see shmem_falloc).
  sim::SpinLock i_lock;
  shmem_falloc* i_private = nullptr;
  sim::EventQueue falloc_waitq;
  uint32_t falloc_wakeups = 0;
  // ext4_inode_info's i_mmap_sem (4.5): faults shared, punch and truncate exclusive.
  sim::RwSemaphore i_mmap_sem;
  unsigned ra_pages = 4;
  bool has_page_mkwrite = false;
  bool has_launder_page = false;
  DriverNopage driver_nopage = DriverNopage::WrapsFilemapNopage;
  const char* name = "";
};

// vm_flags
enum : unsigned long {
  VM_READ = 0x1,
  VM_WRITE = 0x2,
  VM_SHARED = 0x8,
  VM_MAYWRITE = 0x20,
  VM_CAN_INVALIDATE = 0x08000000,
};

// struct vm_fault (2.6.23): what ->fault is asked for, and the page it gives.
struct vm_fault {
  unsigned int flags = 0;  // FAULT_FLAG_WRITE
  pgoff_t pgoff;
  unsigned long virtual_address = 0;
  page* page = nullptr;
};

inline constexpr unsigned int FAULT_FLAG_WRITE = 0x01;
// 2.6.37 on: the handler may drop mmap_sem and ask for a retry (once).
inline constexpr unsigned int FAULT_FLAG_ALLOW_RETRY = 0x04;
inline constexpr unsigned int FAULT_FLAG_RETRY_NOWAIT = 0x08;
inline constexpr unsigned int FAULT_FLAG_TRIED = 0x20;

struct vm_operations_struct {
  // 2.6.20: the page referenced (and, after the patch, locked), NOPAGE_SIGBUS or NOPAGE_OOM.
  page* (*nopage)(vm_area_struct* vma, unsigned long address, int* type) = nullptr;
  // 2.6.23: sets vmf->page; VM_FAULT_LOCKED if it is returned locked.
  int (*fault)(vm_area_struct* vma, vm_fault* vmf) = nullptr;
  int (*page_mkwrite)(vm_area_struct* vma, page* page) = nullptr;  // VM_FAULT_ bits
  // 3.15 (6.x form): maps the uptodate, unlocked cached pages of
  // [start_pgoff, end_pgoff] around vmf's address without sleeping.
  int (*map_pages)(vm_area_struct* vma, vm_fault* vmf, pgoff_t start_pgoff, pgoff_t end_pgoff) = nullptr;
};

// A page-table entry. No swap or file ptes: a pte is none or present.
struct pte_t {
  uint32_t frame = 0;
  bool present = false;
  bool write = false;
  bool dirty = false;
  bool young = false;
  friend constexpr bool operator==(const pte_t&, const pte_t&) = default;
};

inline bool pte_none(pte_t pte) { return !pte.present; }
inline bool pte_same(pte_t a, pte_t b) { return a == b; }

struct vm_area_struct {
  mm_struct* vm_mm = nullptr;
  unsigned long vm_start = 0;  // bytes, page aligned
  unsigned long vm_end = 0;
  pgoff_t vm_pgoff;
  unsigned long vm_flags = 0;
  bool vm_page_prot_write = false;  // ptes are created writable (no write-notify)
  const vm_operations_struct* vm_ops = nullptr;
  checked_ptr<inode, VmaFile> vm_file;  // the mapped file's inode
  bool anon_vma = false;     // anon_vma_prepare() done
  bool in_use = false;
  uint32_t slot = 0;
};

// container_of: the object whose field f is.
template <class Owner, class F>
const Owner* owner_of(const void* f, F Owner::*member) {
  static const std::ptrdiff_t offset = [member] {
    static const Owner probe;
    return reinterpret_cast<const char*>(&(probe.*member)) - reinterpret_cast<const char*>(&probe);
  }();
  return reinterpret_cast<const Owner*>(static_cast<const char*>(f) - offset);
}

inline const page* compound_head(const page* p) { return p->first_page ? p->first_page : p; }
inline page* compound_head(page* p) { return p->first_page ? p->first_page : p; }

inline bool PageMapping::freed(const void* f) { return compound_head(owner_of(f, &page::mapping))->_count == 0; }
inline bool VmaFile::freed(const void* f) { return !owner_of(f, &vm_area_struct::vm_file)->in_use; }

// A PMD entry: no page table yet, a page table of ptes, or a PMD mapping of
// a whole HPAGE_PMD_ORDER folio (whose ptes the model fills in as well, so
// the MMU reads ptes alone).
enum class pmd_t : uint8_t { None, Table, Huge };

struct mm_struct {
  uint32_t id = 0;
  sim::RwSemaphore mmap_sem;
  sim::SpinLock page_table_lock;  // the pte lock: one per mm in the model
  std::array<vm_area_struct, kMaxVmas> vmas;
  std::array<pte_t, kMaxVpn> pte;
  std::array<pmd_t, kMaxVpn / PTRS_PER_PTE> pmd{};
  long file_rss = 0;
  long anon_rss = 0;
};

// Fault results, as bits (2.6.23's values; 2.6.20 numbered OOM, SIGBUS,
// MINOR and MAJOR 0 to 3, but only which one it is matters).
enum : int {
  VM_FAULT_MINOR = 0,
  VM_FAULT_OOM = 0x0001,
  VM_FAULT_SIGBUS = 0x0002,
  VM_FAULT_MAJOR = 0x0004,
  VM_FAULT_WRITE = 0x0008,
  VM_FAULT_NOPAGE = 0x0100,  // ->fault installed a pte itself
  VM_FAULT_LOCKED = 0x0200,  // ->fault returns vmf->page locked
  VM_FAULT_RETRY = 0x0400,   // ->fault dropped mmap_sem: retry the fault
  VM_FAULT_FALLBACK = 0x0800,  // 6.x: no PMD mapping; map ptes instead
  VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS,
};

// ->nopage's special return values.
page* const NOPAGE_SIGBUS = nullptr;
inline page* const NOPAGE_OOM = reinterpret_cast<page*>(-1l);

// errno values: the host's <cerrno> has Linux's numbers.
inline constexpr int AOP_TRUNCATED_PAGE = 0x80001;

struct address_space_operations {
  int (*readpage)(inode* file, page* page) = nullptr;
  int (*writepage)(page* page) = nullptr;
  int (*prepare_write)(inode* file, page* page, unsigned from, unsigned to) = nullptr;
  int (*commit_write)(inode* file, page* page, unsigned from, unsigned to) = nullptr;
  int (*set_page_dirty)(page* page) = nullptr;
  int (*launder_page)(page* page) = nullptr;
  long (*direct_IO)(inode* file, loff_t pos, const uint8_t* buf, unsigned long len) = nullptr;
  // 2.6.24's write_begin (the page locked, ready for the copy) and write_end
  // (commit, unlock and release; returns the bytes taken), used by
  // generic_perform_write where a filesystem has them (the model's tmpfs).
  int (*write_begin)(inode* file, loff_t pos, unsigned len, page** pagep) = nullptr;
  int (*write_end)(inode* file, loff_t pos, unsigned len, unsigned copied, page* page) = nullptr;
};

struct inode_operations {
  void (*truncate)(inode* inode) = nullptr;
  void (*truncate_range)(inode* inode, loff_t start, loff_t end) = nullptr;
  // notify_change(ATTR_SIZE); without it, inode_setattr (vmtruncate).
  int (*setattr)(inode* inode, loff_t size) = nullptr;
  // 2.6.23 to 2.6.37; from 2.6.38 on it is file_operations' (the model keeps one).
  long (*fallocate)(inode* inode, int mode, loff_t offset, loff_t len) = nullptr;
};

// The user side of a read() or write(): a user address, or a kernel buffer.
struct user_buffer {
  bool user = false;
  unsigned long addr = 0;
  uint8_t* kbuf = nullptr;  // read: destination; write: source
};

struct file_operations {
  // read(): fills out[0..ret) with the bytes copied to the caller.
  long (*read)(inode* file, loff_t* ppos, unsigned long count, user_buffer buf, uint8_t* out) = nullptr;
  // aio_write; o_direct: the file was opened O_DIRECT.
  long (*write)(inode* file, loff_t pos, unsigned long count, user_buffer buf, bool o_direct) = nullptr;
  int (*mmap)(inode* file, vm_area_struct* vma) = nullptr;
  // do_fsync's whole job: write back and wait.
  int (*fsync)(inode* file) = nullptr;
};

}  // namespace faultline::mm
