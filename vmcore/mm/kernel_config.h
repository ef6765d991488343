// Kernel history as data: every change the model knows is one named switch,
// and a preset is a list of switches. Code that differs by version reads
// `if (cfg().seed_fault_pagelock)` next to the kernel label it belongs to.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::mm {

// A kernel generation whose code the model holds as that generation's own
// functions (see vmcore/README.md); a preset names its era, and its switches
// are the point changes inside it.
enum class Era : uint8_t {
  Linux26,  // 2.6.20 to 2.6.26: pages; ->nopage, then ->fault (vmcore/mm, fs, ...)
  Linux3,   // 3.15 to 5.15: pages; truncate_pagecache, hole punching (vmcore/v3)
  Linux6,   // 6.12 to 7.0: large folios, fault-around, folio splitting (vmcore/v6)
};

const char* era_name(Era e);

// KERNEL_VERSION(a, b, c)
constexpr uint32_t kernel_version(uint32_t a, uint32_t b, uint32_t c) { return (a << 16) | (b << 8) | c; }

struct KernelConfig {
  Era era = Era::Linux26;
  // The release a preset names. It changes no behaviour: two releases may
  // differ only outside the model (v3.16 and v4.4), and still be told apart.
  uint32_t release = kernel_version(2, 6, 20);
  // Feb 2007 patch 3/6 (the reference patch): ->nopage returns the page locked
  // and do_no_page keeps it locked until the pte is in; truncate unmaps under
  // the page lock; VM_CAN_INVALIDATE and its BUG_ONs.
  bool seed_fault_pagelock = false;
  // Feb 2007 patch 1/6: BUG_ON(page_mapped(page)) when a page leaves the cache.
  bool seed_remove_mapped_bug = false;
  // 2.6.23 (May 2007 form): vmtruncate/vmtruncate_range unmap (even_cows=1)
  // before and after truncate_inode_pages.
  bool merged_truncate_unmap = false;
  // 2.6.23 ->fault conversion: VM_CAN_INVALIDATE and its BUG_ONs are gone;
  // every fault handler returns its page locked (VM_FAULT_LOCKED), including
  // the converted legacy drivers.
  bool fault_vm_fault_locked = false;
  // 2.6.23 __do_fault: ->page_mkwrite is called with the page unlocked; the
  // fault relocks it and, if it left the cache meanwhile, releases it and
  // returns for a refault.
  bool fault_mkwrite_unlocked = false;
  // 2.6.21 hole-punch fix: shmem_truncate_range unmaps after its second pass.
  bool shmem_punch_unmap = false;
  // 2.6.21 hole-punch fix: madvise(MADV_REMOVE) drops mmap_sem around vmtruncate_range.
  bool madvise_remove_drops_mmap_sem = false;
  // 2.6.21: do_wp_page drops the old page only after retaking the pte lock
  // around ->page_mkwrite.
  bool wp_page_mkwrite_late_release = false;
  // 2.6.23 "fix clear_page_dirty_for_io vs fault race": do_wp_page waits for
  // the page lock of the page it dirties before set_page_dirty (the patched
  // do_no_page holds that lock across the pte install already), and
  // clear_page_dirty_for_io BUG_ONs an unlocked page.
  bool fault_dirty_page_wait = false;
  // 2.6.23: the fallocate() system call (no filesystem of the model has
  // ->fallocate before 3.x: -EOPNOTSUPP).
  bool sys_fallocate = false;
  // 2.6.24: filemap_fault releases the page when the i_size re-check fails.
  bool filemap_fault_sigbus_release = false;
  // 2.6.24: the buffered write copies atomically under the page lock; a short
  // copy unlocks, faults the source in and retries.
  bool buffered_write_atomic_copy = false;
  // 2.6.24: O_DIRECT writes also invalidate the page cache before the I/O.
  bool direct_io_invalidate_before = false;
  // 2.6.24: tmpfs write() is generic_perform_write with shmem_write_begin and
  // shmem_write_end: the page stays locked from shmem_getpage until i_size
  // has grown (2.6.20's shmem_file_write unlocks it before the copy).
  bool shmem_write_begin_end = false;
  // 2.6.26: filemap_fault waits for readpage; not uptodate afterwards -> SIGBUS.
  bool filemap_fault_readpage_wait = false;

  // ---- later kernels' point changes to functions of the 2.6 era ------------
  // 2.6.30, b827e496c893 "mm: close page_mkwrite races": ->page_mkwrite
  // returns the page locked (VM_FAULT_LOCKED), and the fault keeps it locked
  // until the pte is in and the page dirty, so writeback cannot clean it in
  // between.
  bool page_mkwrite_locked = false;
  // 2.6.38: fallocate knows FALLOC_FL_PUNCH_HOLE (with FALLOC_FL_KEEP_SIZE only).
  bool falloc_punch_hole = false;
  // 3.5: madvise(MADV_REMOVE) punches through fallocate, mmap_sem dropped.
  bool madvise_remove_fallocate = false;

  // ---- the 3.x to 5.x era ---------------------------------------------------
  // f00cdc6df7d7 (3.16-rc3, reverted): a fault into a hole being punched
  // drops mmap_sem and waits for the punch on i_mutex.
  bool shmem_falloc_i_mutex = false;
  // 8e205f779d14 (3.16): it waits on the punch's on-stack wait queue instead
  // (TASK_UNINTERRUPTIBLE); b1a366500bd5 (3.16): shmem_undo_range's second
  // pass no longer restarts for a hole punch.
  bool shmem_falloc_waitq = false;
  // ea3d7209ca01 (4.5, CVE-2015-8839): ext4's i_mmap_sem, shared in the fault
  // and ->page_mkwrite, exclusive in punch and truncate around evicting the
  // page cache and freeing the blocks.
  bool ext4_i_mmap_sem = false;
  // 730633f0b7f9 and d4f5258eae7b (5.15): mapping->invalidate_lock replaces
  // i_mmap_sem; filemap_fault takes it shared only to create a page or bring
  // it uptodate, as read() and readahead do to add pages.
  bool invalidate_lock = false;
  // 5.6 (iomap-5.6): page_mkwrite_check_truncate, a page that starts at EOF
  // is beyond it; ext4's ->page_mkwrite kept `page_offset(page) > size`.
  bool page_mkwrite_check_truncate = false;
  // 4.8 (3fa6c507319c): without HIGHMEM (x86-64), copy_page_to_iter copies
  // to the user buffer with faults allowed, never storing the zero of
  // fault_in_pages_writeable into it first.
  bool copy_page_to_iter_no_prefault = false;

  // ---- the folio era (6.12 to 7.0) -------------------------------------------
  // 743a2753a02e (6.12): fault-around caps the range it maps at the last
  // page inside i_size (file_end), computed after next_uptodate_folio.
  bool fault_around_file_end = false;
  // 19773df031bc (6.18-rc1): finish_fault maps the whole large folio, not
  // only the page that faulted.
  bool finish_fault_whole_folio = false;
  // 357b92761d94 (6.18-rc1): fault-around maps a large folio whole when it
  // lies in the VMA and one page table.
  bool fault_around_whole_folio = false;
  // 74207de2ba10 (6.18): no PMD and no whole-folio mapping of a folio that
  // reaches beyond i_size (tmpfs excepted); file_end is computed before
  // filemap_map_pmd.
  bool map_within_isize = false;
  // fa04f5b60fda (6.18): a large folio that fails to split on truncate is
  // unmapped (try_folio_split_or_unmap; tmpfs excepted).
  bool truncate_unmap_unsplit_folio = false;
  // Baolin Wang, 2026-03 (7.0): filemap_map_pages computes end_pgoff before
  // next_uptodate_folio, so one i_size read governs both checks.
  bool fault_around_isize_once = false;
  // 55ac8bbe358b (6.7, and 6.6.y): shmem_undo_range's second pass splits a
  // large folio (truncate_inode_partial_folio) instead of dropping it whole,
  // since a THP may have been faulted in over the range after the first.
  bool shmem_undo_split_large = false;

  // ---- for tests only: no preset has it, no schedule can set it -------------
  // A find_lock_page broken as a user's own switch might break it: after
  // sleeping on the page lock it skips the "truncated?" recheck and reads the
  // page's host through page->mapping (1: the checked field; 2: a raw copy of
  // it, which faults).
  uint8_t broken_find_lock_page_for_tests = 0;

  friend bool operator==(const KernelConfig&, const KernelConfig&) = default;
};

struct SwitchInfo {
  const char* name;
  bool KernelConfig::*field;
  const char* since;
  const char* summary;
  // The switch changes a function that exists only with this one on (e.g.
  // 2.6.24's filemap_fault fixes need 2.6.23's ->fault).
  const char* needs = nullptr;
  // The first era whose code has that function.
  Era era = Era::Linux26;
};

struct PresetInfo {
  const char* name;
  const char* summary;
  Era era;
  uint32_t release;
  std::vector<const char*> switches;
  KernelConfig config;  // the era with those switches on
};

struct SwitchSetting {
  std::string_view name;
  bool enabled;
};

std::span<const SwitchInfo> kernel_switches();
std::span<const PresetInfo> kernel_presets();
const SwitchInfo* find_switch(std::string_view name);

// The config of a preset, or nullopt for an unknown name. "" is v2.6.20.
std::optional<KernelConfig> preset_config(std::string_view preset);
std::string describe_config(const KernelConfig& cfg);
// A preset with switches set on top, or nullopt and *error says why ("" is
// v2.6.20): an unknown preset or switch, or a combination that is no kernel
// ("fault_mkwrite_unlocked needs fault_vm_fault_locked").
std::optional<KernelConfig> build_config(std::string_view preset, std::span<const SwitchSetting> switches,
                                         std::string* error);
// A kernel spelled as on the command line and in `# expect:` lines: a preset,
// then +switch or -switch for each change ("v6.12-shmem_undo_split_large").
// The longest preset the spec starts with is its preset ("v6.18-rc1+x").
std::optional<KernelConfig> parse_kernel_spec(std::string_view spec, std::string* error);
// The preset of cfg's era closest to it, and the switches that make cfg of it
// (how a recorder writes a kernel that is no preset).
struct ConfigAsPreset {
  const PresetInfo* preset;
  std::vector<SwitchSetting> switches;
};
ConfigAsPreset as_preset(const KernelConfig& cfg);

}  // namespace faultline::mm
