// The block layer, reduced to a FIFO of page I/O requests completed by a
// separate task (the interrupt / bio completion context). When it runs is a
// scheduling decision like any other.
#include <algorithm>
#include <cstring>

#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

void bdev_read(uint32_t block, uint8_t* to) {
  if (block == kNoBlock)
    std::memset(to, 0, PAGE_SIZE);
  else
    std::memcpy(to, kernel().bdev.data[block].data(), PAGE_SIZE);
}

void bdev_write(uint32_t block, unsigned offset, const uint8_t* from, unsigned n) {
  std::memcpy(kernel().bdev.data[block].data() + offset, from, n);
}

void submit_page_io(page* p, bool write) {
  Kernel& k = kernel();
  inode* host = p->mapping->host;
  static constexpr sim::Label kWrite = "submit_bio:write";
  static constexpr sim::Label kRead = "submit_bio:read";
  point_write(write ? kWrite : kRead, obj_disk(host, p->index));
  // Queued in one step (the request queue lock is not modelled).
  if (k.io_tail - k.io_head >= kMaxIoRequests) kernel_bug("submit_bio:queue_full", "I/O queue overflow", "full", p);
  IoRequest& rq = k.io[k.io_tail % kMaxIoRequests];
  rq.pg = p;
  rq.host = host;
  rq.block = p->b_blocknr;
  rq.write = write;
  rq.error = k.faults.should_fail(write ? FaultKind::WritepageEio : FaultKind::ReadpageEio);
  rq.isize = host->i_size;
  ++compound_head(p)->io_pending;
  ++k.io_tail;
  k.io_wait.wake_all();
}

namespace {

// The read of the whole folio is done: uptodate, or PG_error; unlocked.
void folio_end_read(page* folio, bool error) {
  if (error) {
    ClearPageUptodate(folio);
    SetPageError(folio);
  } else {
    SetPageUptodate(folio);
  }
  unlock_page(folio);
}

// The last request of a folio to complete ends its I/O, with the folio's
// error (any of its requests failed).
void folio_io_done(page* folio, bool rq_error, bool write) {
  folio->io_error |= rq_error;
  if (--folio->io_pending) return;
  const bool error = folio->io_error;
  folio->io_error = false;
  if (write)
    end_page_writeback(folio);
  else
    folio_end_read(folio, error);
}

}  // namespace

// The requests of a folio's first nr pages; the folio's I/O cannot end
// before the last is queued (a bias on io_pending, as iomap's
// read_bytes_pending and the bio chain have).
void submit_folio_io(page* folio, unsigned long nr, bool write) {
  ++folio->io_pending;
  for (unsigned long i = 0; i < nr; ++i)
    if (!write || folio[i].b_blocknr != kNoBlock) submit_page_io(folio + i, write);  // a hole is not written
  folio_io_done(folio, false, write);
}

namespace {

// end_buffer_async_read / mpage_end_io_read: the page becomes uptodate (or
// gets PG_error) and is unlocked, a large folio when all its pages are read.
void end_io_read(const IoRequest& rq) {
  KFUNC("mpage_end_io_read");
  page* p = rq.pg;
  point_write("mpage_end_io_read:fill", obj_page_data(p));
  if (!rq.error) {
    // The part of the page beyond i_size (at submission) reads as zero.
    const loff_t start = page_offset(p->index);
    const loff_t valid = std::clamp<loff_t>(rq.isize - start, 0, PAGE_SIZE);
    bdev_read(rq.block, p->data);
    std::memset(p->data + valid, 0, PAGE_SIZE - size_t(valid));
  }
  folio_io_done(compound_head(p), rq.error, false);
}

void end_io_write(const IoRequest& rq) {
  KFUNC("end_buffer_async_write");
  page* p = rq.pg;
  if (rq.error) {
    SetPageError(p);
    if (page_mapping(p)) page_mapping(p)->flags |= AS_EIO;
    tracer().end_io_write_error(rq.host, p->index);
  } else {
    const loff_t start = page_offset(p->index);
    const loff_t i_size = i_size_read(rq.host, "end_buffer_async_write:i_size_read");
    const loff_t valid = std::clamp<loff_t>(i_size - start, 0, PAGE_SIZE);
    point_write("end_buffer_async_write:disk", obj_disk(rq.host, p->index));
    bdev_write(rq.block, 0, p->data, unsigned(valid));
  }
  folio_io_done(compound_head(p), rq.error, true);
}

}  // namespace

void end_io_task(void*) {
  Kernel& k = kernel();
  for (;;) {
    k.io_wait.wait(
        "end_io:idle", [&] { return k.io_head != k.io_tail; }, sim::Sim::WaitKind::Idle);
    const IoRequest rq = k.io[k.io_head % kMaxIoRequests];
    ++k.io_head;
    if (rq.write)
      end_io_write(rq);
    else
      end_io_read(rq);
  }
}

}  // namespace faultline::mm
