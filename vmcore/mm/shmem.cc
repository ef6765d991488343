// mm/shmem.c: tmpfs without swap. shmem_getpage, shmem_nopage, truncate and
// hole punch (shmem_truncate_range with its second pass), read() and write().
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

constexpr uint64_t SHMEM_MAX_INDEX = kMaxFilePages;

page* shmem_alloc_page() {
  page* p = alloc_page();
  if (p) std::memset(p->data, 0, PAGE_SIZE);  // __GFP_ZERO
  return p;
}

// The i_size check of shmem_swp_alloc, made under info->lock.
int shmem_swp_alloc(inode* inode, pgoff_t idx, sgp_type sgp, sim::Label where) {
  shmem_inode_info* info = &inode->info;
  if (sgp != SGP_WRITE && page_offset(idx) >= i_size_read(inode, where)) return -EINVAL;
  if (info->next_index <= idx.v) info->next_index = idx.v + 1;
  return 0;
}

}  // namespace

// shmem_getpage - either get the page from the cache or allocate it. On
// success *pagep is referenced and unlocked (locked for SGP_NOPAGE).
int shmem_getpage(inode* inode, pgoff_t idx, page** pagep, sgp_type sgp, int* type) {
  KFUNC("shmem_getpage");
  address_space* mapping = inode->i_mapping;
  shmem_inode_info* info = &inode->info;
  page* filepage = *pagep;
  int error = 0;

  if (idx.v >= SHMEM_MAX_INDEX) return -EFBIG;

repeat:
  if (!filepage) filepage = find_lock_page(mapping, idx);
  if (filepage) point_read("shmem_getpage:PageUptodate", obj_page_flags(filepage));
  if (filepage && PageUptodate(filepage)) goto done;

  spin_lock(&info->lock, "shmem_getpage:info_lock");
  error = shmem_swp_alloc(inode, idx, sgp, "shmem_getpage:i_size_read");
  if (error) {
    spin_unlock(&info->lock, "shmem_getpage:info_unlock_failed");
    goto failed;
  }
  // Swap is not modelled: no swap entry is ever found here.
  if (sgp == SGP_READ && !filepage) {
    filepage = find_get_page(mapping, idx);
    if (filepage && (!PageUptodate(filepage) || TestSetPageLocked(filepage))) {
      spin_unlock(&info->lock, "shmem_getpage:info_unlock_read_wait");
      wait_on_page_locked(filepage);
      page_cache_release(filepage);
      filepage = nullptr;
      sim().retry("shmem_getpage:repeat_read");
      goto repeat;
    }
    spin_unlock(&info->lock, "shmem_getpage:info_unlock_read");
  } else {
    if (!filepage) {
      spin_unlock(&info->lock, "shmem_getpage:info_unlock_alloc");
      filepage = shmem_alloc_page();
      if (!filepage) {
        error = -ENOMEM;
        goto failed;
      }
      spin_lock(&info->lock, "shmem_getpage:info_lock_again");
      error = shmem_swp_alloc(inode, idx, sgp, "shmem_getpage:i_size_read_again");
      if (error || add_to_page_cache_lru(filepage, mapping, idx)) {
        spin_unlock(&info->lock, "shmem_getpage:info_unlock_raced");
        page_cache_release(filepage);
        filepage = nullptr;
        if (error) goto failed;
        sim().retry("shmem_getpage:repeat");
        goto repeat;
      }
      point_write("shmem_getpage:SHMEM_PAGEIN", obj_shmem_info(inode));
      info->flags |= SHMEM_PAGEIN;
    }
    ++info->alloced;
    spin_unlock(&info->lock, "shmem_getpage:info_unlock");
    point_write("shmem_getpage:SetPageUptodate", obj_page_flags(filepage));
    SetPageUptodate(filepage);
  }
done:
  if (*pagep != filepage) {
    *pagep = filepage;
    // 2.6.24 returns every page locked; only shmem_write_begin keeps it so.
    if (sgp != SGP_NOPAGE && !(sgp == SGP_WRITE && cfg().shmem_write_begin_end)) unlock_page(filepage);
  }
  return 0;

failed:
  if (*pagep != filepage && filepage) {
    unlock_page(filepage);
    page_cache_release(filepage);
  }
  return error;
}

// 2.6.20's ->nopage; the patch returns the page locked.
page* shmem_nopage(vm_area_struct* vma, unsigned long address, int* type) {
  KFUNC("shmem_nopage");
  inode* inode = vma->vm_file;
  page* p = nullptr;
  if (cfg().seed_fault_pagelock)
    BUG_ON(!(vma->vm_flags & VM_CAN_INVALIDATE), "shmem_nopage:VM_CAN_INVALIDATE", "vma without VM_CAN_INVALIDATE");
  const pgoff_t idx = pgoff_t(((address - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff.v);
  if (page_offset(idx) >= i_size_read(inode, "shmem_nopage:i_size_read")) return NOPAGE_SIGBUS;
  const int error = shmem_getpage(inode, idx, &p, cfg().seed_fault_pagelock ? SGP_NOPAGE : SGP_CACHE, type);
  if (error) return error == -ENOMEM ? NOPAGE_OOM : NOPAGE_SIGBUS;
  if (type) *type = VM_FAULT_MINOR;
  return p;
}

// 2.6.23's ->fault.
int shmem_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("shmem_fault");
  inode* inode = vma->vm_file;
  if (page_offset(vmf->pgoff) >= i_size_read(inode, "shmem_fault:i_size_read")) return VM_FAULT_SIGBUS;
  int ret = VM_FAULT_MINOR;
  const int error = shmem_getpage(inode, vmf->pgoff, &vmf->page, SGP_FAULT, &ret);
  if (error) return error == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
  return ret | VM_FAULT_LOCKED;
}

namespace {
const vm_operations_struct shmem_nopage_vm_ops = {.nopage = shmem_nopage};
const vm_operations_struct shmem_vm_ops = {.fault = shmem_fault};

// end == -1: truncate from start; otherwise a hole punch to `end` inclusive.
void shmem_truncate_range(inode* inode, loff_t start, loff_t end) {
  KFUNC("shmem_truncate_range");
  address_space* mapping = inode->i_mapping;
  shmem_inode_info* info = &inode->info;
  const uint64_t idx = (uint64_t(start) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT;
  const bool punch_hole = end != -1;

  point_read("shmem_truncate_range:next_index", obj_shmem_info(inode));
  if (idx >= info->next_index) return;

  spin_lock(&info->lock, "shmem_truncate_range:info_lock");
  info->flags |= SHMEM_TRUNCATE;
  if (!punch_hole) info->next_index = idx;
  spin_unlock(&info->lock, "shmem_truncate_range:info_unlock");
  // (swap entries of [idx, limit) would be freed here)

  point_read("shmem_truncate_range:SHMEM_PAGEIN", obj_shmem_info(inode));
  if (mapping->nrpages && (info->flags & SHMEM_PAGEIN)) {
    // Call truncate_inode_pages again: shmem_getpage checks i_size before
    // adding to the cache, but not after, so a page may have come in.
    truncate_inode_pages_range(mapping, start, end);
    if (punch_hole && cfg().shmem_punch_unmap) unmap_mapping_range(mapping, start, end - start, 1);
  }

  spin_lock(&info->lock, "shmem_truncate_range:info_lock_done");
  info->flags &= ~SHMEM_TRUNCATE;
  spin_unlock(&info->lock, "shmem_truncate_range:info_unlock_done");
}

void shmem_truncate(inode* inode) { shmem_truncate_range(inode, inode->i_size, -1); }

int shmem_set_page_dirty(page* p) { return __set_page_dirty_nobuffers(p); }

// 2.6.24: the locked page for generic_perform_write's copy.
int shmem_write_begin(inode* inode, loff_t pos, unsigned /*len*/, page** pagep) {
  KFUNC("shmem_write_begin");
  *pagep = nullptr;
  return shmem_getpage(inode, pgoff_t(uint64_t(pos) >> PAGE_CACHE_SHIFT), pagep, SGP_WRITE, nullptr);
}

// i_size grows before the page is unlocked: a fault waiting for the page
// lock finds it inside EOF.
int shmem_write_end(inode* inode, loff_t pos, unsigned /*len*/, unsigned copied, page* p) {
  KFUNC("shmem_write_end");
  if (pos + loff_t(copied) > inode->i_size) i_size_write(inode, pos + loff_t(copied), "shmem_write_end:i_size_write");
  set_page_dirty(p);
  unlock_page(p);
  page_cache_release(p);
  return int(copied);
}

}  // namespace

int shmem_mmap(inode* file, vm_area_struct* vma) {
  if (cfg().fault_vm_fault_locked) {
    vma->vm_ops = &shmem_vm_ops;
    return 0;
  }
  vma->vm_ops = &shmem_nopage_vm_ops;
  if (cfg().seed_fault_pagelock) vma->vm_flags |= VM_CAN_INVALIDATE;
  return 0;
}

namespace {

// ->setattr for a size change, called with i_mutex and i_alloc_sem held.
int shmem_notify_change(inode* inode, loff_t size) {
  KFUNC("shmem_notify_change");
  shmem_inode_info* info = &inode->info;
  page* p = nullptr;
  if (size < inode->i_size) {
    // Pin the partial page so truncate_partial_page cannot miss it.
    if (size & (PAGE_CACHE_SIZE - 1))
      shmem_getpage(inode, pgoff_t(uint64_t(size) >> PAGE_CACHE_SHIFT), &p, SGP_READ, nullptr);
    if (size) {
      spin_lock(&info->lock, "shmem_notify_change:info_lock");
      info->flags &= ~SHMEM_PAGEIN;
      spin_unlock(&info->lock, "shmem_notify_change:info_unlock");
    }
  }
  int error = 0;
  if (size != inode->i_size) error = vmtruncate(inode, size);  // inode_setattr
  if (p) page_cache_release(p);
  return error;
}

// tmpfs write() of 2.6.20: no page lock is held across the copy from user, so
// it may fault. (A tmpfs file cannot be opened O_DIRECT.)
long shmem_file_write(inode* inode, loff_t pos, unsigned long count, user_buffer buf, bool /*o_direct*/) {
  KFUNC("shmem_file_write");
  if (count == 0) return 0;
  if (pos >= kMaxFileBytes) return -EFBIG;
  if (pos + loff_t(count) > kMaxFileBytes) count = kMaxFileBytes - pos;
  mutex_lock(&inode->i_mutex, "shmem_file_write:i_mutex");
  long written = 0;
  long err = 0;
  do {
    const unsigned long offset = pos & (PAGE_CACHE_SIZE - 1);
    const pgoff_t index = pgoff_t(uint64_t(pos) >> PAGE_CACHE_SHIFT);
    const unsigned long bytes = std::min(PAGE_CACHE_SIZE - offset, count);
    page* p = nullptr;
    err = shmem_getpage(inode, index, &p, SGP_WRITE, nullptr);
    if (err) break;
    unsigned long left = 0;
    uint8_t tmp[PAGE_SIZE];
    if (buf.user)
      left = copy_from_user(tmp, buf.addr + written, bytes);
    else
      std::memcpy(tmp, buf.kbuf + written, bytes);
    point_write("shmem_file_write:copy", obj_page_data(p));
    std::memcpy(p->data + offset, tmp, bytes - left);
    written += long(bytes);
    count -= bytes;
    pos += loff_t(bytes);
    // i_size grows by the whole chunk, before a short copy is backed out.
    if (pos > inode->i_size) i_size_write(inode, pos, "shmem_file_write:i_size_write");
    set_page_dirty(p);
    page_cache_release(p);
    if (left) {
      pos -= loff_t(left);
      written -= long(left);
      err = -EFAULT;
      break;
    }
  } while (count);
  mutex_unlock(&inode->i_mutex, "shmem_file_write:i_mutex_unlock");
  return written ? written : err;
}

}  // namespace

// do_shmem_file_read with file_read_actor: holes read as ZERO_PAGE.
long shmem_file_read(inode* inode, loff_t* ppos, unsigned long count, user_buffer buf, uint8_t* out) {
  KFUNC("do_shmem_file_read");
  uint64_t index = uint64_t(*ppos) >> PAGE_CACHE_SHIFT;
  unsigned long offset = *ppos & (PAGE_CACHE_SIZE - 1);
  read_descriptor_t desc;
  desc.count = count;
  desc.buf = buf;
  desc.out = out;
  while (desc.count) {
    loff_t i_size = i_size_read(inode, "do_shmem_file_read:i_size_read");
    uint64_t end_index = uint64_t(i_size) >> PAGE_CACHE_SHIFT;
    if (index > end_index) break;
    if (index == end_index && unsigned(i_size & (PAGE_CACHE_SIZE - 1)) <= offset) break;
    page* p = nullptr;
    desc.error = shmem_getpage(inode, pgoff_t(index), &p, SGP_READ, nullptr);
    if (desc.error) {
      if (desc.error == -EINVAL) desc.error = 0;  // raced with truncate: EOF
      break;
    }
    // We must evaluate after, since reads (unlike writes) are called
    // without i_mutex protection against truncate.
    unsigned long nr = PAGE_CACHE_SIZE;
    i_size = i_size_read(inode, "do_shmem_file_read:i_size_read_again");
    end_index = uint64_t(i_size) >> PAGE_CACHE_SHIFT;
    if (index == end_index) {
      nr = i_size & (PAGE_CACHE_SIZE - 1);
      if (nr <= offset) {
        if (p) page_cache_release(p);
        break;
      }
    }
    nr -= offset;
    const unsigned long ret = p ? file_read_actor(&desc, p, offset, nr) : zero_page_read_actor(&desc, nr);
    if (p) page_cache_release(p);
    offset += ret;
    index += offset >> PAGE_CACHE_SHIFT;
    offset &= PAGE_CACHE_SIZE - 1;
    if (ret != nr || !desc.count) break;
  }
  *ppos = loff_t(index << PAGE_CACHE_SHIFT) + loff_t(offset);
  return desc.written ? long(desc.written) : desc.error;
}

// tmpfs has nothing to write back.
int simple_sync_file(inode*) { return 0; }

const address_space_operations shmem_aops = {
    .set_page_dirty = shmem_set_page_dirty, .write_begin = shmem_write_begin, .write_end = shmem_write_end};
namespace {

const inode_operations shmem_inode_operations = {
    .truncate = shmem_truncate, .truncate_range = shmem_truncate_range, .setattr = shmem_notify_change};
const file_operations shmem_file_operations = {
    .read = shmem_file_read, .write = shmem_file_write, .mmap = shmem_mmap, .fsync = simple_sync_file};
// 2.6.24: write() is the generic one, through shmem_write_begin/shmem_write_end.
const file_operations shmem_file_operations_2624 = {
    .read = shmem_file_read, .write = generic_file_aio_write, .mmap = shmem_mmap, .fsync = simple_sync_file};

}  // namespace

void shmem_get_inode(inode* inode) {
  inode->i_mapping->a_ops = &shmem_aops;
  inode->i_mapping->cap_account_dirty = false;
  inode->i_op = &shmem_inode_operations;
  inode->i_fop = cfg().shmem_write_begin_end ? &shmem_file_operations_2624 : &shmem_file_operations;
}

}  // namespace faultline::mm
