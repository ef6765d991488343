// mm/fadvise.c: POSIX_FADV_DONTNEED, the only advice the model takes.
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

long sys_fadvise64_64(inode* file, loff_t offset, loff_t len) {
  KFUNC("sys_fadvise64_64");
  address_space* mapping = file->i_mapping;
  if (offset < 0 || len < 0) return -EINVAL;
  loff_t endbyte = offset + len;
  if (!len || endbyte < len)
    endbyte = -1;
  else
    --endbyte;  // inclusive
  // Start writeback of dirty pages (filemap_flush: no waiting), then drop the
  // clean ones: from the first whole page to the page holding endbyte.
  do_writepages(mapping, WB_SYNC_NONE);
  const pgoff_t start_index = pgoff_t((uint64_t(offset) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT);
  const pgoff_t end_index = endbyte < 0 ? pgoff_max() : pgoff_t(uint64_t(endbyte) >> PAGE_CACHE_SHIFT);
  if (end_index >= start_index) invalidate_mapping_pages(mapping, start_index, end_index);
  return 0;
}

}  // namespace faultline::mm
