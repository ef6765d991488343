#include "vmcore/mm/kernel_config.h"

#include <fmt/format.h>

namespace faultline::mm {

namespace {

const SwitchInfo kSwitches[] = {
    {"seed_fault_pagelock", &KernelConfig::seed_fault_pagelock, "2.6.21-rc (Feb 2007 patch 3/6)",
     "->nopage returns the page locked; do_no_page installs the pte under the page lock; "
     "truncate and invalidate unmap under the page lock; VM_CAN_INVALIDATE BUG_ONs"},
    {"seed_remove_mapped_bug", &KernelConfig::seed_remove_mapped_bug, "2.6.21-rc (Feb 2007 patch 1/6)",
     "BUG_ON(page_mapped(page)) in __remove_from_page_cache"},
    {"merged_truncate_unmap", &KernelConfig::merged_truncate_unmap, "2.6.23",
     "vmtruncate/vmtruncate_range unmap (even_cows=1) before and after truncate_inode_pages"},
    {"fault_vm_fault_locked", &KernelConfig::fault_vm_fault_locked, "2.6.23",
     "->fault replaces ->nopage: VM_CAN_INVALIDATE and its BUG_ONs go; every handler returns the page "
     "locked (VM_FAULT_LOCKED), converted legacy drivers included",
     "seed_fault_pagelock"},
    {"fault_mkwrite_unlocked", &KernelConfig::fault_mkwrite_unlocked, "2.6.23",
     "__do_fault calls ->page_mkwrite with the page unlocked, relocks it, and refaults if it left the cache",
     "fault_vm_fault_locked"},
    {"shmem_punch_unmap", &KernelConfig::shmem_punch_unmap, "2.6.21",
     "shmem_truncate_range unmaps the hole after its second truncate pass"},
    {"madvise_remove_drops_mmap_sem", &KernelConfig::madvise_remove_drops_mmap_sem, "2.6.21",
     "madvise(MADV_REMOVE) drops mmap_sem around vmtruncate_range"},
    {"wp_page_mkwrite_late_release", &KernelConfig::wp_page_mkwrite_late_release, "2.6.21",
     "do_wp_page keeps its reference to the old page until the pte lock is retaken after ->page_mkwrite"},
    {"fault_dirty_page_wait", &KernelConfig::fault_dirty_page_wait, "2.6.23",
     "do_wp_page waits for the page lock of the page it dirties before set_page_dirty; "
     "clear_page_dirty_for_io BUG_ONs an unlocked page (clear_page_dirty_for_io vs fault race)"},
    {"sys_fallocate", &KernelConfig::sys_fallocate, "2.6.23",
     "the fallocate() system call; a filesystem without ->fallocate returns -EOPNOTSUPP"},
    {"filemap_fault_sigbus_release", &KernelConfig::filemap_fault_sigbus_release, "2.6.24",
     "filemap_fault releases the page when the i_size re-check under the page lock fails", "fault_vm_fault_locked"},
    {"buffered_write_atomic_copy", &KernelConfig::buffered_write_atomic_copy, "2.6.24",
     "buffered write never faults under the page lock: short atomic copy -> unlock, fault in, retry"},
    {"direct_io_invalidate_before", &KernelConfig::direct_io_invalidate_before, "2.6.24",
     "O_DIRECT writes invalidate the page cache before the I/O as well as after it"},
    {"shmem_write_begin_end", &KernelConfig::shmem_write_begin_end, "2.6.24",
     "tmpfs write() goes through generic_perform_write with shmem_write_begin/shmem_write_end: the page "
     "stays locked from shmem_getpage until i_size has grown"},
    {"filemap_fault_readpage_wait", &KernelConfig::filemap_fault_readpage_wait, "2.6.26",
     "filemap_fault waits for readpage; a page still not uptodate gives SIGBUS", "fault_vm_fault_locked"},
    {"page_mkwrite_locked", &KernelConfig::page_mkwrite_locked, "2.6.30 (b827e496c893)",
     "->page_mkwrite returns the page locked; the fault keeps it locked until the pte is in and the page dirty",
     "fault_mkwrite_unlocked"},
    {"falloc_punch_hole", &KernelConfig::falloc_punch_hole, "2.6.38 (79124f18b335)",
     "fallocate takes FALLOC_FL_PUNCH_HOLE (with FALLOC_FL_KEEP_SIZE)", "sys_fallocate"},
    {"madvise_remove_fallocate", &KernelConfig::madvise_remove_fallocate, "3.5",
     "madvise(MADV_REMOVE) punches through fallocate(PUNCH_HOLE|KEEP_SIZE)", "falloc_punch_hole"},
    {"shmem_falloc_i_mutex", &KernelConfig::shmem_falloc_i_mutex, "3.16-rc3 (f00cdc6df7d7, reverted)",
     "a fault into a hole being punched drops mmap_sem and waits on i_mutex", "falloc_punch_hole"},
    {"shmem_falloc_waitq", &KernelConfig::shmem_falloc_waitq, "3.16 (8e205f779d14, b1a366500bd5)",
     "a fault into a hole being punched waits on the punch's wait queue; the punch's second pass does not restart",
     "falloc_punch_hole"},
    {"ext4_i_mmap_sem", &KernelConfig::ext4_i_mmap_sem, "4.5 (ea3d7209ca01)",
     "ext4's i_mmap_sem: shared in the fault and ->page_mkwrite, exclusive in punch and truncate", "falloc_punch_hole"},
    {"invalidate_lock", &KernelConfig::invalidate_lock, "5.15 (730633f0b7f9, d4f5258eae7b)",
     "mapping->invalidate_lock: exclusive in punch and truncate; shared where a fault, read() or readahead "
     "adds a page",
     "falloc_punch_hole"},
    {"page_mkwrite_check_truncate", &KernelConfig::page_mkwrite_check_truncate, "5.6 (iomap-5.6)",
     "->page_mkwrite treats a page that starts at EOF as beyond it (ext4 kept page_offset(page) > size)",
     "page_mkwrite_locked"},
    {"copy_page_to_iter_no_prefault", &KernelConfig::copy_page_to_iter_no_prefault, "4.8 (3fa6c507319c)",
     "read() copies to a user buffer with faults allowed (no HIGHMEM), without first storing a zero into it"},
    {"fault_around_file_end", &KernelConfig::fault_around_file_end, "6.12 (743a2753a02e)",
     "fault-around caps its range at the last page inside i_size (file_end), read after next_uptodate_folio",
     nullptr, Era::Linux6},
    {"finish_fault_whole_folio", &KernelConfig::finish_fault_whole_folio, "6.18-rc1 (19773df031bc)",
     "finish_fault maps the whole large file folio, not only the faulting page", nullptr, Era::Linux6},
    {"fault_around_whole_folio", &KernelConfig::fault_around_whole_folio, "6.18-rc1 (357b92761d94)",
     "fault-around maps a large folio whole when it lies inside the VMA and one page table", nullptr, Era::Linux6},
    {"map_within_isize", &KernelConfig::map_within_isize, "6.18 (74207de2ba10)",
     "no PMD or whole-folio mapping of a folio reaching beyond i_size (tmpfs excepted); file_end read before "
     "filemap_map_pmd",
     "fault_around_file_end", Era::Linux6},
    {"truncate_unmap_unsplit_folio", &KernelConfig::truncate_unmap_unsplit_folio, "6.18 (fa04f5b60fda)",
     "truncate unmaps a large folio it fails to split (try_folio_split_or_unmap; tmpfs excepted)", nullptr,
     Era::Linux6},
    {"fault_around_isize_once", &KernelConfig::fault_around_isize_once, "7.0 (Baolin Wang, 2026-03)",
     "filemap_map_pages computes end_pgoff from i_size before next_uptodate_folio: one i_size read for both "
     "checks (the nr_pages underflow fix)",
     "fault_around_file_end", Era::Linux6},
    {"shmem_undo_split_large", &KernelConfig::shmem_undo_split_large, "6.7 (55ac8bbe358b, 6.6.y)",
     "shmem_undo_range's second pass splits a large folio instead of dropping it whole (a THP faulted in "
     "over the hole meanwhile kept data outside it)",
     nullptr, Era::Linux6},
};

const std::vector<PresetInfo>& presets() {
  static const std::vector<PresetInfo> kPresets = [] {
    std::vector<PresetInfo> p;
    p.push_back({"v2.6.20",
                 "Linux 2.6.20: the truncate_count seqlock in do_no_page, no page lock in faults",
                 Era::Linux26,
                 kernel_version(2, 6, 20),
                 {},
                 {}});
    p.push_back({"seed",
                 "2.6.20 plus exactly the reference patch (3/6) and patch 1/6's BUG_ON",
                 Era::Linux26,
                 kernel_version(2, 6, 20),
                 {"seed_fault_pagelock", "seed_remove_mapped_bug"},
                 {}});
    std::vector<const char*> v23 = {"seed_fault_pagelock",           "seed_remove_mapped_bug",
                                    "merged_truncate_unmap",         "fault_vm_fault_locked",
                                    "fault_mkwrite_unlocked",        "shmem_punch_unmap",
                                    "madvise_remove_drops_mmap_sem", "wp_page_mkwrite_late_release",
                                    "fault_dirty_page_wait",         "sys_fallocate"};
    p.push_back({"v2.6.23",
                 "the merged form of the fix with the 2.6.21 hole-punch fixes and 2.6.23's fault changes",
                 Era::Linux26,
                 kernel_version(2, 6, 23),
                 v23,
                 {}});
    std::vector<const char*> v26 = v23;
    for (const char* s : {"filemap_fault_sigbus_release", "buffered_write_atomic_copy", "direct_io_invalidate_before",
                          "shmem_write_begin_end", "filemap_fault_readpage_wait"})
      v26.push_back(s);
    p.push_back({"v2.6.26",
                 "2.6.23 with the 2.6.24 write path and 2.6.26's filemap_fault",
                 Era::Linux26,
                 kernel_version(2, 6, 26),
                 v26,
                 {}});
    // The 3.x to 5.x era keeps every change of the 2.6 era and adds its own.
    std::vector<const char*> v315 = v26;
    for (const char* s : {"page_mkwrite_locked", "falloc_punch_hole", "madvise_remove_fallocate"}) v315.push_back(s);
    p.push_back({"v3.15",
                 "tmpfs and ext4 hole punching; shmem_undo_range restarts while faults refill the hole "
                 "(CVE-2014-4171)",
                 Era::Linux3,
                 kernel_version(3, 15, 0),
                 v315,
                 {}});
    std::vector<const char*> v316 = v315;
    v316.push_back("shmem_falloc_waitq");
    p.push_back({"v3.16",
                 "faults into a tmpfs hole being punched wait for the punch (shmem_falloc)",
                 Era::Linux3,
                 kernel_version(3, 16, 0),
                 v316,
                 {}});
    p.push_back({"v4.4",
                 "v3.16; ext4 punch evicts the page cache with nothing against faults before freeing the "
                 "blocks (CVE-2015-8839)",
                 Era::Linux3,
                 kernel_version(4, 4, 0),
                 v316,
                 {}});
    std::vector<const char*> v45 = v316;
    v45.push_back("ext4_i_mmap_sem");
    p.push_back({"v4.5", "ext4's i_mmap_sem in fault and punch", Era::Linux3, kernel_version(4, 5, 0), v45, {}});
    std::vector<const char*> v515 = v316;
    v515.push_back("invalidate_lock");
    v515.push_back("copy_page_to_iter_no_prefault");
    p.push_back({"v5.15",
                 "mapping->invalidate_lock in fault, read, readahead, punch and truncate",
                 Era::Linux3,
                 kernel_version(5, 15, 0),
                 v515,
                 {}});
    // The folio era: v5.15's kernel with large folios, fault-around and
    // folio splitting on truncate.
    std::vector<const char*> v612 = v515;
    v612.push_back("fault_around_file_end");
    v612.push_back("shmem_undo_split_large");
    p.push_back({"v6.12",
                 "large folios, fault-around capped at file_end (743a2753a02e); PMD mappings across i_size",
                 Era::Linux6,
                 kernel_version(6, 12, 0),
                 v612,
                 {}});
    std::vector<const char*> v618rc1 = v612;
    v618rc1.push_back("finish_fault_whole_folio");
    v618rc1.push_back("fault_around_whole_folio");
    p.push_back({"v6.18-rc1",
                 "finish_fault and fault-around map whole folios, past i_size too (no SIGBUS: generic/749)",
                 Era::Linux6,
                 kernel_version(6, 18, 0),
                 v618rc1,
                 {}});
    std::vector<const char*> v618 = v618rc1;
    v618.push_back("map_within_isize");
    v618.push_back("truncate_unmap_unsplit_folio");
    p.push_back({"v6.18",
                 "whole-folio and PMD mappings only inside i_size; an unsplit folio is unmapped on truncate",
                 Era::Linux6,
                 kernel_version(6, 18, 0),
                 v618,
                 {}});
    p.push_back({"v7.0-rc3",
                 "v6.18's fault path: fault-around reads i_size twice and nr_pages can underflow",
                 Era::Linux6,
                 kernel_version(7, 0, 0),
                 v618,
                 {}});
    std::vector<const char*> v70 = v618;
    v70.push_back("fault_around_isize_once");
    p.push_back({"v7.0", "fault-around reads i_size once (the nr_pages fix)", Era::Linux6, kernel_version(7, 0, 0),
                 v70, {}});
    for (PresetInfo& preset : p) {
      preset.config.era = preset.era;
      preset.config.release = preset.release;
      for (const char* name : preset.switches) preset.config.*(find_switch(name)->field) = true;
    }
    return p;
  }();
  return kPresets;
}

}  // namespace

std::span<const SwitchInfo> kernel_switches() { return kSwitches; }

std::span<const PresetInfo> kernel_presets() { return presets(); }

const SwitchInfo* find_switch(std::string_view name) {
  for (const SwitchInfo& s : kSwitches)
    if (name == s.name) return &s;
  return nullptr;
}

std::optional<KernelConfig> preset_config(std::string_view preset) {
  if (preset.empty()) preset = "v2.6.20";
  for (const PresetInfo& p : presets())
    if (preset == p.name) return p.config;
  return std::nullopt;
}

std::optional<KernelConfig> build_config(std::string_view preset, std::span<const SwitchSetting> switches,
                                         std::string* error) {
  std::optional<KernelConfig> cfg = preset_config(preset);
  if (!cfg) {
    *error = fmt::format("kernel.preset: unknown preset \"{}\" (see `faultline kernels`)", preset);
    return std::nullopt;
  }
  for (size_t i = 0; i < switches.size(); ++i) {
    const SwitchInfo* info = find_switch(switches[i].name);
    if (!info) {
      *error = fmt::format("kernel.switches[{}].name: unknown switch \"{}\"", i, switches[i].name);
      return std::nullopt;
    }
    (*cfg).*(info->field) = switches[i].enabled;
  }
  for (const SwitchInfo& s : kSwitches) {
    if (s.needs && (*cfg).*s.field && !((*cfg).*(find_switch(s.needs)->field))) {
      *error = fmt::format("kernel.switches: {} needs {}", s.name, s.needs);
      return std::nullopt;
    }
    if ((*cfg).*s.field && cfg->era < s.era) {
      *error = fmt::format("kernel.switches: {} is a change to the {} era's code (preset {} is of the {} era)", s.name,
                           era_name(s.era), preset.empty() ? "v2.6.20" : preset, era_name(cfg->era));
      return std::nullopt;
    }
  }
  return cfg;
}

std::optional<KernelConfig> parse_kernel_spec(std::string_view spec, std::string* error) {
  std::string_view preset;
  for (const PresetInfo& p : presets()) {
    const std::string_view name = p.name;
    if (name.size() > preset.size() && spec.starts_with(name) &&
        (spec.size() == name.size() || spec[name.size()] == '+' || spec[name.size()] == '-'))
      preset = name;
  }
  if (preset.empty() && !spec.empty() && spec[0] != '+' && spec[0] != '-') {
    std::string known;
    for (const PresetInfo& p : presets()) known += fmt::format(" {}", p.name);
    *error = fmt::format("unknown kernel preset \"{}\" (known:{}; switches follow as +name or -name)", spec, known);
    return std::nullopt;
  }
  std::vector<SwitchSetting> switches;
  for (size_t at = preset.size(); at < spec.size();) {
    const size_t next = spec.find_first_of("+-", at + 1);
    switches.push_back({spec.substr(at + 1, next == std::string_view::npos ? next : next - at - 1), spec[at] == '+'});
    at = next == std::string_view::npos ? spec.size() : next;
  }
  return build_config(preset, switches, error);
}

namespace {

// How far a config is from a preset's: switches first, then the release.
size_t distance(const KernelConfig& a, const KernelConfig& b) {
  size_t n = a.release != b.release;
  for (const SwitchInfo& s : kSwitches) n += 2 * (a.*s.field != b.*s.field);
  return n;
}

}  // namespace

ConfigAsPreset as_preset(const KernelConfig& cfg) {
  const PresetInfo* best = nullptr;
  for (const PresetInfo& p : presets())
    if (p.era == cfg.era && (!best || distance(p.config, cfg) < distance(best->config, cfg))) best = &p;
  ConfigAsPreset out{best, {}};
  for (const SwitchInfo& s : kSwitches)
    if (best->config.*s.field != cfg.*s.field) out.switches.push_back({s.name, cfg.*s.field});
  return out;
}

const char* era_name(Era e) {
  switch (e) {
    case Era::Linux26: return "2.6";
    case Era::Linux3: return "3.x-5.x";
    case Era::Linux6: return "6.x-7.0";
  }
  return "?";
}

std::string describe_config(const KernelConfig& cfg) {
  const ConfigAsPreset as = as_preset(cfg);
  std::string out = std::string(as.preset->name);
  for (const SwitchSetting& s : as.switches) out += fmt::format(" {}{}", s.enabled ? "+" : "-", s.name);
  return out;
}

}  // namespace faultline::mm
