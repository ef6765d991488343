// mm/page_alloc.c: the frame pool. Frames are handed out from a LIFO free
// list, so a freed page can come straight back at the same frame; a large
// folio takes the lowest naturally aligned run of free frames.
#include <fmt/format.h>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

namespace {

[[noreturn]] void bad_page(page* p, const char* reason) {
  oops(fmt::format("BUG: Bad page state in process {}", sim().task_name(sim().current())),
       fmt::format("{}\nreason: {}\n", describe_page(p), reason),
       fmt::format("bad-page:{}:{}", reason, innermost_function(sim().current())));
}

void free_pages_check(page* p) {
  if (p->_mapcount != -1 || p->_entire_mapcount != -1) bad_page(p, "freed while mapped");
  if (p->mapping) bad_page(p, "freed while in the page cache");
  if (PageLocked(p)) bad_page(p, "freed while locked");
  if (PageWriteback(p)) bad_page(p, "freed under writeback");
}

void free_frame(Kernel& k, page* p) {
  p->flags = 0;
  p->first_page = nullptr;
  p->compound_order = 0;
  p->in_free_list = true;
  p->next_free = k.free_head;
  k.free_head = p->frame;
  ++k.nr_free;
}

// Every page of the folio is checked (free_tail_page_prepare); the tails go
// back first, so the head frame is handed out first.
void __free_pages(page* p) {
  Kernel& k = kernel();
  if (PageAnon(p)) p->mapping = nullptr;  // as free_hot_cold_page does
  const unsigned long nr = folio_nr_pages(p);
  for (unsigned long i = 0; i < nr; ++i) free_pages_check(p + i);
  for (unsigned long i = nr; i-- > 0;) free_frame(k, p + i);
  state_changed();
}

void prep_new_page(page* p) {
  p->in_free_list = false;
  p->flags = 0;
  p->_count = 1;
  p->_mapcount = -1;
  p->_entire_mapcount = -1;
  p->io_pending = 0;
  p->io_error = false;
  p->first_page = nullptr;
  p->compound_order = 0;
  p->mapping = nullptr;
  p->index = pgoff_t(0);
  p->b_blocknr = kNoBlock;
  p->buffer_discarded = false;
  // Contents are left as the previous user wrote them, as the kernel does
  // without __GFP_ZERO.
}

// The lowest free run of 2^order frames aligned to its size, unlinked from
// the free list (whose order the other frames keep).
page* take_aligned_run(Kernel& k, unsigned order) {
  const uint32_t nr = 1u << order;
  for (uint32_t base = 0; base + nr <= kMaxFrames; base += nr) {
    bool free = true;
    for (uint32_t i = 0; i < nr && free; ++i) free = k.frames[base + i].in_free_list;
    if (!free) continue;
    uint32_t* link = &k.free_head;
    for (uint32_t left = k.nr_free; left--;) {
      page& f = k.frames[*link];
      if (f.frame >= base && f.frame < base + nr)
        *link = f.next_free;
      else
        link = &f.next_free;
    }
    k.nr_free -= nr;
    return &k.frames[base];
  }
  return nullptr;
}

}  // namespace

page* alloc_page() {
  Kernel& k = kernel();
  if (k.faults.should_fail(FaultKind::AllocFail) || k.nr_free == 0) return nullptr;
  page* p = &k.frames[k.free_head];
  k.free_head = p->next_free;
  --k.nr_free;
  prep_new_page(p);
  return p;
}

// prep_compound_page: tails point at the head and hold no references.
page* alloc_pages(unsigned order) {
  if (order == 0) return alloc_page();
  Kernel& k = kernel();
  if (k.faults.should_fail(FaultKind::AllocFail)) return nullptr;
  page* head = take_aligned_run(k, order);
  if (!head) return nullptr;
  for (uint32_t i = 0; i < (1u << order); ++i) {
    prep_new_page(head + i);
    head[i].first_page = i ? head : nullptr;
    head[i]._count = i ? 0 : 1;
  }
  head->compound_order = uint8_t(order);
  return head;
}

page* folio_file_page(page* folio, pgoff_t index) { return folio + (index.v & (folio_nr_pages(folio) - 1)); }

bool folio_mapped(const page* folio) {
  if (folio->_entire_mapcount >= 0) return true;
  for (unsigned long i = 0; i < folio_nr_pages(folio); ++i)
    if (folio[i]._mapcount >= 0) return true;
  return false;
}

void get_page(page* p) { folio_ref_add(compound_head(p), 1); }

void put_page(page* p) { folio_put_refs(compound_head(p), 1); }

void folio_ref_add(page* folio, int nr) {
  if (folio->_count <= 0) bad_page(folio, "get_page on a free page");
  folio->_count += nr;
}

void folio_put_refs(page* folio, int nr) {
  if (folio->_count < nr) bad_page(folio, "put_page on a free page");
  folio->_count -= nr;
  if (folio->_count == 0) __free_pages(folio);
}

}  // namespace faultline::mm
