// The 3.x to 5.x era (v3.15 to v5.15): its own fault path (do_read_fault,
// do_cow_fault, do_shared_fault), truncate_pagecache and punch helpers,
// tmpfs's shmem_fallocate and ext4's hole punch. What did not change in a way
// the model sees is the 2.6 era's code with its switches (page cache, read,
// write, writeback, zapping, do_wp_page).
#pragma once

#include "vmcore/mm/mm.h"

namespace faultline::mm::v3 {

// ---- mm/memory.c ------------------------------------------------------------
int handle_mm_fault(mm_struct* mm, vm_area_struct* vma, unsigned long address, unsigned int flags);

// ---- mm/filemap.c -------------------------------------------------------------
int filemap_fault(vm_area_struct* vma, vm_fault* vmf);

// ---- mm/truncate.c --------------------------------------------------------------
// lend: the last byte, inclusive (-1: to the end).
void truncate_inode_pages_range(address_space* mapping, loff_t lstart, loff_t lend);
void truncate_pagecache(inode* inode, loff_t newsize);
void truncate_setsize(inode* inode, loff_t newsize);
void truncate_pagecache_range(inode* inode, loff_t lstart, loff_t lend);
// Unmaps (if mapped) and deletes a locked page.
int truncate_inode_page(address_space* mapping, page* p);

// ---- mm/shmem.c and fs/ext4 ---------------------------------------------------------
// A fault into a hole being punched waits for the punch (3.16 on): -1 to go
// on with the fault, or the fault's result.
int shmem_falloc_wait(vm_area_struct* vma, vm_fault* vmf, inode* inode);
void shmem_truncate_range(inode* inode, loff_t lstart, loff_t lend);
void shmem_get_inode(inode* inode);
void ext4_get_inode(inode* inode);
void nfs_get_inode(inode* inode);

}  // namespace faultline::mm::v3
