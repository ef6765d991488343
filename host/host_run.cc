#include "host/host_run.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "vmcore/kernel/syscalls.h"
#include "vmcore/mm/types.h"
#include "vmcore/schedule/schedule_io.h"
#include "vmcore/schedule/syscall_table.h"

namespace faultline::host {

namespace {

// Far from the heap, the libraries and the stack, and above AddressSanitizer's
// shadow on x86-64; one gigabyte per model process.
constexpr uintptr_t kRegionBase = 0x300000000000ull;
constexpr uint64_t kProcessStride = 1ull << 30;
constexpr uint64_t kRegionBytes = kProcessStride * mm::kMaxProcesses;
// The end of the farthest address range a schedule can name, in model bytes.
constexpr uint64_t kMaxModelRangeEnd = 2 * ScheduleLimits::kMaxNumber + mm::TASK_SIZE;

std::string fs_type_name(long type) {
  switch (type) {
    case EXT4_SUPER_MAGIC: return "ext4";
    case TMPFS_MAGIC: return "tmpfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case XFS_SUPER_MAGIC: return "xfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    default: return fmt::format("{:#x}", type);
  }
}

// An unnamed file in dir: O_TMPFILE, or on a filesystem without it a file
// unlinked as soon as it is made.
int open_unnamed(const std::filesystem::path& dir) {
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR)) return fd;
  std::string name = (dir / "faultline-XXXXXX").string();
  fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) unlink(name.c_str());
  return fd;
}

int64_t errno_result() { return -int64_t(errno); }

// Loads and stores that may fault: the handler jumps back with the signal.
thread_local sigjmp_buf* volatile g_fault_jump = nullptr;

void on_fault(int sig, siginfo_t*, void*) {
  if (g_fault_jump) siglongjmp(*g_fault_jump, sig);
  signal(sig, SIG_DFL);
  raise(sig);
}

// Runs access(); 0, or the signal (SIGSEGV, SIGBUS) it took.
template <class F>
int guarded(F&& access) {
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_segv {}, old_bus {};
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
  sigjmp_buf jump;
  int sig = sigsetjmp(jump, 1);
  if (sig == 0) {
    g_fault_jump = &jump;
    std::atomic_signal_fence(std::memory_order_seq_cst);  // set before the access may trap
    access();
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  g_fault_jump = nullptr;
  sigaction(SIGSEGV, &old_segv, nullptr);
  sigaction(SIGBUS, &old_bus, nullptr);
  return sig;
}

// Every host resource of one run, released on every path.
class Session {
 public:
  Session(const Schedule& s, const HostEnv& env) : s_(s), env_(env), S_(env.scale) {}
  ~Session() {
    if (region_) munmap(region_, kRegionBytes);
    for (int fd : direct_fds_)
      if (fd >= 0) close(fd);
    for (int fd : fds_)
      if (fd >= 0) close(fd);
    if (limited_) {
      setrlimit(RLIMIT_FSIZE, &saved_fsize_);
      sigaction(SIGXFSZ, &saved_xfsz_, nullptr);
    }
  }

  std::string setup() {
    void* r = mmap(reinterpret_cast<void*>(kRegionBase), kRegionBytes, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == MAP_FAILED || r != reinterpret_cast<void*>(kRegionBase)) {
      const std::string why = r == MAP_FAILED ? std::strerror(errno) : "placed elsewhere";
      if (r != MAP_FAILED) munmap(r, kRegionBytes);
      return fmt::format("the host address range [{:#x}, {:#x}) is not free: {}", kRegionBase,
                         kRegionBase + kRegionBytes, why);
    }
    // Free: give it back, so a model address without a vma has none on the host either.
    munmap(r, kRegionBytes);
    region_ = r;
    for (int i = 0; i < s_.files_size(); ++i)
      if (std::string e = setup_file(s_.files(i)); !e.empty()) return fmt::format("files[{}]: {}", i, e);
    for (int p = 0; p < s_.processes_size(); ++p)
      for (int m = 0; m < s_.processes(p).mappings_size(); ++m) {
        Syscall c;
        *c.mutable_mmap() = s_.processes(p).mappings(m);
        const int64_t ret = call(uint32_t(p), c, nullptr).ret;
        if (ret < 0)
          return fmt::format("processes[{}].mappings[{}]: mmap on the host returned {}", p, m, mm::result_name(ret));
      }
    // The model's s_maxbytes, for the schedule's syscalls.
    getrlimit(RLIMIT_FSIZE, &saved_fsize_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGXFSZ, &ignore, &saved_xfsz_);
    struct rlimit limit = saved_fsize_;
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, rlim_t(mm::kMaxFileBytes) * S_);
    setrlimit(RLIMIT_FSIZE, &limit);
    limited_ = true;
    return "";
  }

  // One syscall of a task in `process`; *granularity gets a note when host
  // bytes within one model byte differ.
  SyscallResult call(uint32_t process, const Syscall& c, std::string* granularity, const std::string& emulation = "",
                     std::string* unfollowed = nullptr) {
    const mm::Op op = syscall_kind(c)->to_op(c);
    // What a copy in one go would move, when the order of the copy may matter.
    std::optional<std::vector<uint8_t>> in_one_go;
    if (unfollowed && op.has_buf && (op.kind == mm::OpKind::Read || op.kind == mm::OpKind::Write) &&
        order_dependent(process, op)) {
      if (op.kind == mm::OpKind::Write || emulation.empty())
        in_one_go = copy_source(process, op);
      else  // the emulated prefault's zeros make the source of a read: not followed
        *unfollowed = kOrderDecides;
    }
    SyscallResult r = run_op(process, op, granularity, emulation, unfollowed);
    if (unfollowed && op.kind == mm::OpKind::Read && op.has_buf && r.ret > 0 &&
        stores_beyond_eof(process, op.buf, uint64_t(r.ret)))
      *unfollowed = kStoreBeyondEof;
    if (unfollowed && op.has_buf && op.buf + op.len > mm::TASK_SIZE)
      *unfollowed = "has a user buffer that runs past the model's TASK_SIZE (1024 bytes): the model's access_ok "
                    "refuses what the host's allows";
    if (in_one_go && r.ret > 0) {
      const std::vector<uint8_t> moved = copied(process, op, uint64_t(r.ret));
      if (moved.size() != uint64_t(r.ret) * S_ || in_one_go->size() < moved.size() ||
          !std::equal(moved.begin(), moved.end(), in_one_go->begin()))
        *unfollowed = kOrderDecides;
    }
    return r;
  }

 private:
  static constexpr const char* kStoreBeyondEof =
      "stores through a mapping into the last page beyond EOF; the host's kernel zeroes those bytes when the file "
      "grows, the model's kernels keep them (corpus/regressions/mmap_store_beyond_eof_comes_back)";
  static constexpr const char* kOrderDecides =
      "copies between a user buffer and a file range that the buffer maps (shifted, or twice), and the copy's order decided "
      "the bytes; the model copies the buffer in one go and does not follow them";

  // The bytes a read() or write() would move if it copied in one go: the file
  // range of a read, the user buffer of a write (as far as it can be read).
  std::vector<uint8_t> copy_source(uint32_t process, const mm::Op& op) {
    std::vector<uint8_t> bytes(op.len * S_);
    if (op.kind == mm::OpKind::Read) {
      const ssize_t n = pread(fds_[op.file], bytes.data(), bytes.size(), off_t(op.offset * S_));
      bytes.resize(n > 0 ? size_t(n) : 0);
    } else {
      const volatile uint8_t* from = addr(process, op.buf);
      size_t done = 0;
      guarded([&] {
        for (; done < bytes.size(); ++done) bytes[done] = from[done];
      });
      bytes.resize(done);
    }
    return bytes;
  }

  // The bytes the copy moved: the user buffer after a read, the file range after a write.
  std::vector<uint8_t> copied(uint32_t process, const mm::Op& op, uint64_t model_bytes) {
    std::vector<uint8_t> bytes(model_bytes * S_);
    if (op.kind == mm::OpKind::Write) {
      const ssize_t n = pread(fds_[op.file], bytes.data(), bytes.size(), off_t(op.offset * S_));
      bytes.resize(n > 0 ? size_t(n) : 0);
    } else if (guarded([&] { std::memcpy(bytes.data(), addr(process, op.buf), bytes.size()); })) {
      bytes.clear();
    }
    return bytes;
  }

  SyscallResult run_op(uint32_t process, const mm::Op& op, std::string* granularity, const std::string& emulation,
                       std::string* unfollowed) {
    SyscallResult r;
    auto bytes = [&](int64_t n) { return n < 0 ? errno_result() : count(n, granularity); };
    switch (op.kind) {
      case mm::OpKind::Mmap: {
        void* at = mmap(addr(process, op.addr), op.len * S_, PROT_READ | (op.writable ? PROT_WRITE : 0),
                        MAP_FIXED | (op.shared ? MAP_SHARED : MAP_PRIVATE), fds_[op.file], off_t(op.offset * S_));
        r.ret = at == MAP_FAILED ? errno_result()
                                 : int64_t((reinterpret_cast<uintptr_t>(at) - process_base(process)) / S_);
        if (at != MAP_FAILED) track(process, op.addr, op.len, int32_t(op.file), op.offset / mm::PAGE_SIZE);
        break;
      }
      case mm::OpKind::Munmap:
        r.ret = munmap(addr(process, op.addr), op.len * S_) ? errno_result() : 0;
        if (!r.ret) track(process, op.addr, op.len, -1, 0);
        break;
      case mm::OpKind::Load: {
        std::vector<uint8_t> buf(op.len * S_);
        const volatile uint8_t* from = addr(process, op.addr);
        const int sig = guarded([&] {
          for (size_t i = 0; i < buf.size(); ++i) buf[i] = from[i];
        });
        r.ret = sig ? mm::signal_result(sig) : 0;
        if (!sig) r.data = downscale(buf, granularity);
        break;
      }
      case mm::OpKind::Store: {
        volatile uint8_t* to = addr(process, op.addr);
        const int sig = guarded([&] {
          for (size_t i = 0; i < op.len * S_; ++i) to[i] = op.value;
        });
        r.ret = sig ? mm::signal_result(sig) : 0;
        if (unfollowed && stores_beyond_eof(process, op.addr, op.len))  // a faulting store may have stored a prefix
          *unfollowed = kStoreBeyondEof;
        break;
      }
      case mm::OpKind::Read: {
        std::vector<uint8_t> kbuf(op.len * S_);
        uint8_t* to = op.has_buf ? addr(process, op.buf) : kbuf.data();
        const ssize_t n = op.has_buf && emulation == "fault_in_pages_writeable"
                              ? by_pages(op, to, true)
                              : pread(fds_[op.file], to, op.len * S_, off_t(op.offset * S_));
        r.ret = bytes(n);
        if (n > 0 && op.has_buf && guarded([&] { std::memcpy(kbuf.data(), to, size_t(n)); }))
          note_once(granularity, "the bytes read into the user buffer could not be read back");
        if (n > 0) r.data = downscale({kbuf.data(), size_t(n)}, granularity);
        break;
      }
      case mm::OpKind::Write: {
        std::vector<uint8_t> kbuf(op.len * S_, op.value);
        uint8_t* from = op.has_buf ? addr(process, op.buf) : kbuf.data();
        r.ret = bytes(op.has_buf && emulation == "fault_in_pages_readable"
                          ? by_pages(op, from, false)
                          : pwrite(fds_[op.file], from, op.len * S_, off_t(op.offset * S_)));
        break;
      }
      case mm::OpKind::DirectWrite: {
        const int fd = direct_fd(op.file);
        if (fd < 0) {
          r.ret = errno_result();
          break;
        }
        const size_t n = op.len * S_;
        const size_t alloc = std::max<size_t>((n + 4095) & ~size_t(4095), 4096);
        void* buf = std::aligned_alloc(4096, alloc);
        std::memset(buf, op.value, n);
        r.ret = bytes(pwrite(fd, buf, n, off_t(op.offset * S_)));
        std::free(buf);
        break;
      }
      case mm::OpKind::Ftruncate: r.ret = ftruncate(fds_[op.file], off_t(op.offset * S_)) ? errno_result() : 0; break;
      case mm::OpKind::Revalidate: r.ret = -ENOSYS; break;  // no host syscall: the caller takes the model's
      case mm::OpKind::Madvise:
        r.ret = madvise(addr(process, op.addr), op.len * S_, op.advice) ? errno_result() : 0;
        break;
      case mm::OpKind::Fadvise:
        // The raw syscall: the kernel's -errno, not glibc's return value.
        r.ret = syscall(SYS_fadvise64, fds_[op.file], off_t(op.offset * S_), off_t(op.len * S_),
                        POSIX_FADV_DONTNEED)
                    ? errno_result()
                    : 0;
        break;
      case mm::OpKind::Fsync: r.ret = fsync(fds_[op.file]) ? errno_result() : 0; break;
      case mm::OpKind::Fallocate:
        r.ret = fallocate(fds_[op.file], int(op.flags), off_t(op.offset * S_), off_t(op.len * S_)) ? errno_result() : 0;
        break;
      case mm::OpKind::Msync:
        r.ret = msync(addr(process, op.addr), op.len * S_, int(op.flags)) ? errno_result() : 0;
        break;
      case mm::OpKind::Stat: {
        struct stat st {};
        r.ret = fstat(fds_[op.file], &st) ? errno_result() : count(st.st_size, granularity);
        break;
      }
    }
    return r;
  }

 private:
  uintptr_t process_base(uint32_t p) const { return kRegionBase + p * kProcessStride; }
  uint8_t* addr(uint32_t p, uint64_t model_addr) const {
    return reinterpret_cast<uint8_t*>(process_base(p) + model_addr * S_);
  }

  // Whether copying between the user buffer and the file range may depend on
  // the copy's order: a byte the copy reads after writing it (the buffer maps
  // part of the range, shifted), or a buffer that maps a file byte twice.
  bool order_dependent(uint32_t process, const mm::Op& op) const {
    auto file_offset = [&](uint64_t a) -> std::optional<uint64_t> {
      const uint64_t vpn = a / mm::PAGE_SIZE;
      if (vpn >= mm::kMaxVpn || vmap_[process][vpn].file != int32_t(op.file)) return std::nullopt;
      return vmap_[process][vpn].pgoff * mm::PAGE_SIZE + a % mm::PAGE_SIZE;
    };
    std::set<uint64_t> seen;
    for (uint64_t i = 0; i < op.len; ++i) {
      const std::optional<uint64_t> at = file_offset(op.buf + i);
      if (!at) continue;
      // Two bytes of the buffer map the same file byte (the page mapped twice).
      if (!seen.insert(*at).second) return true;
      // write: buffer byte i is file byte *at, written at step *at - offset;
      // read: buffer byte i is written at step i and is file byte *at, read at step *at - offset.
      if (*at >= op.offset && *at < op.offset + op.len && *at - op.offset != i) {
        const uint64_t writes_at = op.kind == mm::OpKind::Write ? *at - op.offset : i;
        const uint64_t reads_at = op.kind == mm::OpKind::Write ? i : *at - op.offset;
        if (writes_at < reads_at) return true;
      }
    }
    return false;
  }

  // Whether a store to [addr, addr + len) lands beyond the EOF of a file a mapping there maps.
  bool stores_beyond_eof(uint32_t process, uint64_t addr, uint64_t len) const {
    for (uint64_t a = addr; a < addr + len; ++a) {
      const uint64_t vpn = a / mm::PAGE_SIZE;
      if (vpn >= mm::kMaxVpn || vmap_[process][vpn].file < 0) continue;
      struct stat st {};
      if (fstat(fds_[size_t(vmap_[process][vpn].file)], &st)) continue;
      if ((vmap_[process][vpn].pgoff * mm::PAGE_SIZE + a % mm::PAGE_SIZE) * S_ >= uint64_t(st.st_size)) return true;
    }
    return false;
  }

  // read() or write() a page of the file at a time, as do_generic_file_read
  // and generic_perform_write did before the host's kernel: before a page's
  // copy, a read stores a zero into the first and last byte of its
  // destination (fault_in_pages_writeable; a fault there is ignored: the
  // kernel fell back to the slow copy, and the zero lands in the source when
  // the buffer maps that page), a write touches the first and last byte of
  // its source and stops where that faults (fault_in_pages_readable).
  ssize_t by_pages(const mm::Op& op, uint8_t* user, bool read) {
    const int fd = fds_[op.file];
    uint64_t pos = op.offset, done = 0;
    while (done < op.len) {
      uint64_t chunk = std::min<uint64_t>(op.len - done, mm::PAGE_SIZE - pos % mm::PAGE_SIZE);
      if (read) {
        struct stat st {};
        if (fstat(fd, &st)) return done ? ssize_t(done * S_) : -1;
        const uint64_t size = uint64_t(st.st_size) / S_;
        if (pos >= size) break;
        chunk = std::min(chunk, size - pos);
      }
      volatile uint8_t* first = user + done * S_;
      volatile uint8_t* last = user + (done + chunk - 1) * S_;
      const bool two_pages = (op.buf + done) / mm::PAGE_SIZE != (op.buf + done + chunk - 1) / mm::PAGE_SIZE;
      if (read) {
        guarded([&] {
          for (size_t i = 0; i < S_; ++i) first[i] = 0;
        });
        if (two_pages)
          guarded([&] {
            for (size_t i = 0; i < S_; ++i) last[i] = 0;
          });
      } else if (guarded([&] { (void)*first; }) || (two_pages && guarded([&] { (void)*last; }))) {
        if (done) break;
        errno = EFAULT;
        return -1;
      }
      const ssize_t n = read ? pread(fd, user + done * S_, chunk * S_, off_t(pos * S_))
                             : pwrite(fd, user + done * S_, chunk * S_, off_t(pos * S_));
      if (n <= 0) return done ? ssize_t(done * S_) : n;
      done += uint64_t(n) / S_;
      pos += uint64_t(n) / S_;
      if (uint64_t(n) < chunk * S_) break;
    }
    return ssize_t(done * S_);
  }

  std::string setup_file(const File& f) {
    const int fd = f.kind() == File::SHMEM ? memfd_create("faultline", MFD_CLOEXEC) : open_unnamed(env_.dir);
    fds_.push_back(fd);
    direct_fds_.push_back(-1);
    if (fd < 0) return fmt::format("cannot create the host file: {}", std::strerror(errno));
    if (ftruncate(fd, off_t(f.size() * S_))) return fmt::format("ftruncate: {}", std::strerror(errno));
    const size_t n = std::min<size_t>(f.contents().size(), f.size());
    std::vector<uint8_t> data;
    data.reserve(n * S_);
    for (size_t i = 0; i < n; ++i) data.insert(data.end(), S_, uint8_t(f.contents()[i]));
    if (!data.empty() && pwrite(fd, data.data(), data.size(), 0) != ssize_t(data.size()))
      return fmt::format("writing the contents: {}", std::strerror(errno));
    return "";
  }

  // The file opened again with O_DIRECT (through /proc, as the file has no name).
  int direct_fd(uint32_t file) {
    if (direct_fds_[file] < 0)
      direct_fds_[file] = open(fmt::format("/proc/self/fd/{}", fds_[file]).c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
    return direct_fds_[file];
  }

  int64_t count(int64_t host_bytes, std::string* granularity) const {
    if (host_bytes % int64_t(S_))
      note_once(granularity, fmt::format("{} host bytes are not a whole number of model bytes", host_bytes));
    return host_bytes / int64_t(S_);
  }

  std::vector<uint8_t> downscale(std::span<const uint8_t> host, std::string* granularity) const {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < host.size() / S_; ++i) {
      const std::span<const uint8_t> group = host.subspan(i * S_, S_);
      for (uint8_t b : group)
        if (b != group[0]) {
          note_once(granularity, fmt::format("model byte {} is not one value on the host ({:#04x} and {:#04x})", i,
                                          group[0], b));
          break;
        }
      out.push_back(group[0]);
    }
    return out;
  }

  static void note_once(std::string* granularity, const std::string& note) {
    if (granularity && granularity->empty()) *granularity = note;
  }

  // Which file page each model page of each process maps (-1: none).
  void track(uint32_t process, uint64_t model_addr, uint64_t len, int32_t file, uint64_t pgoff) {
    const uint64_t first = model_addr / mm::PAGE_SIZE;
    const uint64_t pages = (len + mm::PAGE_SIZE - 1) / mm::PAGE_SIZE;
    for (uint64_t p = 0; p < pages && first + p < mm::kMaxVpn; ++p) vmap_[process][first + p] = {file, pgoff + p};
  }
  struct MappedPage {
    int32_t file = -1;
    uint64_t pgoff = 0;
  };
  std::array<std::array<MappedPage, mm::kMaxVpn>, mm::kMaxProcesses> vmap_{};

  const Schedule& s_;
  const HostEnv& env_;
  const uint64_t S_;
  void* region_ = nullptr;
  std::vector<int> fds_, direct_fds_;
  bool limited_ = false;
  struct rlimit saved_fsize_ {};
  struct sigaction saved_xfsz_ {};
};

}  // namespace

std::optional<HostEnv> probe_env(const std::filesystem::path& dir, std::string* error) {
  struct stat st {};
  if (stat(dir.c_str(), &st)) {
    *error = fmt::format("{}: {}", dir.string(), std::strerror(errno));
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = fmt::format("{}: not a directory", dir.string());
    return std::nullopt;
  }
  HostEnv env;
  env.dir = dir;
  const long page = sysconf(_SC_PAGESIZE);
  if (page < long(mm::PAGE_SIZE) || page % long(mm::PAGE_SIZE)) {
    *error = fmt::format("host page size {} is not a multiple of the model's {}", page, mm::PAGE_SIZE);
    return std::nullopt;
  }
  env.scale = uint64_t(page) / mm::PAGE_SIZE;
  if (kMaxModelRangeEnd * env.scale > kProcessStride) {
    *error = fmt::format("host page size {} is too large for the host address layout", page);
    return std::nullopt;
  }
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) == 0) env.fs_type = fs_type_name(long(fs.f_type));
  struct utsname u {};
  if (uname(&u) == 0) env.kernel = u.release;
  const int fd = open_unnamed(dir);
  if (fd < 0) {
    *error = fmt::format("{}: cannot create a file there: {}", dir.string(), std::strerror(errno));
    return std::nullopt;
  }
  struct statx sx {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN))
    env.dio_align = std::max(sx.stx_dio_offset_align, sx.stx_dio_mem_align);
  close(fd);
  return env;
}

HostRun run_on_host(const Schedule& s, std::span<const HostCall> order, const HostEnv& env,
                    const DirectiveFor& directive) {
  HostRun run;
  run.results.resize(size_t(s.tasks_size()));
  run.taken.resize(size_t(s.tasks_size()));
  run.granularity.resize(size_t(s.tasks_size()));
  for (int t = 0; t < s.tasks_size(); ++t) {
    run.results[size_t(t)].resize(size_t(s.tasks(t).syscalls_size()));
    run.taken[size_t(t)].resize(size_t(s.tasks(t).syscalls_size()));
    run.granularity[size_t(t)].resize(size_t(s.tasks(t).syscalls_size()));
  }
  Session session(s, env);
  run.error = session.setup();
  if (!run.error.empty()) return run;
  for (const HostCall& c : order) {
    auto& slot = run.results[c.task][c.index];
    HostDirective d = directive(c);
    if (d.take) {
      slot = std::move(*d.take);
      run.taken[c.task][c.index] = true;
      continue;
    }
    const Task& task = s.tasks(int(c.task));
    std::string& note = run.granularity[c.task][c.index];
    note.clear();
    std::string unfollowed;
    slot = session.call(task.process(), task.syscalls(int(c.index)), &note, d.emulation, &unfollowed);
    if (!unfollowed.empty() && run.unfollowed.empty())
      run.unfollowed = fmt::format("task {} syscall {} {}", c.task, c.index, unfollowed);
    run.taken[c.task][c.index] = false;
  }
  return run;
}

}  // namespace faultline::host
