// Invariant checkers that see what the kernel's BUG_ONs miss:
//   - dangling mapping: a pte maps a file page that is not its file's cached
//     page at that index (checked at every step the ptes or the cache change);
//   - use after free: a pte or the cache refers to a free frame;
//   - writable without ->page_mkwrite;
//   - mapped beyond EOF after a truncate returns (private copies included);
//   - lost write: read() returns other bytes than the last write left, with no
//     truncate, hole punch or later write to explain it;
//   - stale block: a cached page inside EOF maps a block its file freed;
//   - a hole punch changes no byte outside its range;
//   - ->page_mkwrite accepts no page beyond EOF;
//   - page accounting at the end: references, _mapcount, locks, writeback.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "vmcore/kernel/kernel.h"

namespace faultline::checks {

struct Finding {
  std::string title;
  std::string body;
  std::string signature;
};

// What last changed a byte, as the lost-write report names it.
enum class Change : uint8_t {
  Initial,
  Store,
  Write,
  DirectWrite,
  HolePunch,
  Truncate,
  FailedTruncate,
  TruncateRace,
  FailedWriteback,
  DirectWriteRace,
};
// "a store through a shared mapping"
const char* change_description(Change c);
// One word for signatures: "store", "odirect-write", ...
const char* change_slug(Change c);

// What is known of one file's bytes: the value the last completed change
// left, or "indeterminate" where racing or partial changes leave it open.
// Left uninitialised until init_oracle: only the schedule's files are used.
struct FileOracle {
  std::array<uint8_t, mm::kMaxFileBytes> value;
  std::array<bool, mm::kMaxFileBytes> determinate;
  std::array<uint32_t, mm::kMaxFileBytes> last_change;  // step
  std::array<uint8_t, mm::kMaxFileBytes> inflight;      // changes in progress
  std::array<sim::TaskId, mm::kMaxFileBytes> last_writer;
  std::array<Change, mm::kMaxFileBytes> last_how;
};

// A change to [start, end) of a file that takes a while (write, truncate,
// O_DIRECT write, hole punch).
struct ChangeWindow {
  uint32_t file = 0;
  mm::loff_t start = 0;
  mm::loff_t end = 0;
  uint32_t begin_step = 0;
  bool active = false;
};

// The checkers' state for one run. What kernel code does reaches them
// through the tracepoints (mm::Tracer); the syscall layer calls the
// functions below.
struct Checks final : mm::Tracer {
  mm::Kernel* kernel = nullptr;
  std::array<FileOracle, mm::kMaxFiles> files;
  // When a page last entered the page cache or took a store through a shared
  // mapping, per file and index (step).
  std::array<std::array<uint32_t, mm::kMaxFilePages>, mm::kMaxFiles> touched_at{};
  // Buffered writes in progress, per file and page (a count).
  std::array<std::array<uint8_t, mm::kMaxFilePages>, mm::kMaxFiles> pages_being_written{};
  // The kernel function that last took each frame out of the page cache.
  std::array<const char*, mm::kMaxFrames> removed_by{};
  // The kernel function that last freed each block.
  std::array<const char*, mm::kMaxBlocks> freed_by{};
  // The hole punch and the truncate each task has in progress.
  std::array<ChangeWindow, sim::kMaxTasks> punches{};
  std::array<ChangeWindow, sim::kMaxTasks> truncates{};
  uint64_t checked_gen = 0;

  bool truncate_in_flight(uint32_t file) const {
    for (const ChangeWindow& t : truncates)
      if (t.active && t.file == file) return true;
    return false;
  }

  void mm_filemap_add_to_page_cache(const mm::page* p) override;
  void mm_filemap_delete_from_page_cache(const mm::page* p) override;
  void punch_hole_begin(const mm::inode* inode, mm::loff_t start, mm::loff_t end) override;
  void punch_hole_end(const mm::inode* inode, int error) override;
  void mmu_store(mm::mm_struct* mm, unsigned long addr, const uint8_t* data, unsigned long n) override;
  void end_io_write_error(const mm::inode* host, mm::pgoff_t index) override;
  void page_mkwrite_accept(const mm::page* p, mm::loff_t size) override;
  void page_cleaned_for_io(const mm::page* p) override;
  void block_freed(const mm::inode* inode, mm::pgoff_t index, uint32_t block) override;
};

void init_oracle(Checks& c, uint32_t file, const uint8_t* contents, mm::loff_t size);

// The step hook: runs the state checks when ptes or the cache changed.
void on_step(void* checks);

ChangeWindow begin_change(Checks& c, uint32_t file, mm::loff_t start, mm::loff_t end);
// Ends a change: bytes [w.start, w.start + known) take `bytes` (nullptr: zero);
// the rest of the window becomes indeterminate. Bytes that anything else
// changed during the window become indeterminate too.
void end_change(Checks& c, const ChangeWindow& w, const uint8_t* bytes, mm::loff_t known, Change how);
// A buffered write over the window begins or ends. A page it adds beyond EOF
// is inside EOF once it returns, and a fault may map it before that: tmpfs
// before 2.6.24 unlocks the page before i_size grows, so a fault that passed
// its i_size check before a truncate maps the page a later extending write
// brings in. The truncate check leaves such pages alone.
void begin_buffered_write(Checks& c, const ChangeWindow& w);
void end_buffered_write(Checks& c, const ChangeWindow& w);

// Ends a successful truncate's window over [size, max). What the file held
// there is gone: known bytes read zero from now on. Bytes already open stay
// open: a truncate that does not shrink leaves the tail of the last page as
// it was, and bytes stored there beyond EOF come back on extension (Linux).
void end_truncate(Checks& c, const ChangeWindow& w);

// O_DIRECT writes are not coherent with the page cache used while they run
// ("applications should avoid mixing O_DIRECT and normal I/O to the same
// file, and especially to overlapping byte regions", open(2)). A page brought
// into the cache meanwhile may keep the old data ("if this invalidation fails,
// tough, the write still worked", 2.6.24); a cached page stored to through a
// mapping meanwhile may be stale, and its writeback puts the old bytes around
// the store back over the new data on disk. Those pages' bytes in the window
// become indeterminate.
void forget_pages_touched_during(Checks& c, const ChangeWindow& w);

std::optional<Finding> check_read(Checks& c, uint32_t file, mm::loff_t offset, const uint8_t* data, unsigned long n,
                                  uint32_t read_begin_step);
// After a truncate to `size` returns: nothing maps a page wholly beyond EOF.
// Skipped when the size has moved on since (another truncate or a write).
std::optional<Finding> check_mapped_beyond_eof(Checks& c, mm::inode* inode, mm::loff_t size);
std::optional<Finding> check_state(Checks& c);
std::optional<Finding> check_end_of_run(Checks& c);

// Raises a finding from inside a task (ends the run).
[[noreturn]] void report(Finding f);

}  // namespace faultline::checks
