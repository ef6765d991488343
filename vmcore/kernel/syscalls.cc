#include "vmcore/kernel/syscalls.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "vmcore/checks/checks.h"
#include "vmcore/kernel/era.h"
#include "vmcore/kernel/oops.h"
#include "vmcore/mm/locking.h"
#include "vmcore/mm/mm.h"

namespace faultline::mm {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::Mmap: return "mmap";
    case OpKind::Munmap: return "munmap";
    case OpKind::Load: return "load";
    case OpKind::Store: return "store";
    case OpKind::Read: return "read";
    case OpKind::Write: return "write";
    case OpKind::Ftruncate: return "ftruncate";
    case OpKind::DirectWrite: return "direct_write";
    case OpKind::Revalidate: return "revalidate";
    case OpKind::Madvise: return "madvise";
    case OpKind::Fadvise: return "fadvise";
    case OpKind::Fsync: return "fsync";
    case OpKind::Fallocate: return "fallocate";
    case OpKind::Msync: return "msync";
    case OpKind::Stat: return "stat";
  }
  return "?";
}

std::string result_name(int64_t ret) {
  if (ret >= 0) return std::to_string(ret);
  if (ret == signal_result(SIGBUS)) return "SIGBUS";
  if (ret == signal_result(SIGSEGV)) return "SIGSEGV";
  switch (-ret) {
    case EPERM: return "-EPERM";
    case EIO: return "-EIO";
    case ENOMEM: return "-ENOMEM";
    case EACCES: return "-EACCES";
    case EFAULT: return "-EFAULT";
    case EINVAL: return "-EINVAL";
    case EFBIG: return "-EFBIG";
    case ENOSPC: return "-ENOSPC";
    case ENOSYS: return "-ENOSYS";
    case EOVERFLOW: return "-EOVERFLOW";
    case EOPNOTSUPP: return "-EOPNOTSUPP";
    case EBADF: return "-EBADF";
    case EBUSY: return "-EBUSY";
    default: return std::to_string(ret);
  }
}

namespace {

sim::Label syscall_label(OpKind k) {
  switch (k) {
    case OpKind::Mmap: return "syscall:mmap";
    case OpKind::Munmap: return "syscall:munmap";
    case OpKind::Load: return "syscall:load";
    case OpKind::Store: return "syscall:store";
    case OpKind::Read: return "syscall:read";
    case OpKind::Write: return "syscall:write";
    case OpKind::Ftruncate: return "syscall:ftruncate";
    case OpKind::DirectWrite: return "syscall:direct_write";
    case OpKind::Revalidate: return "syscall:revalidate";
    case OpKind::Madvise: return "syscall:madvise";
    case OpKind::Fadvise: return "syscall:fadvise";
    case OpKind::Fsync: return "syscall:fsync";
    case OpKind::Fallocate: return "syscall:fallocate";
    case OpKind::Msync: return "syscall:msync";
    case OpKind::Stat: return "syscall:stat";
  }
  return "syscall:?";
}

int64_t fault_result(int err) { return err > 0 ? signal_result(err) : err; }

checks::Checks& the_checks() { return *kernel().checks; }

inode* file_of(const Op& op) { return &kernel().inodes[op.file]; }

// nfs_revalidate_mapping: sync (unmap everything, write back) and invalidate.
int64_t nfs_revalidate_mapping(inode* inode) {
  KFUNC("nfs_revalidate_mapping");
  address_space* mapping = inode->i_mapping;
  point_read("nfs_sync_mapping:nrpages", obj_nrpages(mapping));
  if (mapping->nrpages) {
    unmap_mapping_range(mapping, 0, 0, 0);
    filemap_write_and_wait(mapping);
  }
  return kernel().era->invalidate_inode_pages2_range(mapping, pgoff_t(0), pgoff_max());
}

int64_t sys_read(const Op& op, OpOutput* out) {
  KFUNC("sys_pread64");
  inode* inode = file_of(op);
  uint8_t kbuf[kMaxOpBytes];
  user_buffer buf{.user = op.has_buf, .addr = op.buf, .kbuf = kbuf};
  loff_t pos = loff_t(op.offset);
  const uint32_t begin = sim().steps();
  const long ret = inode->i_fop->read(inode, &pos, op.len, buf, out->data);
  out->ndata = ret > 0 ? uint32_t(ret) : 0;
  if (ret > 0) {
    if (auto f = checks::check_read(the_checks(), op.file, loff_t(op.offset), out->data, ret, begin))
      checks::report(std::move(*f));
  }
  return ret;
}

int64_t sys_write(const Op& op, bool o_direct) {
  static constexpr sim::Label kDirect = "sys_pwrite64_odirect";
  static constexpr sim::Label kBuffered = "sys_pwrite64";
  KFunc guard(o_direct ? kDirect : kBuffered);
  inode* inode = file_of(op);
  // 6.6 (e88e0d366f9c "tmpfs: trivial support for direct IO"): tmpfs opens
  // O_DIRECT, and its writes are the buffered ones.
  if (o_direct && inode->kind == FileKind::Shmem && cfg().era >= Era::Linux6) o_direct = false;
  // open(O_DIRECT) needs ->direct_IO (tmpfs has none before 6.6)
  if (o_direct && !inode->i_mapping->a_ops->direct_IO) return -EINVAL;
  uint8_t kbuf[kMaxOpBytes];
  std::memset(kbuf, op.value, op.len);
  const bool user = op.has_buf && !o_direct;
  user_buffer buf{.user = user, .addr = op.buf, .kbuf = kbuf};
  const loff_t pos = loff_t(op.offset);
  const auto w = checks::begin_change(the_checks(), op.file, pos, pos + loff_t(op.len));
  if (!o_direct) checks::begin_buffered_write(the_checks(), w);
  const long ret = inode->i_fop->write(inode, pos, op.len, buf, o_direct);
  if (!o_direct) checks::end_buffered_write(the_checks(), w);
  // What a user buffer held is not followed: those bytes become indeterminate.
  const loff_t known = (ret > 0 && !user) ? ret : 0;
  checks::end_change(the_checks(), w, kbuf, known, o_direct ? checks::Change::DirectWrite : checks::Change::Write);
  if (o_direct) checks::forget_pages_touched_during(the_checks(), w);
  return ret;
}

int64_t sys_ftruncate(const Op& op) {
  KFUNC("sys_ftruncate");
  inode* inode = file_of(op);
  const loff_t size = loff_t(op.offset);
  const auto w = checks::begin_change(the_checks(), op.file, std::min<loff_t>(size, kMaxFileBytes), kMaxFileBytes);
  the_checks().truncates[sim().current()] = w;
  const int ret = do_truncate(inode, size);
  the_checks().truncates[sim().current()].active = false;
  if (ret == 0 && inode->i_size == size)
    checks::end_truncate(the_checks(), w);
  else  // failed, or another size change came after it
    checks::end_change(the_checks(), w, nullptr, 0,
                       ret ? checks::Change::FailedTruncate : checks::Change::TruncateRace);
  if (ret == 0) {
    if (auto f = checks::check_mapped_beyond_eof(the_checks(), inode, size)) checks::report(std::move(*f));
  }
  return ret;
}

}  // namespace

void do_syscall(const Op& op, OpOutput* out) {
  mm_struct* mm = current().mm;
  out->ndata = 0;
  int64_t ret = 0;
  switch (op.kind) {
    case OpKind::Mmap: {
      KFUNC("sys_mmap");
      if (op.offset & ~PAGE_MASK) {
        ret = -EINVAL;
        break;
      }
      down_write(&mm->mmap_sem, "sys_mmap:down_write");
      ret = do_mmap_pgoff(mm, file_of(op), op.addr, op.len, op.writable, op.shared, pgoff_t(op.offset >> PAGE_SHIFT));
      up_write(&mm->mmap_sem, "sys_mmap:up_write");
      break;
    }
    case OpKind::Munmap: {
      KFUNC("sys_munmap");
      down_write(&mm->mmap_sem, "sys_munmap:down_write");
      ret = do_munmap(mm, op.addr, op.len);
      up_write(&mm->mmap_sem, "sys_munmap:up_write");
      break;
    }
    case OpKind::Load: {
      const int err = user_load(op.addr, out->data, op.len);
      ret = err ? fault_result(err) : 0;
      if (!err) out->ndata = uint32_t(op.len);
      break;
    }
    case OpKind::Store: {
      uint8_t buf[kMaxOpBytes];
      std::memset(buf, op.value, op.len);
      const int err = user_store(op.addr, buf, op.len);
      ret = err ? fault_result(err) : 0;
      break;
    }
    case OpKind::Read: ret = sys_read(op, out); break;
    case OpKind::Write: ret = sys_write(op, false); break;
    case OpKind::DirectWrite: ret = sys_write(op, true); break;
    case OpKind::Ftruncate: ret = sys_ftruncate(op); break;
    case OpKind::Revalidate:
      ret = file_of(op)->kind == FileKind::Shmem ? -EINVAL : nfs_revalidate_mapping(file_of(op));
      break;
    case OpKind::Madvise: ret = sys_madvise(op.addr, op.len, op.advice); break;
    case OpKind::Fadvise: ret = sys_fadvise64_64(file_of(op), loff_t(op.offset), loff_t(op.len)); break;
    case OpKind::Fsync: ret = file_of(op)->i_fop->fsync(file_of(op)); break;
    case OpKind::Fallocate:
      // sys_fallocate came with 2.6.23.
      ret = cfg().sys_fallocate ? do_fallocate(file_of(op), int(op.flags), loff_t(op.offset), loff_t(op.len)) : -ENOSYS;
      break;
    case OpKind::Msync: ret = sys_msync(op.addr, op.len, int(op.flags)); break;
    case OpKind::Stat: ret = vfs_getattr(file_of(op)); break;
  }
  out->ret = ret;
}

void user_task_main(void* arg) {
  auto& task = *static_cast<UserTask*>(arg);
  sim::Sim& s = sim();
  current().mm = task.mm;
  for (size_t n = 0; n < task.ops.size() * (size_t(task.repeat) + 1); ++n) {
    const size_t i = n % task.ops.size();
    const Op& op = task.ops[i];
    s.point(syscall_label(op.kind), sim::Obj{}, sim::Access::None, sim::EventKind::SyscallBegin, int64_t(i));
    s.reset_retries();
    do_syscall(op, &task.out[i]);
    const sim::TaskId me = s.current();
    if (s.held_count(me)) {
      const sim::Waitable* lock = s.held_lock(me, 0);
      oops(fmt::format("BUG: lock held when returning to user space from {}", op_name(op.kind)),
           fmt::format("held: {}\n", sim::describe(lock->obj())),
           fmt::format("lock-held-at-syscall-exit:{}:{}", op_name(op.kind), sim::obj_kind_name(lock->obj().kind)));
    }
    s.note(sim::EventKind::SyscallEnd, syscall_label(op.kind), sim::Obj{}, sim::kNoTask, task.out[i].ret);
  }
}

}  // namespace faultline::mm
