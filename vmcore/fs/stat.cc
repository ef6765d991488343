// fs/stat.c: what fstat() reports of a file, here its size (generic_fillattr
// reads i_size without a lock).
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

int64_t vfs_getattr(inode* inode) {
  KFUNC("vfs_getattr");
  return i_size_read(inode, "generic_fillattr:i_size_read");
}

}  // namespace faultline::mm
