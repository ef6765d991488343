#include "vmcore/kernel/era.h"

#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

static_assert(int(FileKind::Regular) == 0 && int(FileKind::Shmem) == 1 && int(FileKind::Driver) == 2);

// Linux 2.6.20 to 2.6.26: vmcore/mm, fs, block, arch, drivers.
constexpr EraOps kLinux26 = {
    .handle_mm_fault = handle_mm_fault,
    .get_inode = {blockfs_get_inode, shmem_get_inode, legacy_driver_get_inode},
};

}  // namespace

const EraOps& era_ops(Era era) {
  switch (era) {
    case Era::Linux26: return kLinux26;
  }
  return kLinux26;
}

}  // namespace faultline::mm
