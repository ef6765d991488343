// mm/filemap.c: the page cache, the page lock, filemap_nopage, read() and the
// buffered and O_DIRECT write paths.
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/era.h"
#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

// ---- the page lock and PG_writeback ------------------------------------------

void lock_page(page* p) { compound_head(p)->locked.lock("lock_page"); }

bool TestSetPageLocked(page* p) { return !compound_head(p)->locked.trylock("TestSetPageLocked"); }

void unlock_page(page* p) { compound_head(p)->locked.unlock("unlock_page"); }

void wait_on_page_locked(page* p) {
  p = compound_head(p);
  point_read("wait_on_page_locked:PageLocked", obj_page_flags(p));
  if (PageLocked(p)) p->locked.wait_until_clear("wait_on_page_locked");
}

void wait_on_page_writeback(page* p) {
  p = compound_head(p);
  point_read("wait_on_page_writeback:PageWriteback", obj_page_flags(p));
  if (PageWriteback(p)) p->writeback.wait_until_clear("wait_on_page_writeback");
}

void end_page_writeback(page* p) {
  p = compound_head(p);
  if (!PageWriteback(p))
    kernel_bug("end_page_writeback:test_clear_page_writeback", "page not under writeback",
               "!test_clear_page_writeback(page)", p);
  p->writeback.clear_bit_and_wake("end_page_writeback");
}

// ---- page-cache lookups ------------------------------------------------------

namespace {

page* radix_tree_lookup(address_space* mapping, pgoff_t offset, sim::Label where) {
  if (offset.v >= kMaxFilePages) return nullptr;
  access_note(where, obj_cache_slot(mapping, offset), sim::Access::Read);
  return mapping->page_tree.slots[offset.v];
}

}  // namespace

page* find_get_page(address_space* mapping, pgoff_t offset) {
  KFUNC("find_get_page");
  read_lock_irq(&mapping->tree_lock, "find_get_page:read_lock_irq");
  page* p = radix_tree_lookup(mapping, offset, "find_get_page:radix_tree_lookup");
  if (p) page_cache_get(p);
  read_unlock_irq(&mapping->tree_lock, "find_get_page:read_unlock_irq");
  return p;
}

namespace {

// See KernelConfig::broken_find_lock_page_for_tests.
void broken_find_lock_page_for_tests(page* p, int how) {
  inode* volatile host = nullptr;
  if (how == 1) {
    host = p->mapping->host;
  } else {
    address_space* volatile raw = p->mapping;
    host = raw->host;
  }
  (void)host;
}

}  // namespace

page* find_lock_page(address_space* mapping, pgoff_t offset) {
  KFUNC("find_lock_page");
  read_lock_irq(&mapping->tree_lock, "find_lock_page:read_lock_irq");
repeat:
  page* p = radix_tree_lookup(mapping, offset, "find_lock_page:radix_tree_lookup");
  if (p) {
    page_cache_get(p);
    if (!compound_head(p)->locked.trylock("find_lock_page:TestSetPageLocked")) {
      read_unlock_irq(&mapping->tree_lock, "find_lock_page:read_unlock_irq");
      compound_head(p)->locked.lock("find_lock_page:__lock_page");
      read_lock_irq(&mapping->tree_lock, "find_lock_page:read_lock_irq_again");
      if (cfg().broken_find_lock_page_for_tests) [[unlikely]]
        broken_find_lock_page_for_tests(p, cfg().broken_find_lock_page_for_tests);
      // Has the page been truncated or moved while we slept?
      access_note("find_lock_page:page->mapping", obj_page_mapping(p), sim::Access::Read);
      if (p->mapping != mapping || p->index != offset) {
        unlock_page(p);
        page_cache_release(p);
        sim().retry("find_lock_page:repeat");
        goto repeat;
      }
    }
  }
  read_unlock_irq(&mapping->tree_lock, "find_lock_page:read_unlock_irq");
  return p;
}

namespace {

// radix_tree_gang_lookup(_tag): up to nr_pages cached folios from the one
// holding index start on (only those tagged dirty if asked), each referenced
// once; a large folio comes once, as its head.
unsigned gang_lookup(page** pages, address_space* mapping, pgoff_t start, unsigned nr_pages, bool tagged_dirty) {
  static constexpr sim::Label kLock[2] = {"pagevec_lookup:read_lock_irq", "pagevec_lookup_tag:read_lock_irq"};
  static constexpr sim::Label kUnlock[2] = {"pagevec_lookup:read_unlock_irq", "pagevec_lookup_tag:read_unlock_irq"};
  static constexpr sim::Label kSlot[2] = {"pagevec_lookup:radix_tree_gang_lookup",
                                          "pagevec_lookup_tag:radix_tree_gang_lookup_tag"};
  read_lock_irq(&mapping->tree_lock, kLock[tagged_dirty]);
  unsigned n = 0;
  for (uint64_t i = start.v; i < kMaxFilePages && n < nr_pages; ++i) {
    page* p = mapping->page_tree.slots[i];
    if (!p) continue;
    access_note(kSlot[tagged_dirty], obj_cache_slot(mapping, pgoff_t(i)), sim::Access::Read);
    if (p->first_page) {
      p = p->first_page;
      if (n && pages[n - 1] == p) continue;
    }
    if (tagged_dirty && !mapping->page_tree.tag_dirty[p->index.v]) continue;
    page_cache_get(p);
    pages[n++] = p;
  }
  read_unlock_irq(&mapping->tree_lock, kUnlock[tagged_dirty]);
  return n;
}

}  // namespace

unsigned pagevec_lookup(page** pages, address_space* mapping, pgoff_t start, unsigned nr_pages) {
  return gang_lookup(pages, mapping, start, nr_pages, false);
}

unsigned pagevec_lookup_tag_dirty(page** pages, address_space* mapping, pgoff_t start, unsigned nr_pages) {
  return gang_lookup(pages, mapping, start, nr_pages, true);
}

void pagevec_release(page** pages, unsigned nr) {
  for (unsigned i = 0; i < nr; ++i) page_cache_release(pages[i]);
}

// A large folio (6.x's filemap_add_folio) takes all its slots, or none if
// any is taken, and a reference per page.
int add_to_page_cache(page* p, address_space* mapping, pgoff_t offset) {
  KFUNC("add_to_page_cache");
  const unsigned long nr = folio_nr_pages(p);
  if (offset.v + nr > kMaxFilePages) return -ENOMEM;  // beyond the model's radix tree
  write_lock_irq(&mapping->tree_lock, "add_to_page_cache:write_lock_irq");
  int error = 0;
  for (unsigned long i = 0; i < nr && !error; ++i) {
    access_note("add_to_page_cache:radix_tree_insert", obj_cache_slot(mapping, offset + i), sim::Access::Write);
    if (mapping->page_tree.slots[offset.v + i]) error = -EEXIST;
  }
  if (!error) {
    folio_ref_add(p, int(nr));
    p->locked.set_locked_private();
    for (unsigned long i = 0; i < nr; ++i) {
      mapping->page_tree.slots[offset.v + i] = p + i;
      p[i].mapping = mapping;
      p[i].index = offset + i;
      tracer().mm_filemap_add_to_page_cache(p + i);
    }
    mapping->nrpages += nr;
    state_changed();
  }
  write_unlock_irq(&mapping->tree_lock, "add_to_page_cache:write_unlock_irq");
  return error;
}

// The LRU is not modelled: the pagevec's temporary reference is left out.
int add_to_page_cache_lru(page* p, address_space* mapping, pgoff_t offset) {
  return add_to_page_cache(p, mapping, offset);
}

// A large folio leaves whole (6.x's __filemap_remove_folio); the cache held a
// reference per page, and the caller drops the one 2.6's callers drop
// (page_cache_release), so the others go here.
void __remove_from_page_cache(page* p) {
  p = compound_head(p);
  address_space* mapping = p->mapping;
  if (cfg().seed_remove_mapped_bug)
    BUG_ON(p->_mapcount >= 0, "__remove_from_page_cache:page_mapped", "page still mapped while leaving the cache");
  const unsigned long nr = folio_nr_pages(p);
  for (unsigned long i = 0; i < nr; ++i) {
    page* sub = p + i;
    access_note("__remove_from_page_cache:radix_tree_delete", obj_cache_slot(mapping, sub->index), sim::Access::Write);
    mapping->page_tree.slots[sub->index.v] = nullptr;
    mapping->page_tree.tag_dirty[sub->index.v] = false;
    access_note("__remove_from_page_cache:page->mapping", obj_page_mapping(sub), sim::Access::Write);
    sub->mapping = nullptr;
    sub->b_blocknr = kNoBlock;  // its buffers went with it (block_invalidatepage, try_to_release_page)
    tracer().mm_filemap_delete_from_page_cache(sub);
  }
  mapping->nrpages -= nr;
  if (nr > 1) folio_put_refs(p, int(nr - 1));
  state_changed();
}

void remove_from_page_cache(page* p) {
  KFUNC("remove_from_page_cache");
  address_space* mapping = p->mapping;
  BUG_ON(!PageLocked(p), "remove_from_page_cache:PageLocked", "page not locked");
  write_lock_irq(&mapping->tree_lock, "remove_from_page_cache:write_lock_irq");
  __remove_from_page_cache(p);
  write_unlock_irq(&mapping->tree_lock, "remove_from_page_cache:write_unlock_irq");
}

// ---- filemap_nopage -----------------------------------------------------------

int page_cache_read(inode* file, pgoff_t offset) {
  KFUNC("page_cache_read");
  address_space* mapping = file->i_mapping;
  int ret;
  do {
    page* p = alloc_page();
    if (!p) return -ENOMEM;
    ret = add_to_page_cache_lru(p, mapping, offset);
    if (ret == 0)
      ret = mapping->a_ops->readpage(file, p);
    else if (ret == -EEXIST)
      ret = 0;  // someone else added it: fine
    page_cache_release(p);
  } while (ret == AOP_TRUNCATED_PAGE);
  return ret;
}

namespace {

unsigned long size_in_pages(inode* i, sim::Label where) {
  return (i_size_read(i, where) + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT;
}

}  // namespace

void readaround(inode* inode, pgoff_t pgoff) {
  const unsigned long ra_pages = inode->ra_pages;
  if (!ra_pages) return;
  const pgoff_t start = pgoff.v >= ra_pages / 2 ? pgoff - ra_pages / 2 : pgoff_t(0);
  do_page_cache_readahead(inode->i_mapping, inode, start, ra_pages);
}

// 2.6.20's ->nopage, with the reference patch: the page is looked up locked,
// i_size is checked again under the lock, and only an I/O error brings a
// locked page here not uptodate.
page* filemap_nopage(vm_area_struct* area, unsigned long address, int* type) {
  KFUNC("filemap_nopage");
  inode* inode = area->vm_file;
  address_space* mapping = inode->i_mapping;
  const bool seed = cfg().seed_fault_pagelock;
  int did_readaround = 0;
  int majmin = VM_FAULT_MINOR;
  int error;
  page* page;
  unsigned long size;

  if (seed)
    BUG_ON(!(area->vm_flags & VM_CAN_INVALIDATE), "filemap_nopage:VM_CAN_INVALIDATE", "vma without VM_CAN_INVALIDATE");

  const pgoff_t pgoff = pgoff_t(((address - area->vm_start) >> PAGE_CACHE_SHIFT) + area->vm_pgoff.v);

retry_all:
  size = size_in_pages(inode, "filemap_nopage:i_size_read");
  if (pgoff.v >= size) goto outside_data_content;

retry_find:
  // The patch: find_lock_page, so the page cannot be invalidated under us.
  page = seed ? find_lock_page(mapping, pgoff) : find_get_page(mapping, pgoff);
  if (!page) {
    if (!did_readaround) majmin = VM_FAULT_MAJOR;
    did_readaround = 1;
    readaround(inode, pgoff);
    page = seed ? find_lock_page(mapping, pgoff) : find_get_page(mapping, pgoff);
    if (!page) goto no_cached_page;
  }

  point_read("filemap_nopage:PageUptodate", obj_page_flags(page));
  if (!PageUptodate(page)) goto page_not_uptodate;

  if (seed) {
    // Must recheck i_size under page lock (the patch leaks the reference here).
    size = size_in_pages(inode, "filemap_nopage:i_size_read_locked");
    if (pgoff.v >= size) {
      unlock_page(page);
      goto outside_data_content;
    }
  }

success:
  if (type) *type = majmin;
  return page;  // 2.6.20: referenced, unlocked; the patch: referenced, locked

outside_data_content:
  // The model has no ptrace: the faulting mm is always current->mm.
  return NOPAGE_SIGBUS;

no_cached_page:
  error = page_cache_read(inode, pgoff);
  if (error >= 0) {
    sim().retry("filemap_nopage:no_cached_page");
    goto retry_find;
  }
  return error == -ENOMEM ? NOPAGE_OOM : NOPAGE_SIGBUS;

page_not_uptodate:
  if (!did_readaround) majmin = VM_FAULT_MAJOR;

  if (seed) {
    // The patch: only an I/O error brings us here, with the page locked.
    ClearPageError(page);
    error = mapping->a_ops->readpage(inode, page);
    page_cache_release(page);
    if (!error || error == AOP_TRUNCATED_PAGE) {
      sim().retry("filemap_nopage:page_not_uptodate");
      goto retry_find;
    }
    return NOPAGE_SIGBUS;
  }

  // 2.6.20: umm, take care of errors if the page isn't up-to-date. Try to
  // re-read it once, synchronously, to get the error.
  for (int attempt = 0; attempt < 2; ++attempt) {
    lock_page(page);
    access_note("filemap_nopage:page->mapping", obj_page_mapping(page), sim::Access::Read);
    if (!page->mapping) {  // somebody truncated the page on us
      unlock_page(page);
      page_cache_release(page);
      sim().retry("filemap_nopage:retry_all");
      goto retry_all;
    }
    if (PageUptodate(page)) {  // somebody else successfully read it in
      unlock_page(page);
      goto success;
    }
    if (attempt == 1) ClearPageError(page);
    error = mapping->a_ops->readpage(inode, page);
    if (!error) {
      wait_on_page_locked(page);
      point_read("filemap_nopage:PageUptodate_after_read", obj_page_flags(page));
      if (PageUptodate(page)) goto success;
    } else if (error == AOP_TRUNCATED_PAGE) {
      page_cache_release(page);
      sim().retry("filemap_nopage:truncated_page");
      goto retry_find;
    }
  }
  // Things didn't work out: return zero to tell the mm layer so.
  page_cache_release(page);
  return NOPAGE_SIGBUS;
}

// 2.6.23's ->fault: the reference patch's filemap_nopage, merged, returning
// VM_FAULT_LOCKED; 2.6.24 and 2.6.26 fix its error paths.
int filemap_fault(vm_area_struct* vma, vm_fault* vmf) {
  KFUNC("filemap_fault");
  inode* inode = vma->vm_file;
  address_space* mapping = inode->i_mapping;
  int did_readaround = 0;
  int ret = VM_FAULT_MINOR;
  int error;
  page* page;
  unsigned long size;

  size = size_in_pages(inode, "filemap_fault:i_size_read");
  if (vmf->pgoff.v >= size) return VM_FAULT_SIGBUS;

retry_find:
  page = find_lock_page(mapping, vmf->pgoff);
  if (!page) {
    if (!did_readaround) ret = VM_FAULT_MAJOR;
    did_readaround = 1;
    readaround(inode, vmf->pgoff);
    page = find_lock_page(mapping, vmf->pgoff);
    if (!page) goto no_cached_page;
  }

  // We have a locked page in the page cache, now we need to check that it's
  // up-to-date. If not, it is going to be due to an error.
  point_read("filemap_fault:PageUptodate", obj_page_flags(page));
  if (!PageUptodate(page)) goto page_not_uptodate;

  // Must recheck i_size under page lock.
  size = size_in_pages(inode, "filemap_fault:i_size_read_locked");
  if (vmf->pgoff.v >= size) {
    unlock_page(page);
    // 2.6.23 leaks the reference here; 2.6.24 releases it.
    if (cfg().filemap_fault_sigbus_release) page_cache_release(page);
    return VM_FAULT_SIGBUS;
  }

  // Found the page and have a reference on it.
  vmf->page = page;
  return ret | VM_FAULT_LOCKED;

no_cached_page:
  // We're only likely to ever get here if MADV_RANDOM is in effect.
  error = page_cache_read(inode, vmf->pgoff);
  // The page we want has now been added to the page cache. In the unlikely
  // event that someone removed it in the meantime, we'll just come back here
  // and read it again.
  if (error >= 0) {
    sim().retry("filemap_fault:no_cached_page");
    goto retry_find;
  }
  return error == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;

page_not_uptodate:
  // IO error path
  if (!did_readaround) ret = VM_FAULT_MAJOR;
  // Umm, take care of errors if the page isn't up-to-date. Try to re-read it
  // _once_.
  ClearPageError(page);
  error = mapping->a_ops->readpage(inode, page);
  if (cfg().filemap_fault_readpage_wait && !error) {
    // 2.6.26: wait for the read, and an error is an error.
    wait_on_page_locked(page);
    point_read("filemap_fault:PageUptodate_after_read", obj_page_flags(page));
    if (!PageUptodate(page)) error = -EIO;
  }
  page_cache_release(page);
  if (!error || error == AOP_TRUNCATED_PAGE) {
    sim().retry("filemap_fault:page_not_uptodate");
    goto retry_find;
  }
  // Things didn't work out. Return zero to tell the mm layer so.
  return VM_FAULT_SIGBUS;
}

namespace {
const vm_operations_struct generic_file_nopage_vm_ops = {.nopage = filemap_nopage};
const vm_operations_struct generic_file_nopage_mkwrite_vm_ops = {.nopage = filemap_nopage,
                                                                 .page_mkwrite = blockfs_page_mkwrite};
const vm_operations_struct generic_file_vm_ops = {.fault = filemap_fault};
const vm_operations_struct generic_file_mkwrite_vm_ops = {.fault = filemap_fault, .page_mkwrite = blockfs_page_mkwrite};
}  // namespace

// This is used for a general mmap of a disk file.
int generic_file_mmap(inode* file, vm_area_struct* vma) {
  if (cfg().fault_vm_fault_locked) {
    vma->vm_ops = file->has_page_mkwrite ? &generic_file_mkwrite_vm_ops : &generic_file_vm_ops;
    return 0;
  }
  vma->vm_ops = file->has_page_mkwrite ? &generic_file_nopage_mkwrite_vm_ops : &generic_file_nopage_vm_ops;
  if (cfg().seed_fault_pagelock) vma->vm_flags |= VM_CAN_INVALIDATE;
  return 0;
}

// ---- read() ---------------------------------------------------------------

namespace {

// file_read_actor on any source: a page's bytes (read at a schedule point) or
// ZERO_PAGE's (obj None: nothing else writes them). The source is read by the
// copy itself, after the destination is faulted in: that stores into it, and
// it may be a mapping of this very page.
unsigned long read_actor(read_descriptor_t* desc, const uint8_t* src, sim::Obj obj, unsigned long size) {
  if (size > desc->count) size = desc->count;
  uint8_t snapshot[PAGE_SIZE];
  auto read_source = [&](sim::Label where) {
    if (obj.kind != sim::ObjKind::None) point_read(where, obj);
    std::memcpy(snapshot, src, size);
  };
  unsigned long left = 0;
  if (desc->buf.user) {
    const unsigned long to = desc->buf.addr + desc->written;
    left = size;
    // Faults on the destination of a read are common, so do it first (its
    // __put_user(0) lands in the source when the buffer maps this page).
    if (!cfg().copy_page_to_iter_no_prefault && !fault_in_pages_writeable(to, size)) {
      read_source("file_read_actor:copy");
      left = __copy_to_user_inatomic(to, snapshot, size);
    }
    if (left) {
      read_source("file_read_actor:copy_slow");  // do it the slow way
      left = copy_to_user(to, snapshot, size);
      if (left) {
        size -= left;
        desc->error = -EFAULT;
      }
    }
  } else {
    read_source("file_read_actor:copy");
    std::memcpy(desc->buf.kbuf + desc->written, snapshot, size);
  }
  std::memcpy(desc->out + desc->written, snapshot, size);
  desc->count -= size;
  desc->written += size;
  return size;
}

}  // namespace

unsigned long file_read_actor(read_descriptor_t* desc, page* p, unsigned long offset, unsigned long size) {
  return read_actor(desc, p->data + offset, obj_page_data(p), size);
}

unsigned long zero_page_read_actor(read_descriptor_t* desc, unsigned long size) {
  static const uint8_t zero_page[PAGE_SIZE] = {};
  return read_actor(desc, zero_page, sim::Obj{}, size);
}

// do_generic_mapping_read with file_read_actor (the readahead window logic is
// reduced to reading ahead the requested pages, up to ra_pages).
long do_generic_file_read(inode* file, loff_t* ppos, unsigned long count, user_buffer buf, uint8_t* out) {
  KFUNC("do_generic_mapping_read");
  // __generic_file_aio_read skips an empty segment: nothing is looked up.
  if (!count) return 0;
  address_space* mapping = file->i_mapping;
  read_descriptor_t desc;
  desc.count = count;
  desc.buf = buf;
  desc.out = out;
  pgoff_t index = pgoff_t(uint64_t(*ppos) >> PAGE_CACHE_SHIFT);
  unsigned long offset = *ppos & ~PAGE_CACHE_MASK;
  const pgoff_t last_index = pgoff_t((uint64_t(*ppos) + count + PAGE_CACHE_SIZE - 1) >> PAGE_CACHE_SHIFT);
  pgoff_t next_index = index;
  page* cached_page = nullptr;
  page* p = nullptr;
  int error;
  unsigned long nr, ret;
  pgoff_t end_index;

  loff_t isize = i_size_read(file, "do_generic_mapping_read:i_size_read");
  if (!isize) goto out;
  end_index = pgoff_t(uint64_t(isize - 1) >> PAGE_CACHE_SHIFT);

  for (;;) {
    nr = PAGE_CACHE_SIZE;
    if (index >= end_index) {
      if (index > end_index) goto out;
      nr = ((isize - 1) & ~PAGE_CACHE_MASK) + 1;
      if (nr <= offset) goto out;
    }
    nr = nr - offset;

    if (index == next_index && file->ra_pages) {
      const unsigned long want = std::min<unsigned long>(last_index - index, file->ra_pages);
      do_page_cache_readahead(mapping, file, index, want);
      next_index = index + want;
    }

  find_page:
    p = find_get_page(mapping, index);
    if (!p) goto no_cached_page;
    point_read("do_generic_mapping_read:PageUptodate", obj_page_flags(p));
    if (!PageUptodate(p)) goto page_not_up_to_date;

  page_ok:
    ret = file_read_actor(&desc, p, offset, nr);
    offset += ret;
    index = index + (offset >> PAGE_CACHE_SHIFT);
    offset &= ~PAGE_CACHE_MASK;
    page_cache_release(p);
    if (ret == nr && desc.count && !desc.error) continue;
    goto out;

  page_not_up_to_date:
    lock_page(p);
    access_note("do_generic_mapping_read:page->mapping", obj_page_mapping(p), sim::Access::Read);
    if (!p->mapping) {  // truncated or invalidated while we waited
      unlock_page(p);
      page_cache_release(p);
      sim().retry("do_generic_mapping_read:truncated");
      continue;
    }
    if (PageUptodate(p)) {
      unlock_page(p);
      goto page_ok;
    }

  readpage:
    error = mapping->a_ops->readpage(file, p);
    if (error) {
      if (error == AOP_TRUNCATED_PAGE) {
        page_cache_release(p);
        goto find_page;
      }
      goto readpage_error;
    }
  read_started:
    point_read("do_generic_mapping_read:PageUptodate_after_read", obj_page_flags(p));
    if (!PageUptodate(p)) {
      lock_page(p);
      if (!PageUptodate(p)) {
        if (p->mapping == nullptr) {  // invalidated meanwhile
          unlock_page(p);
          page_cache_release(p);
          sim().retry("do_generic_mapping_read:invalidated");
          goto find_page;
        }
        unlock_page(p);
        error = -EIO;
        goto readpage_error;
      }
      unlock_page(p);
    }
    // i_size must be checked after we know the page is uptodate.
    isize = i_size_read(file, "do_generic_mapping_read:i_size_read_again");
    end_index = pgoff_t(uint64_t(isize - 1) >> PAGE_CACHE_SHIFT);
    if (!isize || index > end_index) {
      page_cache_release(p);
      goto out;
    }
    nr = PAGE_CACHE_SIZE;
    if (index == end_index) {
      nr = ((isize - 1) & ~PAGE_CACHE_MASK) + 1;
      if (nr <= offset) {
        page_cache_release(p);
        goto out;
      }
    }
    nr = nr - offset;
    goto page_ok;

  readpage_error:
    desc.error = error;
    page_cache_release(p);
    goto out;

  no_cached_page:
    if (!cached_page) {
      cached_page = alloc_page();
      if (!cached_page) {
        desc.error = -ENOMEM;
        goto out;
      }
    }
    // 5.15 (filemap_create_page): the page is added and read under
    // invalidate_lock, so a hole punch cannot free its block in between.
    if (cfg().invalidate_lock) down_read(&mapping->invalidate_lock, "filemap_create_page:invalidate_lock_shared");
    error = add_to_page_cache_lru(cached_page, mapping, index);
    if (error) {
      if (cfg().invalidate_lock) up_read(&mapping->invalidate_lock, "filemap_create_page:invalidate_unlock_exists");
      if (error == -EEXIST) goto find_page;
      desc.error = error;
      goto out;
    }
    p = cached_page;
    cached_page = nullptr;
    if (!cfg().invalidate_lock) goto readpage;
    error = mapping->a_ops->readpage(file, p);
    if (!error) wait_on_page_locked(p);
    up_read(&mapping->invalidate_lock, "filemap_create_page:invalidate_unlock_shared");
    if (error) goto readpage_error;
    goto read_started;
  }

out:
  *ppos = page_offset(index) + loff_t(offset);
  if (cached_page) page_cache_release(cached_page);
  return desc.written ? long(desc.written) : desc.error;
}

// ---- write() ------------------------------------------------------------------

namespace {

page* __grab_cache_page(address_space* mapping, pgoff_t index, page** cached_page) {
  KFUNC("__grab_cache_page");
repeat:
  page* p = find_lock_page(mapping, index);
  if (!p) {
    if (!*cached_page) {
      *cached_page = alloc_page();
      if (!*cached_page) return nullptr;
    }
    const int err = add_to_page_cache(*cached_page, mapping, index);
    if (err == -EEXIST) {
      sim().retry("__grab_cache_page:repeat");
      goto repeat;
    }
    if (err == 0) {
      // The allocation reference becomes ours (the LRU pagevec is not modelled).
      p = *cached_page;
      *cached_page = nullptr;
    }
  }
  return p;
}

// Copies the source of a write into a locked page. 2.6.20: an atomic copy,
// then, if that fell short, a copy that may fault with the page still locked.
unsigned long filemap_copy_from_user(page* p, unsigned long offset, user_buffer buf, unsigned long written,
                                     unsigned long bytes) {
  uint8_t tmp[PAGE_SIZE];
  unsigned long left = 0;
  if (buf.user) {
    left = __copy_from_user_inatomic(tmp, buf.addr + written, bytes);
    if (left) left = copy_from_user(tmp, buf.addr + written, bytes);
  } else {
    std::memcpy(tmp, buf.kbuf + written, bytes);
  }
  point_write("filemap_copy_from_user:copy", obj_page_data(p));
  std::memcpy(p->data + offset, tmp, bytes - left);
  return bytes - left;
}

// One page's part of a write at pos: offset in the page, index, byte count.
struct write_chunk {
  unsigned long offset;
  pgoff_t index;
  unsigned long bytes;
  write_chunk(loff_t pos, unsigned long count)
      : offset(pos & ~PAGE_CACHE_MASK),
        index(uint64_t(pos) >> PAGE_CACHE_SHIFT),
        bytes(std::min(PAGE_CACHE_SIZE - offset, count)) {}
};

// 2.6.24 generic_perform_write: the copy under the page lock never faults.
long generic_perform_write(inode* file, loff_t pos, unsigned long count, user_buffer buf) {
  KFUNC("generic_perform_write");
  address_space* mapping = file->i_mapping;
  const address_space_operations* a_ops = mapping->a_ops;
  long status = 0;
  unsigned long written = 0;
  page* cached_page = nullptr;
  do {
    const auto [offset, index, bytes] = write_chunk(pos, count);
    unsigned long copied;
  again:
    // Bring the source in before locking the page, so the copy cannot fault.
    if (buf.user && fault_in_pages_readable(buf.addr + written, bytes)) {
      status = -EFAULT;
      break;
    }
    // write_begin: the locked page, prepared.
    page* p = nullptr;
    if (a_ops->write_begin) {
      status = a_ops->write_begin(file, pos, unsigned(bytes), &p);
      if (status) break;
    } else {
      p = __grab_cache_page(mapping, index, &cached_page);
      if (!p) {
        status = -ENOMEM;
        break;
      }
      status = a_ops->prepare_write(file, p, offset, offset + bytes);
      if (status) {
        unlock_page(p);
        page_cache_release(p);
        const loff_t isize = i_size_read(file, "generic_perform_write:i_size_read");
        if (pos + loff_t(bytes) > isize) vmtruncate(file, isize);
        break;
      }
    }
    {
      uint8_t tmp[PAGE_SIZE];
      ++current().pagefault_disabled;
      copied = buf.user ? bytes - __copy_from_user_inatomic(tmp, buf.addr + written, bytes)
                        : (std::memcpy(tmp, buf.kbuf + written, bytes), bytes);
      --current().pagefault_disabled;
      point_write("generic_perform_write:copy", obj_page_data(p));
      std::memcpy(p->data + offset, tmp, copied);
    }
    if (a_ops->write_end) {
      status = a_ops->write_end(file, pos, unsigned(bytes), unsigned(copied), p);
      if (status < 0) break;
      copied = static_cast<unsigned long>(status);
    } else {
      // write_end: a short copy into a page that is not uptodate commits nothing.
      if (copied < bytes && !PageUptodate(p)) copied = 0;
      if (copied) status = a_ops->commit_write(file, p, offset, offset + copied);
      unlock_page(p);
      page_cache_release(p);
      if (status < 0) break;
    }
    if (copied == 0) {
      // The source went away between the fault-in and the copy: fault it in again.
      sim().retry("generic_perform_write:again");
      goto again;
    }
    pos += copied;
    written += copied;
    count -= copied;
  } while (count);
  if (cached_page) page_cache_release(cached_page);
  return written ? long(written) : status;
}

// 2.6.20's buffered write: the copy from user may fault under the page lock.
long generic_file_buffered_write(inode* file, loff_t pos, unsigned long count, user_buffer buf) {
  KFUNC("generic_file_buffered_write");
  address_space* mapping = file->i_mapping;
  const address_space_operations* a_ops = mapping->a_ops;
  long status = 0;
  unsigned long written = 0;
  page* cached_page = nullptr;
  do {
    const auto [offset, index, bytes] = write_chunk(pos, count);

    // Bring in the user page we're about to write to. The result is ignored
    // in 2.6.20, and nothing keeps the page there until the copy.
    if (buf.user) fault_in_pages_readable(buf.addr + written, bytes);

    page* p = __grab_cache_page(mapping, index, &cached_page);
    if (!p) {
      status = -ENOMEM;
      break;
    }
    status = a_ops->prepare_write(file, p, offset, offset + bytes);
    if (status) {
      const loff_t isize = i_size_read(file, "generic_file_buffered_write:i_size_read");
      if (status != AOP_TRUNCATED_PAGE) unlock_page(p);
      page_cache_release(p);
      if (status == AOP_TRUNCATED_PAGE) continue;
      // prepare_write() may have instantiated a few blocks outside i_size: trim them.
      if (pos + loff_t(bytes) > isize) vmtruncate(file, isize);
      break;
    }
    const unsigned long copied = filemap_copy_from_user(p, offset, buf, written, bytes);
    status = a_ops->commit_write(file, p, offset, offset + bytes);
    if (status == AOP_TRUNCATED_PAGE) {
      page_cache_release(p);
      continue;
    }
    if (!status) status = long(copied);
    if (status >= 0) {
      written += status;
      count -= status;
      pos += status;
    }
    if (copied != bytes && status >= 0) status = -EFAULT;
    unlock_page(p);
    page_cache_release(p);
    if (status < 0) break;
  } while (count);
  if (cached_page) page_cache_release(cached_page);
  return written ? long(written) : status;
}

long generic_file_direct_IO(inode* file, loff_t pos, const uint8_t* data, unsigned long len) {
  KFUNC("generic_file_direct_IO");
  address_space* mapping = file->i_mapping;
  point_read("generic_file_direct_IO:mapping_mapped", obj_i_mmap(mapping));
  if (mapping->i_mmap_count) unmap_mapping_range(mapping, pos, loff_t(len), 0);
  long retval = filemap_write_and_wait(mapping);
  const pgoff_t first = pgoff_t(uint64_t(pos) >> PAGE_CACHE_SHIFT);
  const pgoff_t last = pgoff_t(uint64_t(pos + loff_t(len) - 1) >> PAGE_CACHE_SHIFT);
  if (retval == 0 && cfg().direct_io_invalidate_before) {
    point_read("generic_file_direct_IO:nrpages_before", obj_nrpages(mapping));
    if (mapping->nrpages) retval = kernel().era->invalidate_inode_pages2_range(mapping, first, last);
  }
  if (retval == 0) {
    retval = mapping->a_ops->direct_IO(file, pos, data, len);
    point_read("generic_file_direct_IO:nrpages", obj_nrpages(mapping));
    if (mapping->nrpages) {
      const int err = kernel().era->invalidate_inode_pages2_range(mapping, first, last);
      // 2.6.24 tries again after the I/O and ignores the result.
      if (err && !cfg().direct_io_invalidate_before) retval = err;
    }
  }
  return retval;
}

}  // namespace

long generic_file_aio_write(inode* file, loff_t pos, unsigned long count, user_buffer buf, bool o_direct) {
  KFUNC("generic_file_aio_write");
  if (count == 0) return 0;
  if (pos >= kMaxFileBytes) return -EFBIG;  // generic_write_checks: s_maxbytes
  if (pos + loff_t(count) > kMaxFileBytes) count = kMaxFileBytes - pos;
  mutex_lock(&file->i_mutex, "generic_file_aio_write:i_mutex");
  long written;
  if (o_direct) {
    written = generic_file_direct_IO(file, pos, buf.kbuf, count);
    if (written > 0) {
      const loff_t end = pos + written;
      if (end > file->i_size) i_size_write(file, end, "generic_file_direct_write:i_size_write");
    }
  } else {
    // 2.6.24 replaced the buffered write with generic_perform_write (and
    // every filesystem with write_begin takes it).
    written = cfg().buffered_write_atomic_copy || file->i_mapping->a_ops->write_begin
                  ? generic_perform_write(file, pos, count, buf)
                  : generic_file_buffered_write(file, pos, count, buf);
  }
  mutex_unlock(&file->i_mutex, "generic_file_aio_write:i_mutex_unlock");
  return written;
}

// ---- writeback and wait -----------------------------------------------------------

int filemap_fdatawrite(address_space* mapping) { return do_writepages(mapping, WB_SYNC_ALL); }

int filemap_fdatawait(address_space* mapping) {
  KFUNC("filemap_fdatawait");
  int ret = 0;
  for_each_cached_page(mapping, [&](page* p) {
    wait_on_page_writeback(p);
    if (PageError(p)) {
      ClearPageError(p);
      ret = -EIO;
    }
  });
  if (mapping->flags & AS_EIO) {
    mapping->flags &= ~AS_EIO;
    ret = -EIO;
  }
  return ret;
}

int filemap_write_and_wait(address_space* mapping) {
  KFUNC("filemap_write_and_wait");
  int err = 0;
  point_read("filemap_write_and_wait:nrpages", obj_nrpages(mapping));
  if (mapping->nrpages) {
    err = filemap_fdatawrite(mapping);
    if (err != -EIO) {
      const int err2 = filemap_fdatawait(mapping);
      if (!err) err = err2;
    }
  }
  return err;
}

}  // namespace faultline::mm
