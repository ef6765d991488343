// fs/nfs/file.c of 3.x to 5.15, shrunk to what faults see: an NFS client's
// file maps with the era's filemap_fault and nfs_vm_page_mkwrite. The page
// cache operations (->launder_page for invalidate_inode_pages2), read() and
// write() are the block filesystem's of the 2.6 era; NFS has no hole punch.
#include "vmcore/mm/locking.h"
#include "vmcore/v3/v3.h"

namespace faultline::mm::v3 {

namespace {

// nfs_page_length: the bytes of the page inside i_size.
unsigned nfs_page_length(page* p, loff_t i_size) {
  if (i_size > 0) {
    const pgoff_t end_index(uint64_t(i_size - 1) >> PAGE_SHIFT);
    if (p->index < end_index) return PAGE_SIZE;
    if (p->index == end_index) return unsigned(((i_size - 1) & (PAGE_SIZE - 1)) + 1);
  }
  return 0;
}

// Notify the client that a page is about to become writable: locked and
// rechecked against truncation and EOF, then dirtied (nfs_updatepage).
int nfs_vm_page_mkwrite(vm_area_struct* vma, page* p) {
  KFUNC("nfs_vm_page_mkwrite");
  inode* inode = vma->vm_file;
  lock_page(p);
  access_note("nfs_vm_page_mkwrite:page->mapping", obj_page_mapping(p), sim::Access::Read);
  if (p->mapping != inode->i_mapping) {
    unlock_page(p);
    return VM_FAULT_NOPAGE;
  }
  wait_on_page_writeback(p);
  const loff_t size = i_size_read(inode, "nfs_page_length:i_size_read");
  if (!nfs_page_length(p, size)) {
    unlock_page(p);
    return VM_FAULT_NOPAGE;
  }
  tracer().page_mkwrite_accept(p, size);
  SetPageMkwrite(p);
  set_page_dirty(p);
  return VM_FAULT_LOCKED;
}

const vm_operations_struct nfs_file_vm_ops = {.fault = filemap_fault};
const vm_operations_struct nfs_file_mkwrite_vm_ops = {.fault = filemap_fault, .page_mkwrite = nfs_vm_page_mkwrite};

int nfs_file_mmap(inode* inode, vm_area_struct* vma) {
  vma->vm_ops = inode->has_page_mkwrite ? &nfs_file_mkwrite_vm_ops : &nfs_file_vm_ops;
  return 0;
}

const file_operations nfs_file_operations = {
    .read = do_generic_file_read, .write = generic_file_aio_write, .mmap = nfs_file_mmap, .fsync = blockfs_fsync};

}  // namespace

void nfs_get_inode(inode* inode) {
  blockfs_get_inode(inode);
  inode->i_fop = &nfs_file_operations;
}

}  // namespace faultline::mm::v3
