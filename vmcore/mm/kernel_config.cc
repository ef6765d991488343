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
};

const std::vector<PresetInfo>& presets() {
  static const std::vector<PresetInfo> kPresets = [] {
    std::vector<PresetInfo> p;
    p.push_back({"v2.6.20",
                 "Linux 2.6.20: the truncate_count seqlock in do_no_page, no page lock in faults",
                 Era::Linux26,
                 {},
                 {}});
    p.push_back({"seed",
                 "2.6.20 plus exactly the reference patch (3/6) and patch 1/6's BUG_ON",
                 Era::Linux26,
                 {"seed_fault_pagelock", "seed_remove_mapped_bug"},
                 {}});
    std::vector<const char*> v23 = {
        "seed_fault_pagelock",           "seed_remove_mapped_bug",       "merged_truncate_unmap",
        "fault_vm_fault_locked",         "fault_mkwrite_unlocked",       "shmem_punch_unmap",
        "madvise_remove_drops_mmap_sem", "wp_page_mkwrite_late_release", "fault_dirty_page_wait", "sys_fallocate"};
    p.push_back({"v2.6.23",
                 "the merged form of the fix with the 2.6.21 hole-punch fixes and 2.6.23's fault changes",
                 Era::Linux26,
                 v23,
                 {}});
    std::vector<const char*> v26 = v23;
    for (const char* s : {"filemap_fault_sigbus_release", "buffered_write_atomic_copy", "direct_io_invalidate_before",
                          "shmem_write_begin_end", "filemap_fault_readpage_wait"})
      v26.push_back(s);
    p.push_back({"v2.6.26", "2.6.23 with the 2.6.24 write path and 2.6.26's filemap_fault", Era::Linux26, v26, {}});
    for (PresetInfo& preset : p) {
      preset.config.era = preset.era;
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
  }
  return cfg;
}

namespace {

size_t differing_switches(const KernelConfig& a, const KernelConfig& b) {
  size_t n = 0;
  for (const SwitchInfo& s : kSwitches) n += a.*s.field != b.*s.field;
  return n;
}

}  // namespace

ConfigAsPreset as_preset(const KernelConfig& cfg) {
  const PresetInfo* best = nullptr;
  for (const PresetInfo& p : presets())
    if (p.era == cfg.era && (!best || differing_switches(p.config, cfg) < differing_switches(best->config, cfg)))
      best = &p;
  ConfigAsPreset out{best, {}};
  for (const SwitchInfo& s : kSwitches)
    if (best->config.*s.field != cfg.*s.field) out.switches.push_back({s.name, cfg.*s.field});
  return out;
}

const char* era_name(Era e) {
  switch (e) {
    case Era::Linux26: return "2.6";
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
