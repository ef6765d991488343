// fs/ext4 of 4.4 to 5.15, shrunk to what faults, truncate and hole punch
// see (delalloc, a block per page): ext4_punch_hole, ext4_setattr,
// ext4_page_mkwrite, ext4_filemap_fault (4.5) and ext4_fallocate, with
// ea3d7209ca01's i_mmap_sem (ext4_i_mmap_sem) and 5.15's invalidate_lock as
// switches. The address_space operations and read()/write() are the block
// filesystem's of the 2.6 era.
#include <algorithm>
#include <cstring>

#include "vmcore/mm/locking.h"
#include "vmcore/v3/v3.h"
#include "vmcore/v6/v6.h"

namespace faultline::mm::v3 {

namespace {

// The lock that keeps faults from re-instantiating pages punch or truncate
// removes, and from mapping blocks they free: none (4.4), ext4's i_mmap_sem
// (4.5) or the mapping's invalidate_lock (5.15).
sim::RwSemaphore* ext4_mmap_lock(inode* inode) {
  if (cfg().invalidate_lock) return &inode->i_mapping->invalidate_lock;
  if (cfg().ext4_i_mmap_sem) return &inode->i_mmap_sem;
  return nullptr;
}

void lock_exclusive(sim::RwSemaphore* sem, sim::Label where) {
  if (sem) down_write(sem, where);
}
void unlock_exclusive(sim::RwSemaphore* sem, sim::Label where) {
  if (sem) up_write(sem, where);
}

// 4.5: the fault holds i_mmap_sem shared (5.15: filemap_fault takes
// invalidate_lock itself where it adds a page).
int ext4_filemap_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("ext4_filemap_fault");
  inode* inode = vma->vm_file;
  down_read(&inode->i_mmap_sem, "ext4_filemap_fault:i_mmap_sem");
  const int err = v3::filemap_fault(vma, vmf);
  up_read(&inode->i_mmap_sem, "ext4_filemap_fault:i_mmap_sem_up");
  return err;
}

// The delalloc path: block_page_mkwrite, under the fault side of the lock.
int ext4_page_mkwrite(vm_area_struct* vma, page* p) {
  KFUNC("ext4_page_mkwrite");
  inode* inode = vma->vm_file;
  sim::RwSemaphore* sem = ext4_mmap_lock(inode);
  if (sem) down_read(sem, "ext4_page_mkwrite:down_read");
  const int ret = block_page_mkwrite(vma, p);
  if (sem) up_read(sem, "ext4_page_mkwrite:up_read");
  return ret;
}

const vm_operations_struct ext4_file_vm_ops = {.fault = filemap_fault, .page_mkwrite = ext4_page_mkwrite};
// 6.x: filemap_fault of the folio era, and fault-around.
const vm_operations_struct ext4_file_vm_ops_6 = {
    .fault = v6::filemap_fault, .page_mkwrite = ext4_page_mkwrite, .map_pages = v6::filemap_map_pages};
const vm_operations_struct ext4_file_vm_ops_4_5 = {.fault = ext4_filemap_fault, .page_mkwrite = ext4_page_mkwrite};

int ext4_file_mmap(inode*, vm_area_struct* vma) {
  if (cfg().era == Era::Linux6)
    vma->vm_ops = &ext4_file_vm_ops_6;
  else
    vma->vm_ops = cfg().ext4_i_mmap_sem && !cfg().invalidate_lock ? &ext4_file_vm_ops_4_5 : &ext4_file_vm_ops;
  return 0;
}

// Zero [from, from + length) inside one block through the page cache: a hole
// has nothing to zero; a mapped block is read in first.
int ext4_block_zero_page_range(inode* inode, loff_t from, loff_t length) {
  KFUNC("ext4_block_zero_page_range");
  address_space* mapping = inode->i_mapping;
  const pgoff_t index(uint64_t(from) >> PAGE_SHIFT);
  const unsigned offset = unsigned(from & (PAGE_SIZE - 1));
  length = std::min<loff_t>(length, loff_t(PAGE_SIZE - offset));
  // find_or_create_page
  page* p = find_lock_page(mapping, index);
  if (!p) {
    p = alloc_page();
    if (!p) return -ENOMEM;
    if (const int err = add_to_page_cache_lru(p, mapping, index)) {
      page_cache_release(p);
      return err;
    }
  }
  if (p->b_blocknr == kNoBlock) p->b_blocknr = blockfs_get_block(inode, index, false);
  if (p->b_blocknr != kNoBlock) {  // unmapped? It's a hole - nothing to do
    if (!PageUptodate(p)) {
      // ll_rw_block(READ) and wait_on_buffer, with the page locked (the
      // kernel reads this buffer alone: see folio_read_other_blocks).
      point_read("ext4_block_zero_page_range:ll_rw_block", obj_disk(inode, index));
      bdev_read(p->b_blocknr, p->data);
      folio_read_other_blocks(inode, page_folio(p), p);
      SetPageUptodate(p);
    }
    point_write("ext4_block_zero_page_range:zero_user", obj_page_data(p));
    std::memset(p->data + offset, 0, size_t(length));
    set_page_dirty(p);
  }
  unlock_page(p);
  page_cache_release(p);
  return 0;
}

// The partial blocks at both ends of [lstart, lstart + length).
int ext4_zero_partial_blocks(inode* inode, loff_t lstart, loff_t length) {
  const loff_t byte_end = lstart + length - 1;
  const unsigned partial_start = unsigned(lstart & (PAGE_SIZE - 1));
  const unsigned partial_end = unsigned(byte_end & (PAGE_SIZE - 1));
  // Handle partial zero within the single block.
  if ((lstart >> PAGE_SHIFT) == (byte_end >> PAGE_SHIFT) && (partial_start || partial_end != PAGE_SIZE - 1))
    return ext4_block_zero_page_range(inode, lstart, length);
  if (partial_start)
    if (const int err = ext4_block_zero_page_range(inode, lstart, loff_t(PAGE_SIZE))) return err;
  if (partial_end != PAGE_SIZE - 1) return ext4_block_zero_page_range(inode, byte_end - partial_end, partial_end + 1);
  return 0;
}

long ext4_punch_hole(inode* inode, loff_t offset, loff_t length) {
  KFUNC("ext4_punch_hole");
  address_space* mapping = inode->i_mapping;
  long ret = 0;
  // Write out all dirty pages to avoid race conditions, then release them.
  point_read("ext4_punch_hole:nrpages", obj_nrpages(mapping));
  if (mapping->nrpages) {
    ret = filemap_write_and_wait(mapping);
    if (ret) return ret;
  }
  mutex_lock(&inode->i_mutex, "ext4_punch_hole:i_mutex");
  // No need to punch hole beyond i_size.
  if (offset >= inode->i_size) goto out_mutex;
  // If the hole extends beyond i_size, set the hole to end after the page
  // that contains i_size.
  if (offset + length > inode->i_size)
    length = inode->i_size + loff_t(PAGE_SIZE) - (inode->i_size & loff_t(PAGE_SIZE - 1)) - offset;
  {
    // Prevent page faults from reinstantiating pages we have released from
    // page cache (4.5 on).
    sim::RwSemaphore* sem = ext4_mmap_lock(inode);
    lock_exclusive(sem, "ext4_punch_hole:down_write");
    const loff_t first_block_offset = loff_t((uint64_t(offset) + PAGE_SIZE - 1) & PAGE_MASK);
    const loff_t last_block_offset = loff_t(uint64_t(offset + length) & PAGE_MASK) - 1;
    // Now release the pages and zero block aligned part of pages.
    if (last_block_offset > first_block_offset) truncate_pagecache_range(inode, first_block_offset, last_block_offset);
    ret = ext4_zero_partial_blocks(inode, offset, length);
    const pgoff_t first_block((uint64_t(offset) + PAGE_SIZE - 1) >> PAGE_SHIFT);
    const pgoff_t stop_block(uint64_t(offset + length) >> PAGE_SHIFT);
    // If there are no blocks to remove (or zeroing failed), return now.
    if (!ret && first_block < stop_block) {
      point_write("ext4_punch_hole:ext4_ext_remove_space", obj_disk(inode, first_block));
      blockfs_free_blocks(inode, first_block, stop_block);
      // 4.4: now release the pages again to reduce race window.
      if (!sem && last_block_offset > first_block_offset)
        truncate_pagecache_range(inode, first_block_offset, last_block_offset);
    }
    unlock_exclusive(sem, "ext4_punch_hole:up_write");
  }
out_mutex:
  mutex_unlock(&inode->i_mutex, "ext4_punch_hole:i_mutex_unlock");
  return ret;
}

// Allocation gives the range blocks (unwritten: they read as zeros) and,
// without FALLOC_FL_KEEP_SIZE, the size.
long ext4_fallocate(inode* inode, int mode, loff_t offset, loff_t len) {
  KFUNC("ext4_fallocate");
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  if (mode & FALLOC_FL_PUNCH_HOLE) return ext4_punch_hole(inode, offset, len);
  mutex_lock(&inode->i_mutex, "ext4_fallocate:i_mutex");
  const uint64_t end = (uint64_t(offset + len) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  for (uint64_t i = uint64_t(offset) >> PAGE_SHIFT; i < end; ++i) {
    point_write("ext4_fallocate:ext4_alloc_file_blocks", obj_disk(inode, pgoff_t(i)));
    blockfs_get_block(inode, pgoff_t(i), true);
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > inode->i_size)
    i_size_write(inode, offset + len, "ext4_fallocate:i_size_write");
  mutex_unlock(&inode->i_mutex, "ext4_fallocate:i_mutex_unlock");
  return 0;
}

// notify_change(ATTR_SIZE), with i_mutex held: i_size first, then (under the
// fault-excluding lock from 4.5 on) the page cache and, shrinking, the blocks.
int ext4_setattr(inode* inode, loff_t size) {
  KFUNC("ext4_setattr");
  if (size > kMaxFileBytes) return -EFBIG;
  const bool shrink = size <= inode->i_size;
  if (size != inode->i_size) i_size_write(inode, size, "ext4_setattr:i_size_write");
  sim::RwSemaphore* sem = ext4_mmap_lock(inode);
  lock_exclusive(sem, "ext4_setattr:down_write");
  truncate_pagecache(inode, inode->i_size);
  if (shrink) blockfs_truncate(inode);  // ext4_truncate
  unlock_exclusive(sem, "ext4_setattr:up_write");
  return 0;
}

const inode_operations ext4_file_inode_operations = {.setattr = ext4_setattr, .fallocate = ext4_fallocate};

const file_operations ext4_file_operations = {
    .read = do_generic_file_read, .write = generic_file_aio_write, .mmap = ext4_file_mmap, .fsync = blockfs_fsync};

}  // namespace

void ext4_get_inode(inode* inode) {
  if (inode->has_launder_page) return nfs_get_inode(inode);  // an NFS client's file
  blockfs_get_inode(inode);
  inode->i_op = &ext4_file_inode_operations;
  inode->i_fop = &ext4_file_operations;
}

}  // namespace faultline::mm::v3
