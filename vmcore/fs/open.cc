// fs/open.c: sys_fallocate (2.6.23), its argument checks in their order, then
// the filesystem's ->fallocate.
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

long do_fallocate(inode* inode, int mode, loff_t offset, loff_t len) {
  KFUNC("do_fallocate");
  if (offset < 0 || len <= 0) return -EINVAL;
  if (cfg().falloc_punch_hole) {
    // 2.6.38: return error if mode is not supported.
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
    // Punch hole must have keep size set.
    if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
  } else if (mode && !(mode & FALLOC_FL_KEEP_SIZE)) {
    // 2.6.23 knows FALLOC_FL_KEEP_SIZE only.
    return -EOPNOTSUPP;
  }
  // The model's files are regular and open for writing. Check for wrap
  // through zero too (the kernel's signed sum wraps: -fno-strict-overflow).
  const loff_t end = loff_t(uint64_t(offset) + uint64_t(len));
  if (end > kMaxFileBytes || end < 0) return -EFBIG;
  if (!inode->i_op->fallocate) return -EOPNOTSUPP;
  if (!(mode & FALLOC_FL_PUNCH_HOLE)) return inode->i_op->fallocate(inode, mode, offset, len);
  tracer().punch_hole_begin(inode, offset, end);
  const long error = inode->i_op->fallocate(inode, mode, offset, len);
  tracer().punch_hole_end(inode, int(error));
  return error;
}

}  // namespace faultline::mm
