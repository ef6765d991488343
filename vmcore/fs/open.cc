// fs/open.c: sys_fallocate (2.6.23), its argument checks in their order, then
// the filesystem's ->fallocate.
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

long do_fallocate(inode* inode, int mode, loff_t offset, loff_t len) {
  KFUNC("sys_fallocate");
  if (offset < 0 || len <= 0) return -EINVAL;
  // Return error if mode is not supported (2.6.23 knows FALLOC_FL_KEEP_SIZE only).
  if (mode & ~FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP;
  // The model's files are regular and open for writing.
  if (offset + len > kMaxFileBytes || offset + len < 0) return -EFBIG;
  if (!inode->i_op->fallocate) return -EOPNOTSUPP;
  return inode->i_op->fallocate(inode, mode, offset, len);
}

}  // namespace faultline::mm
