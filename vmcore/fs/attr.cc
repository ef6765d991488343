// fs/open.c do_truncate and fs/attr.c notify_change / inode_setattr: the
// ftruncate() path and its locks (i_mutex, then i_alloc_sem for write).
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

int do_truncate(inode* inode, loff_t length) {
  KFUNC("do_truncate");
  if (length < 0) return -EINVAL;
  mutex_lock(&inode->i_mutex, "do_truncate:i_mutex");
  // notify_change(ATTR_SIZE)
  down_write(&inode->i_alloc_sem, "notify_change:i_alloc_sem");
  int error;
  if (inode->i_op->setattr)
    error = inode->i_op->setattr(inode, length);
  else
    error = length != inode->i_size ? vmtruncate(inode, length) : 0;  // inode_setattr
  up_write(&inode->i_alloc_sem, "notify_change:i_alloc_sem_up");
  mutex_unlock(&inode->i_mutex, "do_truncate:i_mutex_unlock");
  return error;
}

}  // namespace faultline::mm
