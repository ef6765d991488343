#include "vmcore/kernel/era.h"

#include "vmcore/mm/mm.h"
#include "vmcore/v3/v3.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm {

namespace {

static_assert(int(FileKind::Regular) == 0 && int(FileKind::Shmem) == 1 && int(FileKind::Driver) == 2);

// Linux 2.6.20 to 2.6.26: vmcore/mm, fs, block, arch, drivers.
constexpr EraOps kLinux26 = {
    .handle_mm_fault = [](mm_struct* mm, vm_area_struct* vma, unsigned long address,
                          unsigned int flags) { return handle_mm_fault(mm, vma, address, flags & FAULT_FLAG_WRITE); },
    .fault_allow_retry = false,
    .get_inode = {blockfs_get_inode, shmem_get_inode, legacy_driver_get_inode},
    .truncate_inode_pages_range = truncate_inode_pages_range,
    .invalidate_inode_pages2_range = invalidate_inode_pages2_range,
    .shmem_truncate_range = nullptr,  // 2.6's tmpfs calls its own
};

// Linux 3.15 to 5.15: vmcore/v3, over the 2.6 era's code with its switches.
constexpr EraOps kLinux3 = {
    .handle_mm_fault = v3::handle_mm_fault,
    .fault_allow_retry = true,
    .get_inode = {v3::ext4_get_inode, v3::shmem_get_inode, legacy_driver_get_inode},
    .truncate_inode_pages_range = v3::truncate_inode_pages_range,
    .invalidate_inode_pages2_range = invalidate_inode_pages2_range,
    .shmem_truncate_range = v3::shmem_truncate_range,
};

// Linux 6.12 to 7.0: vmcore/v6 (folios, fault-around, the folio-era
// truncate) under the 3.x era's ext4 and tmpfs.
constexpr EraOps kLinux6 = {
    .handle_mm_fault = v6::handle_mm_fault,
    .fault_allow_retry = true,
    .get_inode = {v3::ext4_get_inode, v3::shmem_get_inode, legacy_driver_get_inode},
    .truncate_inode_pages_range = v6::truncate_inode_pages_range,
    .invalidate_inode_pages2_range = v6::invalidate_inode_pages2_range,
    .shmem_truncate_range = v6::shmem_truncate_range,
};

}  // namespace

const EraOps& era_ops(Era era) {
  switch (era) {
    case Era::Linux26: return kLinux26;
    case Era::Linux3: return kLinux3;
    case Era::Linux6: return kLinux6;
  }
  return kLinux26;
}

}  // namespace faultline::mm
