#include "vmcore/checks/checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/mm.h"

namespace faultline::checks {

using namespace mm;

namespace {

vm_area_struct* vma_covering(mm_struct* mm, unsigned long addr) {
  for (vm_area_struct& v : mm->vmas)
    if (v.in_use && v.vm_start <= addr && addr < v.vm_end) return &v;
  return nullptr;
}

pgoff_t linear_index(const vm_area_struct* vma, unsigned long addr) {
  return vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
}

uint32_t now() { return kernel().sim->steps(); }

// A driver whose ->nopage looks its page up itself and returns it unlocked.
bool own_lookup_driver(const inode* file) {
  return file->kind == FileKind::Driver && file->driver_nopage != DriverNopage::WrapsFilemapNopage;
}

struct ChangeName {
  const char* description;
  const char* slug;
};

constexpr ChangeName kChangeNames[] = {
    {"the initial contents", "initial"},
    {"a store through a shared mapping", "store"},
    {"write", "write"},
    {"O_DIRECT write", "odirect-write"},
    {"hole punch", "hole-punch"},
    {"truncate", "truncate"},
    {"failed truncate", "failed-truncate"},
    {"truncate racing a size change", "truncate-race"},
    {"a failed writeback", "failed-writeback"},
    {"an O_DIRECT write racing the page cache", "odirect-race"},
};
static_assert(std::size(kChangeNames) == static_cast<std::size_t>(Change::DirectWriteRace) + 1);

}  // namespace

const char* change_description(Change c) { return kChangeNames[static_cast<int>(c)].description; }
const char* change_slug(Change c) { return kChangeNames[static_cast<int>(c)].slug; }

void init_oracle(Checks& c, uint32_t file, const uint8_t* contents, loff_t size) {
  FileOracle& o = c.files[file];
  for (loff_t i = 0; i < kMaxFileBytes; ++i) {
    o.value[i] = i < size ? contents[i] : 0;
    o.determinate[i] = true;
    o.last_change[i] = 0;
    o.inflight[i] = 0;
    o.last_writer[i] = sim::kNoTask;
    o.last_how[i] = Change::Initial;
  }
}

// A store through a pte into a page of a shared mapping changes the file.
void Checks::mmu_store(mm_struct* mm, unsigned long addr, const uint8_t* data, unsigned long n) {
  vm_area_struct* vma = vma_covering(mm, addr);
  if (!vma || !(vma->vm_flags & VM_SHARED)) return;  // a private copy is not the file
  inode* inode = vma->vm_file;
  FileOracle& o = files[inode->i_ino];
  const loff_t offset = page_offset(vma->vm_pgoff) + loff_t(addr - vma->vm_start);
  for (unsigned long i = 0; i < n; ++i) {
    const loff_t at = offset + loff_t(i);
    if (at >= kMaxFileBytes) break;
    // Bytes beyond EOF (the tail of the last page) are not part of the file.
    o.determinate[at] = at < inode->i_size;
    o.value[at] = data[i];
    o.last_change[at] = now();
    o.last_writer[at] = kernel->sim->current();
    o.last_how[at] = Change::Store;
    touched_at[inode->i_ino][uint64_t(at) >> PAGE_SHIFT] = now();
  }
}

// A failed writeback: the page's data never reached the disk, so what read()
// returns for it is open (the kernel reports the error and drops the dirty bit).
void Checks::end_io_write_error(const inode* host, pgoff_t index) {
  FileOracle& o = files[host->i_ino];
  const loff_t start = page_offset(index);
  for (loff_t i = start; i < std::min<loff_t>(start + loff_t(PAGE_SIZE), kMaxFileBytes); ++i) {
    o.determinate[i] = false;
    o.last_change[i] = now();
    o.last_writer[i] = kernel->sim->current();
    o.last_how[i] = Change::FailedWriteback;
  }
}

ChangeWindow begin_change(Checks& c, uint32_t file, loff_t start, loff_t end) {
  ChangeWindow w{file, std::clamp<loff_t>(start, 0, kMaxFileBytes), std::clamp<loff_t>(end, 0, kMaxFileBytes), now(),
                 false};
  w.active = w.start < w.end;
  FileOracle& o = c.files[file];
  for (loff_t i = w.start; i < w.end; ++i) ++o.inflight[i];
  return w;
}

namespace {

void count_pages_being_written(Checks& c, const ChangeWindow& w, int delta) {
  if (!w.active) return;
  for (uint64_t i = uint64_t(w.start) >> PAGE_SHIFT; i <= uint64_t(w.end - 1) >> PAGE_SHIFT; ++i)
    c.pages_being_written[w.file][i] = uint8_t(c.pages_being_written[w.file][i] + delta);
}

}  // namespace

void begin_buffered_write(Checks& c, const ChangeWindow& w) { count_pages_being_written(c, w, 1); }
void end_buffered_write(Checks& c, const ChangeWindow& w) { count_pages_being_written(c, w, -1); }

void end_change(Checks& c, const ChangeWindow& w, const uint8_t* bytes, loff_t known, Change how) {
  if (!w.active) return;
  FileOracle& o = c.files[w.file];
  for (loff_t i = w.start; i < w.end; ++i) {
    --o.inflight[i];
    const bool raced = o.last_change[i] > w.begin_step;
    if (i - w.start < known && !raced) {
      o.value[i] = bytes ? bytes[i - w.start] : 0;
      o.determinate[i] = true;
    } else {
      o.determinate[i] = false;
    }
    o.last_change[i] = now();
    o.last_writer[i] = kernel().sim->current();
    o.last_how[i] = how;
  }
}

void Checks::mm_filemap_add_to_page_cache(const page* p) {
  if (p->index.v < kMaxFilePages) touched_at[p->mapping->id][p->index.v] = now();
}

void Checks::block_freed(const inode*, pgoff_t, uint32_t block) {
  freed_by[block] = innermost_function(kernel->sim->current());
}

void Checks::mm_filemap_delete_from_page_cache(const page* p) {
  removed_by[p->frame] = removal_path(kernel->sim->current());
}

// The bytes a punch zeroes are its window's: zero once it succeeded.
void Checks::punch_hole_begin(const inode* inode, loff_t start, loff_t end) {
  punches[kernel->sim->current()] = begin_change(*this, inode->i_ino, start, end);
}

namespace {

// "tmpfs" or "blockfs", for signatures.
const char* fs_slug(const inode& in) { return in.kind == FileKind::Shmem ? "tmpfs" : "blockfs"; }

// What a read would find at byte `at` now: the cached page if it is
// uptodate, else the disk (a hole, and tmpfs without a page, read zero).
uint8_t file_byte_now(const Kernel& k, const inode& in, loff_t at) {
  const uint64_t idx = uint64_t(at) >> PAGE_SHIFT;
  const unsigned off = unsigned(at & (PAGE_SIZE - 1));
  const page* p = in.i_mapping->page_tree.slots[idx];
  if (p && PageUptodate(p)) return p->data[off];
  if (in.kind == FileKind::Shmem || in.i_block[idx] == kNoBlock) return 0;
  return k.bdev.data[in.i_block[idx]][off];
}

// A punch (a truncate) that succeeded changed no byte outside its window:
// every byte inside EOF that the oracle knows still holds its value, unless
// something other than a store (which completes at once) changed it
// meanwhile.
void check_kept_outside(Checks& c, const inode& in, const ChangeWindow& w, bool punch) {
  const FileOracle& o = c.files[w.file];
  const loff_t size = std::min<loff_t>(in.i_size, kMaxFileBytes);
  for (loff_t at = 0; at < size; ++at) {
    if ((at >= w.start && at < w.end) || !o.determinate[at] || o.inflight[at] ||
        (o.last_change[at] >= w.begin_step && o.last_how[at] != Change::Store))
      continue;
    const uint8_t now_value = file_byte_now(*c.kernel, in, at);
    if (now_value == o.value[at]) continue;
    const char* fs = fs_slug(in);
    const std::string details = fmt::format("offset {} now reads {:#04x}, it held {:#04x}\nlast change: {}\n", at,
                                            now_value, o.value[at], change_description(o.last_how[at]));
    if (punch)
      report(Finding{"faultline: a hole punch changed data outside its range",
                     fmt::format("file {}: punched [{}, {}); {}", w.file, w.start, w.end, details),
                     fmt::format("punch-outside-range:{}", fs)});
    else
      report(Finding{"faultline: a truncate changed data inside the new EOF",
                     fmt::format("file {}: truncated to {}; {}", w.file, w.start, details),
                     fmt::format("truncate-inside-eof:{}", fs)});
  }
}

}  // namespace

void end_truncate(Checks& c, const ChangeWindow& w) {
  if (!w.active) return;
  check_kept_outside(c, c.kernel->inodes[w.file], w, false);
  FileOracle& o = c.files[w.file];
  for (loff_t i = w.start; i < w.end; ++i) {
    --o.inflight[i];
    if (o.last_change[i] > w.begin_step)
      o.determinate[i] = false;  // something else changed it meanwhile
    else if (o.determinate[i])
      o.value[i] = 0;
    o.last_change[i] = now();
    o.last_writer[i] = kernel().sim->current();
    o.last_how[i] = Change::Truncate;
  }
}

void Checks::punch_hole_end(const inode* inode, int error) {
  const ChangeWindow& w = punches[kernel->sim->current()];
  if (error == 0 && w.active) check_kept_outside(*this, *inode, w, true);
  end_change(*this, w, nullptr, error == 0 ? w.end - w.start : 0, Change::HolePunch);
}

// ->page_mkwrite accepted a page: it must lie inside the EOF it read (a page
// that starts at or beyond i_size was truncated; the off-by-one of
// `page_offset > size`).
void Checks::page_mkwrite_accept(const page* p, loff_t size) {
  if (page_offset(p->index) < size) return;
  report(Finding{"faultline: ->page_mkwrite made a page beyond EOF writable",
                 fmt::format("file {} page {} (offset {}), i_size {}: a racing truncate ended the file at or before "
                             "the page, and ->page_mkwrite let the write fault go on\n{}\n",
                             p->mapping->host->i_ino, p->index.v, page_offset(p->index), size, describe_page(p)),
                 "mkwrite-beyond-eof"});
}

// Writeback cleaned a page of a file with ->page_mkwrite: no pte may still
// let stores in (a fault made one writable after page_mkclean: the next
// stores reach a clean page the filesystem was not told of).
void Checks::page_cleaned_for_io(const page* p) {
  const page* folio = compound_head(p);
  for (uint32_t m = 0; m < kernel->nmms; ++m) {
    mm_struct* mm = &kernel->mms[m];
    for (uint32_t vpn = 0; vpn < kMaxVpn; ++vpn) {
      const pte_t& pte = mm->pte[vpn];
      if (!pte.present || !pte.write || pte.frame - folio->frame >= folio_nr_pages(folio)) continue;
      vm_area_struct* vma = vma_covering(mm, vpn << PAGE_SHIFT);
      if (!vma || !vma->vm_ops->page_mkwrite) continue;
      report(Finding{"faultline: writeback cleaned a page a writable pte still maps",
                     fmt::format("{}\n{}\n{}\nThe write-out took what ->page_mkwrite prepared; stores through "
                                 "this pte reach the clean page without ->page_mkwrite.\n",
                                 describe_pte(mm, vpn), describe_vma(vma), describe_page(p)),
                     "mkwrite-missed:clear_page_dirty_for_io"});
    }
  }
}

void forget_pages_touched_during(Checks& c, const ChangeWindow& w) {
  if (!w.active) return;
  FileOracle& o = c.files[w.file];
  for (loff_t i = w.start; i < w.end; ++i) {
    if (c.touched_at[w.file][uint64_t(i) >> PAGE_SHIFT] > w.begin_step) {
      o.determinate[i] = false;
      o.last_how[i] = Change::DirectWriteRace;
    }
  }
}

std::optional<Finding> check_read(Checks& c, uint32_t file, loff_t offset, const uint8_t* data, unsigned long n,
                                  uint32_t read_begin_step) {
  const FileOracle& o = c.files[file];
  for (unsigned long i = 0; i < n; ++i) {
    const loff_t at = offset + loff_t(i);
    if (at >= kMaxFileBytes) break;
    if (!o.determinate[at] || o.inflight[at] || o.last_change[at] >= read_begin_step) continue;
    if (o.value[at] == data[i]) continue;
    const sim::TaskId writer = o.last_writer[at];
    // Lost below the size a truncate in progress keeps: the truncate's doing.
    for (const ChangeWindow& t : c.truncates)
      if (t.active && t.file == file && at < t.start)
        return Finding{"faultline: a truncate in progress lost data inside its new EOF",
                       fmt::format("file {} offset {}: read() returned {:#04x}, expected {:#04x}, while a truncate to "
                                   "{} runs\nlast change: {}\n",
                                   file, at, data[i], o.value[at], t.start, change_description(o.last_how[at])),
                       fmt::format("truncate-inside-eof:{}", fs_slug(c.kernel->inodes[file]))};
    return Finding{
        "faultline: lost write: read() does not return what the last write left",
        fmt::format("file {} offset {}: read() returned {:#04x}, expected {:#04x}\n"
                    "last change: {} by {} at step {}\n",
                    file, at, data[i], o.value[at], change_description(o.last_how[at]),
                    writer == sim::kNoTask ? std::string("setup") : fmt::format("task {}", writer), o.last_change[at]),
        fmt::format("lost-write:{}", change_slug(o.last_how[at]))};
  }
  return std::nullopt;
}

std::optional<Finding> check_mapped_beyond_eof(Checks& c, inode* inode, loff_t size_set) {
  Kernel& k = *c.kernel;
  if (inode->i_size != size_set || c.truncate_in_flight(inode->i_ino)) return std::nullopt;
  const uint64_t size = (uint64_t(inode->i_size) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  for (uint32_t m = 0; m < k.nmms; ++m) {
    mm_struct* mm = &k.mms[m];
    for (uint32_t vpn = 0; vpn < kMaxVpn; ++vpn) {
      if (!mm->pte[vpn].present) continue;
      const unsigned long addr = vpn << PAGE_SHIFT;
      vm_area_struct* vma = vma_covering(mm, addr);
      if (!vma || vma->vm_file != inode) continue;
      const uint64_t index = linear_index(vma, addr).v;
      if (index < size || (index < kMaxFilePages && c.pages_being_written[inode->i_ino][index])) continue;
      const page* p = &k.frames[mm->pte[vpn].frame];
      // tmpfs maps its huge folios across i_size on purpose, and a private
      // copy of such a page is that mapping written to.
      const page* cached = index < kMaxFilePages ? inode->i_mapping->page_tree.slots[index] : nullptr;
      if (inode->kind == FileKind::Shmem && cached && folio_test_large(compound_head(cached))) continue;
      const bool anon = PageAnon(p);
      // A legacy ->nopage with its own lookup checks i_size before it reads
      // the page in, and under the patch's protocol nothing after: its kind
      // of its own, as for a dangling mapping (a private copy of its page too).
      const char* kind = k.cfg.seed_fault_pagelock && own_lookup_driver(inode) ? "unlocked-nopage"
                         : anon                                                ? "private-copy"
                                                                               : "file-page";
      return Finding{"faultline: page mapped beyond EOF after truncate returned",
                     fmt::format("i_size {} ({} pages); file page {} is still mapped{}\n{}\n{}\n{}\n", inode->i_size,
                                 size, linear_index(vma, addr).v, anon ? " by a private copy" : "",
                                 describe_pte(mm, vpn), describe_vma(vma), describe_page(p)),
                     fmt::format("mapped-beyond-eof:{}", kind)};
    }
  }
  return std::nullopt;
}

namespace {

// Who owns a block now: "file F page I", or "nobody (free)".
std::string block_owner(const Kernel& k, uint32_t block) {
  for (uint32_t f = 0; f < k.nfiles; ++f)
    for (uint32_t i = 0; i < kMaxFilePages; ++i)
      if (k.inodes[f].i_block[i] == block) return fmt::format("file {} page {}", f, i);
  return "nobody (free)";
}

// A cached page inside EOF whose buffer maps a block its file no longer has
// there: a block that was freed (and may be reused by another file) while the
// page kept it. Its writeback goes to that block; its data is not the file's.
std::optional<Finding> check_stale_block(const Checks& c, const inode& in, const page* p) {
  if (!p || p->b_blocknr == kNoBlock || in.kind == FileKind::Shmem) return std::nullopt;
  const uint64_t eof_pages = (uint64_t(in.i_size) + PAGE_SIZE - 1) >> PAGE_SHIFT;
  if (p->index.v >= eof_pages || in.i_block[p->index.v] == p->b_blocknr) return std::nullopt;
  const Kernel& k = *c.kernel;
  const char* freed_by = c.freed_by[p->b_blocknr] ? c.freed_by[p->b_blocknr] : "?";
  return Finding{
      "faultline: stale block: a cached page maps a disk block its file freed",
      fmt::format(
          "file {} page {}: the page's buffer maps block {}, the file's map has {}\n"
          "freed by: {}; the block now belongs to {}\n{}\n{}\n",
          in.i_ino, p->index.v, p->b_blocknr,
          in.i_block[p->index.v] == kNoBlock ? std::string("a hole") : fmt::format("block {}", in.i_block[p->index.v]),
          freed_by, block_owner(k, p->b_blocknr),
          p->_mapcount >= 0 ? "The page is mapped: stores through it reach that block." : "The page is not mapped.",
          describe_page(p)),
      fmt::format("stale-block:{}", freed_by)};
}

// A page of a large folio mapped beyond EOF while no truncate is under way:
// the access there gets no SIGBUS. The fault path maps the page that faulted
// only after checking i_size under the folio lock; mapping the rest of the
// folio (or fault-around past file_end) must check it too. tmpfs maps its
// huge folios across i_size on purpose (800d8c63b2e9: with a PMD; since
// 19773df031bc finish_fault with ptes, whole), and 74207de2ba10 keeps it so.
std::optional<Finding> check_large_folio_within_eof(Checks& c, const mm_struct* mm, uint32_t vpn,
                                                    const vm_area_struct* vma, const page* p) {
  const inode* inode = vma->vm_file;
  const bool pmd = mm->pmd[vpn / PTRS_PER_PTE] == pmd_t::Huge;
  if (!folio_test_large(compound_head(p)) || c.truncate_in_flight(inode->i_ino)) return std::nullopt;
  if (p->index.v < (uint64_t(inode->i_size) + PAGE_SIZE - 1) >> PAGE_SHIFT) return std::nullopt;
  if (c.pages_being_written[inode->i_ino][p->index.v] || inode->kind == FileKind::Shmem) return std::nullopt;
  return Finding{"faultline: a page of a large folio is mapped beyond EOF",
                 fmt::format("i_size {}: file page {} lies beyond it, and an access there gets no SIGBUS\n{}\n{}\n{}\n"
                             "mapped by: {}\n",
                             inode->i_size, p->index.v, describe_pte(mm, vpn), describe_vma(vma), describe_page(p),
                             innermost_function(c.kernel->sim->current())),
                 pmd ? "mapped-beyond-eof:pmd" : "mapped-beyond-eof:whole-folio"};
}

}  // namespace

std::optional<Finding> check_state(Checks& c) {
  Kernel& k = *c.kernel;
  const char* fn = innermost_function(k.sim->current());
  for (uint32_t m = 0; m < k.nmms; ++m) {
    mm_struct* mm = &k.mms[m];
    for (uint32_t vpn = 0; vpn < kMaxVpn; ++vpn) {
      const pte_t& pte = mm->pte[vpn];
      if (!pte.present) continue;
      const page* p = &k.frames[pte.frame];
      const unsigned long addr = vpn << PAGE_SHIFT;
      if (p->in_free_list)
        return Finding{"faultline: use after free: a pte maps a free page frame",
                       fmt::format("{}\n{}\n", describe_pte(mm, vpn), describe_page(p)),
                       fmt::format("use-after-free:pte:{}", fn)};
      if (PageAnon(p)) continue;
      vm_area_struct* vma = vma_covering(mm, addr);
      if (!vma)
        return Finding{"faultline: a pte outside any vma",
                       fmt::format("{}\n{}\n", describe_pte(mm, vpn), describe_page(p)),
                       fmt::format("pte-without-vma:{}", fn)};
      address_space* mapping = vma->vm_file->i_mapping;
      const pgoff_t index = linear_index(vma, addr);
      const page* cached = index.v < kMaxFilePages ? mapping->page_tree.slots[index.v] : nullptr;
      if (p->mapping != mapping || p->index != index || cached != p) {
        // Named after the path that took the page out of the cache, so both
        // orders of the same race (pte first, or removal first) read alike.
        // A handler that returns its page unlocked (a legacy ->nopage) is
        // outside the page-lock protocol of the patch: one kind of its own
        // there, whatever removed the page.
        const char* removed = c.removed_by[p->frame] ? c.removed_by[p->frame] : "";
        const char* cause = k.cfg.seed_fault_pagelock && own_lookup_driver(vma->vm_file) ? "unlocked-nopage"
                            : p->mapping                                                 ? fn
                                                                                         : removed;
        return Finding{"faultline: dangling mapping: a pte maps a page that is not the file's cached page",
                       fmt::format("{}\n{}\nmapped: {}\ncached: {}\nremoved from the cache by: {}\n"
                                   "Stores through this pte are lost; read() and other mappings see another page.\n",
                                   describe_pte(mm, vpn), describe_vma(vma), describe_page(p), describe_page(cached),
                                   p->mapping ? "-" : removed),
                       fmt::format("dangling-mapping:{}", cause)};
      }
      if (pte.write && vma->vm_ops->page_mkwrite && !PageMkwrite(p))
        return Finding{"faultline: a shared page became writable without ->page_mkwrite",
                       fmt::format("{}\n{}\n{}\n", describe_pte(mm, vpn), describe_vma(vma), describe_page(p)),
                       fmt::format("mkwrite-missed:{}", fn)};
      if (auto beyond = check_large_folio_within_eof(c, mm, vpn, vma, p)) return beyond;
    }
  }
  for (uint32_t f = 0; f < k.nfiles; ++f) {
    const address_space* mapping = k.inodes[f].i_mapping;
    for (uint32_t i = 0; i < kMaxFilePages; ++i) {
      const page* p = mapping->page_tree.slots[i];
      if (p && p->in_free_list)
        return Finding{"faultline: use after free: the page cache holds a free page frame",
                       fmt::format("file {} index {}\n{}\n", f, i, describe_page(p)),
                       fmt::format("use-after-free:page-cache:{}", fn)};
      if (auto stale = check_stale_block(c, k.inodes[f], p)) return stale;
    }
  }
  return std::nullopt;
}

// References are the folio's (its head's): one per cache slot, pte and PMD
// mapping; _mapcount counts a page's ptes, _entire_mapcount the folio's PMDs.
std::optional<Finding> check_end_of_run(Checks& c) {
  Kernel& k = *c.kernel;
  std::array<int, kMaxFrames> refs{};
  std::array<int, kMaxFrames> maps{};
  std::array<int, kMaxFrames> pmd_maps{};
  for (uint32_t f = 0; f < k.nfiles; ++f)
    for (const page* p : k.inodes[f].i_mapping->page_tree.slots)
      if (p) ++refs[compound_head(p)->frame];
  for (uint32_t m = 0; m < k.nmms; ++m) {
    const mm_struct& mm = k.mms[m];
    for (uint32_t vpn = 0; vpn < kMaxVpn; ++vpn) {
      const pte_t& pte = mm.pte[vpn];
      if (!pte.present) continue;
      const uint32_t head = compound_head(&k.frames[pte.frame])->frame;
      if (mm.pmd[vpn / PTRS_PER_PTE] != pmd_t::Huge) {
        ++refs[head], ++maps[pte.frame];
      } else if (vpn % PTRS_PER_PTE == 0) {
        ++refs[head], ++pmd_maps[head];
      }
    }
  }
  for (const page& p : k.frames) {
    if (p.in_free_list || p.first_page || p._count == 0) continue;
    const char* what = nullptr;
    const page* mismatch = nullptr;
    for (unsigned long i = 0; i < folio_nr_pages(&p) && !mismatch; ++i)
      if ((&p)[i]._mapcount + 1 != maps[p.frame + i]) mismatch = &p + i;
    if (PageLocked(&p))
      what = "page-left-locked";
    else if (PageWriteback(&p))
      what = "page-left-under-writeback";
    else if (p._count > refs[p.frame])
      what = "page-leak";
    else if (p._count < refs[p.frame])
      what = "page-refcount-underflow";
    else if (mismatch || p._entire_mapcount + 1 != pmd_maps[p.frame])
      what = "mapcount-mismatch";
    if (!what) continue;
    const page* shown = mismatch ? mismatch : &p;
    return Finding{fmt::format("faultline: page accounting at the end of the run: {}", what),
                   fmt::format("{}\nreferences held by the cache, ptes and PMDs: {}, ptes: {}, PMDs: {}\n",
                               describe_page(shown), refs[p.frame], maps[shown->frame], pmd_maps[p.frame]),
                   what};
  }
  return std::nullopt;
}

void on_step(void* arg) {
  Checks& c = *static_cast<Checks*>(arg);
  if (c.kernel->state_gen == c.checked_gen) return;
  c.checked_gen = c.kernel->state_gen;
  if (auto f = check_state(c)) report(std::move(*f));
}

void report(Finding f) { oops(std::move(f.title), std::move(f.body), std::move(f.signature)); }

}  // namespace faultline::checks
