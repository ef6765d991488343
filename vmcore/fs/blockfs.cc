// A minimal block filesystem with the generic address_space operations of
// 2.6.20 (block_read_full_page, block_write_full_page, block_prepare_write,
// generic_commit_write, blockdev_direct_IO). A block is a page; each file has
// a block map (inode->i_block) onto the block device, and a new block reads
// as zeros, so a file reads zero in its holes and beyond i_size.
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

// get_block: the block of page index `idx`, allocated (zeroed) for a hole if
// create; kNoBlock for a hole otherwise.
uint32_t blockfs_get_block(inode* inode, pgoff_t idx, bool create) {
  uint32_t& b = inode->i_block[idx.v];
  if (b != kNoBlock || !create) return b;
  block_device& bdev = kernel().bdev;
  if (bdev.free_head == kNoBlock) return kNoBlock;  // the device holds every page of every file: not reached
  b = bdev.free_head;
  bdev.free_head = bdev.next_free[b];
  bdev.in_use[b] = true;
  bdev.data[b] = {};
  return b;
}

// Frees the blocks of pages [start, end): they go back to the device, the
// most recently freed first out.
void blockfs_free_blocks(inode* inode, pgoff_t start, pgoff_t end) {
  block_device& bdev = kernel().bdev;
  for (uint64_t i = start.v; i < std::min<uint64_t>(end.v, kMaxFilePages); ++i) {
    const uint32_t b = inode->i_block[i];
    if (b == kNoBlock) continue;
    inode->i_block[i] = kNoBlock;
    bdev.in_use[b] = false;
    bdev.next_free[b] = bdev.free_head;
    bdev.free_head = b;
    tracer().block_freed(inode, pgoff_t(i), b);
  }
  state_changed();
}

namespace {

// Reads go through the I/O queue: the page (every page of a large folio)
// stays locked until completion. The buffer is mapped now (a hole stays
// unmapped and reads as zeros).
int blockfs_readpage(inode* file, page* p) {
  p = page_folio(p);  // ->read_folio: 2.6's callers pass the page
  // block_read_full_page maps the buffers inside i_size; those beyond it
  // are zeroed, not mapped (the I/O reads i_size as the submission does).
  for (page* sub = p; sub < p + folio_nr_pages(p); ++sub)
    if (page_offset(sub->index) < file->i_size) sub->b_blocknr = blockfs_get_block(file, sub->index, false);
  submit_folio_io(p, folio_nr_pages(p), false);
  return 0;
}

// The page (folio) is locked and no longer dirty. The part beyond EOF is
// zeroed in the page itself, since it may be mmapped; a large folio's pages
// wholly beyond it are not written.
int blockfs_writepage(page* p) {
  KFUNC("block_write_full_page");
  p = page_folio(p);
  inode* host = p->mapping->host;
  const loff_t i_size = i_size_read(host, "block_write_full_page:i_size_read");
  const pgoff_t end_index = pgoff_t(uint64_t(i_size) >> PAGE_CACHE_SHIFT);
  const unsigned offset = unsigned(i_size & (PAGE_CACHE_SIZE - 1));
  // The pages of the folio inside i_size.
  const unsigned long nr =
      std::min<uint64_t>(folio_nr_pages(p), p->index > end_index ? 0 : end_index - p->index + (offset ? 1 : 0));
  if (nr == 0) {
    // The page is wholly outside i_size (truncate in progress).
    unlock_page(p);
    return 0;
  }
  page* last = p + (nr - 1);
  if (last->index == end_index) {
    point_write("block_write_full_page:zero_tail", obj_page_data(last));
    std::memset(last->data + offset, 0, PAGE_CACHE_SIZE - offset);
  }
  for (page* sub = p; sub <= last; ++sub)
    if (sub->b_blocknr == kNoBlock && !sub->buffer_discarded) sub->b_blocknr = blockfs_get_block(host, sub->index, true);
  test_set_page_writeback(p);
  unlock_page(p);
  submit_folio_io(p, nr, true);
  return 0;
}

// Make the bytes of the page outside [from, to) valid: read them from disk
// (synchronously, with the page locked) or zero them beyond EOF.
int blockfs_prepare_write(inode* file, page* p, unsigned from, unsigned to) {
  KFUNC("block_prepare_write");
  // __block_write_begin maps (ext4: delays) the buffer it writes, uptodate
  // or not: writeback will write it.
  p->buffer_discarded = false;
  if (PageUptodate(p)) return 0;
  if (folio_test_large(page_folio(p))) folio_read_other_blocks(file, page_folio(p), p);
  if (from == 0 && to == PAGE_CACHE_SIZE) return 0;
  const loff_t i_size = i_size_read(file, "block_prepare_write:i_size_read");
  uint8_t block[PAGE_SIZE] = {};
  p->b_blocknr = blockfs_get_block(file, p->index, true);
  if (page_offset(p->index) < i_size) {
    point_read("block_prepare_write:ll_rw_block", obj_disk(file, p->index));
    bdev_read(p->b_blocknr, block);
  }
  point_write("block_prepare_write:fill", obj_page_data(p));
  std::memcpy(p->data, block, from);
  std::memcpy(p->data + to, block + to, PAGE_CACHE_SIZE - to);
  return 0;
}

// generic_commit_write: all buffers are uptodate now; i_size grows to cover
// `to` (not just what was copied).
int blockfs_commit_write(inode* file, page* p, unsigned from, unsigned to) {
  KFUNC("generic_commit_write");
  point_write("generic_commit_write:SetPageUptodate", obj_page_flags(p));
  SetPageUptodate(p);
  set_page_dirty(p);
  const loff_t pos = page_offset(p->index) + to;
  if (pos > file->i_size) i_size_write(file, pos, "generic_commit_write:i_size_write");
  return 0;
}

int blockfs_set_page_dirty(page* p) { return __set_page_dirty_nobuffers(p); }

// blockdev_direct_IO with DIO_LOCKING: i_alloc_sem is held for the I/O.
long blockfs_direct_IO(inode* file, loff_t pos, const uint8_t* buf, unsigned long len) {
  KFUNC("blockdev_direct_IO");
  down_read(&file->i_alloc_sem, "blockdev_direct_IO:i_alloc_sem");
  for (unsigned long done = 0; done < len;) {
    const loff_t at = pos + loff_t(done);
    const unsigned long chunk = std::min(len - done, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
    const pgoff_t idx(uint64_t(at) >> PAGE_SHIFT);
    point_write("blockdev_direct_IO:write", obj_disk(file, idx));
    bdev_write(blockfs_get_block(file, idx, true), unsigned(at & (PAGE_SIZE - 1)), buf + done, chunk);
    done += chunk;
  }
  up_read(&file->i_alloc_sem, "blockdev_direct_IO:i_alloc_sem_up");
  return long(len);
}

// NFS-style ->launder_page: write the dirty page back synchronously, locked.
int nfs_launder_page(page* p) {
  KFUNC("nfs_launder_page");
  inode* host = p->mapping->host;
  if (!clear_page_dirty_for_io(p)) return 0;
  const loff_t i_size = i_size_read(host, "nfs_launder_page:i_size_read");
  const loff_t start = page_offset(p->index);
  if (start < i_size) {
    point_write("nfs_launder_page:write", obj_disk(host, p->index));
    if (p->b_blocknr == kNoBlock) p->b_blocknr = blockfs_get_block(host, p->index, true);
    bdev_write(p->b_blocknr, 0, p->data, unsigned(std::min<loff_t>(PAGE_SIZE, i_size - start)));
  }
  return 0;
}

}  // namespace

void folio_read_other_blocks(inode* inode, page* folio, const page* except) {
  for (page* sub = folio; sub < folio + folio_nr_pages(folio); ++sub) {
    if (sub == except || sub->buffer_discarded) continue;
    if (sub->b_blocknr == kNoBlock) sub->b_blocknr = blockfs_get_block(inode, sub->index, false);
    bdev_read(sub->b_blocknr, sub->data);
  }
}

// ->truncate: free the blocks beyond i_size and zero the tail of the last
// one, so that the file reads zero beyond i_size when it grows again.
void blockfs_truncate(inode* inode) {
  KFUNC("blockfs_truncate");
  const loff_t size = inode->i_size;
  if (size >= kMaxFileBytes) return;
  const pgoff_t last(uint64_t(size) >> PAGE_SHIFT);
  point_write("blockfs_truncate:free_blocks", obj_disk(inode, last));
  const unsigned tail = unsigned(size & (PAGE_SIZE - 1));
  if (tail && inode->i_block[last.v] != kNoBlock) {
    static constexpr uint8_t zeros[PAGE_SIZE] = {};
    bdev_write(inode->i_block[last.v], tail, zeros, PAGE_SIZE - tail);
  }
  blockfs_free_blocks(inode, tail ? last + 1 : last, pgoff_t(kMaxFilePages));
}

// do_fsync: write the dirty pages back and wait for them.
int blockfs_fsync(inode* file) {
  KFUNC("do_fsync");
  return filemap_write_and_wait(file->i_mapping);
}

namespace {

const address_space_operations blockfs_aops = {
    .readpage = blockfs_readpage,
    .writepage = blockfs_writepage,
    .prepare_write = blockfs_prepare_write,
    .commit_write = blockfs_commit_write,
    .set_page_dirty = blockfs_set_page_dirty,
    .launder_page = nullptr,
    .direct_IO = blockfs_direct_IO,
};

// The same filesystem as an NFS client sees it: dirty pages are laundered.
const address_space_operations blockfs_nfs_aops = [] {
  address_space_operations ops = blockfs_aops;
  ops.launder_page = nfs_launder_page;
  return ops;
}();

const inode_operations blockfs_inode_operations = {.truncate = blockfs_truncate, .truncate_range = nullptr};

}  // namespace

const file_operations blockfs_file_operations = {
    .read = do_generic_file_read, .write = generic_file_aio_write, .mmap = generic_file_mmap, .fsync = blockfs_fsync};

void blockfs_get_inode(inode* inode) {
  inode->i_mapping->a_ops = inode->has_launder_page ? &blockfs_nfs_aops : &blockfs_aops;
  inode->i_op = &blockfs_inode_operations;
  inode->i_fop = &blockfs_file_operations;
}

// 2.6.30's block_page_mkwrite (3.x to 5.x alike): the page locked and
// rechecked against truncate, its block mapped inside EOF, the page dirtied.
int block_page_mkwrite(vm_area_struct* vma, page* p) {
  KFUNC("block_page_mkwrite");
  inode* inode = vma->vm_file;
  lock_page(p);
  const loff_t size = i_size_read(inode, "block_page_mkwrite:i_size_read");
  access_note("block_page_mkwrite:page->mapping", obj_page_mapping(p), sim::Access::Read);
  // page_mkwrite_check_truncate (5.6) treats a page starting at EOF as gone.
  const bool truncated =
      cfg().page_mkwrite_check_truncate ? page_offset(p->index) >= size : page_offset(p->index) > size;
  if (p->mapping != inode->i_mapping || truncated) {
    // We overload EFAULT to mean page got truncated.
    unlock_page(p);
    return VM_FAULT_NOPAGE;
  }
  tracer().page_mkwrite_accept(p, size);
  // __block_write_begin over the folio: the blocks of its pages inside EOF
  // (an empty part maps nothing).
  page* folio = page_folio(p);
  if (page_offset(folio->index) < size) {
    point_write("block_page_mkwrite:get_block", obj_disk(inode, p->index));
    if (kernel().faults.should_fail(FaultKind::PageMkwriteFail)) {
      unlock_page(p);
      return VM_FAULT_SIGBUS;  // -ENOSPC
    }
    for (page* sub = folio; sub < folio + folio_nr_pages(folio) && page_offset(sub->index) < size; ++sub)
      sub->b_blocknr = blockfs_get_block(inode, sub->index, true);
  }
  SetPageMkwrite(p);
  set_page_dirty(p);
  return VM_FAULT_LOCKED;
}

// ->page_mkwrite: allocate the block behind a page about to become writable.
int blockfs_page_mkwrite(vm_area_struct* vma, page* p) {
  if (cfg().page_mkwrite_locked) return block_page_mkwrite(vma, p);
  KFUNC("blockfs_page_mkwrite");
  point_write("blockfs_page_mkwrite:get_block", obj_disk(vma->vm_file, p->index));
  if (kernel().faults.should_fail(FaultKind::PageMkwriteFail)) return VM_FAULT_SIGBUS;  // -ENOSPC
  p->b_blocknr = blockfs_get_block(vma->vm_file, p->index, true);
  SetPageMkwrite(p);
  return 0;
}

}  // namespace faultline::mm
