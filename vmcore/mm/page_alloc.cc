// mm/page_alloc.c: the frame pool. Frames are handed out from a LIFO free
// list, so a freed page can come straight back at the same frame.
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
  if (p->_mapcount != -1) bad_page(p, "freed while mapped");
  if (p->mapping) bad_page(p, "freed while in the page cache");
  if (PageLocked(p)) bad_page(p, "freed while locked");
  if (PageWriteback(p)) bad_page(p, "freed under writeback");
}

void __free_page(page* p) {
  Kernel& k = kernel();
  if (PageAnon(p)) p->mapping = nullptr;  // as free_hot_cold_page does
  free_pages_check(p);
  p->flags = 0;
  p->in_free_list = true;
  p->next_free = k.free_head;
  k.free_head = p->frame;
  ++k.nr_free;
  state_changed();
}

}  // namespace

page* alloc_page() {
  Kernel& k = kernel();
  if (k.faults.should_fail(FaultKind::AllocFail) || k.nr_free == 0) return nullptr;
  page* p = &k.frames[k.free_head];
  k.free_head = p->next_free;
  --k.nr_free;
  p->in_free_list = false;
  p->flags = 0;
  p->_count = 1;
  p->_mapcount = -1;
  p->mapping = nullptr;
  p->index = pgoff_t(0);
  p->b_blocknr = kNoBlock;
  // Contents are left as the previous user wrote them, as the kernel does
  // without __GFP_ZERO.
  return p;
}

void get_page(page* p) {
  if (p->_count <= 0) bad_page(p, "get_page on a free page");
  ++p->_count;
}

void put_page(page* p) {
  if (p->_count <= 0) bad_page(p, "put_page on a free page");
  if (--p->_count == 0) __free_page(p);
}

}  // namespace faultline::mm
