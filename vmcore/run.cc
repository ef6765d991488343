#include "vmcore/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory_resource>
#include <new>

#include "vmcore/checks/checks.h"
#include "vmcore/kernel/era.h"
#include "vmcore/kernel/kernel.h"
#include "vmcore/kernel/oops.h"
#include "vmcore/kernel/syscalls.h"
#include "vmcore/mm/mm.h"
#include "vmcore/schedule/schedule_io.h"
#include "vmcore/schedule/syscall_table.h"

namespace faultline {

const char* outcome_name(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::Ok: return "Ok";
    case OutcomeKind::Violation: return "Violation";
    case OutcomeKind::Deadlock: return "Deadlock";
    case OutcomeKind::Livelock: return "Livelock";
    case OutcomeKind::StepLimit: return "StepLimit";
    case OutcomeKind::InvalidSchedule: return "InvalidSchedule";
    case OutcomeKind::Exhausted: return "Exhausted";
  }
  return "?";
}

std::optional<OutcomeKind> parse_outcome_name(std::string_view name) {
  for (OutcomeKind k : {OutcomeKind::Ok, OutcomeKind::Violation, OutcomeKind::Deadlock, OutcomeKind::Livelock,
                        OutcomeKind::StepLimit, OutcomeKind::InvalidSchedule, OutcomeKind::Exhausted})
    if (name == outcome_name(k)) return k;
  return std::nullopt;
}

bool is_failure(OutcomeKind k) {
  return k == OutcomeKind::Violation || k == OutcomeKind::Deadlock || k == OutcomeKind::Livelock ||
         k == OutcomeKind::StepLimit;
}

std::optional<mm::KernelConfig> schedule_kernel(const Schedule& s, std::string* error) {
  std::vector<mm::SwitchSetting> switches;
  for (const Switch& sw : s.kernel().switches()) switches.push_back({sw.name(), sw.enabled()});
  std::string why;
  auto cfg = mm::build_config(s.kernel().preset(), switches, &why);
  if (!cfg && error) *error = why;
  return cfg;
}

namespace {

// The decisions of a schedule, as the replay strategy takes them.
std::vector<sim::ScheduledSwitch> schedule_decisions(const Schedule& s) {
  std::vector<sim::ScheduledSwitch> out;
  out.reserve(size_t(s.decisions_size()));
  for (const Decision& d : s.decisions()) {
    sim::ScheduledSwitch sw;
    sw.task = sim::TaskId(d.task());
    if (d.when_case() == Decision::kAt) {
      sw.by_label = true;
      sw.at_task = sim::TaskId(d.at().task());
      sw.label = d.at().label();
      sw.hit = std::max(d.at().hit(), 1u);
      sw.every = d.at().every();
    } else {
      sw.step = d.step();
      sw.expect_label = d.label();
    }
    out.push_back(std::move(sw));
  }
  return out;
}

}  // namespace

sim::ReplayStrategy replay_strategy(const Schedule& s) { return sim::ReplayStrategy(schedule_decisions(s), s.seed()); }

namespace {

using namespace mm;

constexpr size_t kArenaBytes = 1 << 20;
constexpr size_t kStackBytes = 256 * 1024;

FaultKind fault_kind(Fault::Kind k) {
  switch (k) {
    case Fault::READPAGE_EIO: return FaultKind::ReadpageEio;
    case Fault::ALLOC_FAIL: return FaultKind::AllocFail;
    case Fault::PAGE_MKWRITE_FAIL: return FaultKind::PageMkwriteFail;
    case Fault::WRITEPAGE_EIO: return FaultKind::WritepageEio;
    case Fault::FOLIO_SPLIT_FAIL: return FaultKind::FolioSplitFail;
    default: return FaultKind::Count;
  }
}

// Inserts a page into the cache as if it had been read (or written) long ago.
page* setup_cache_page(inode& in, uint64_t index, const uint8_t* contents, bool dirty) {
  page* p = alloc_page();
  p->mapping = in.i_mapping;
  p->index = pgoff_t(index);
  p->b_blocknr = in.i_block[index];
  std::memcpy(p->data, contents + index * PAGE_SIZE, PAGE_SIZE);
  p->flags |= PG_uptodate | (dirty ? PG_dirty : 0);
  in.i_mapping->page_tree.slots[index] = p;
  in.i_mapping->page_tree.tag_dirty[index] = dirty;
  ++in.i_mapping->nrpages;
  return p;
}

void build_files(mm::Kernel& k, checks::Checks& c, const Schedule& s) {
  for (uint32_t f = 0; f < kMaxFrames; ++f) {
    page& p = k.frames[f];
    p.frame = f;
    p.locked.set_obj({sim::ObjKind::PageLock, 0, f});
    p.writeback.set_obj({sim::ObjKind::Writeback, 0, f});
  }
  for (uint32_t f = kMaxFrames; f-- > 0;) {  // frame 0 is handed out first
    k.frames[f].in_free_list = true;
    k.frames[f].next_free = k.free_head;
    k.free_head = f;
  }
  k.nr_free = kMaxFrames;
  for (uint32_t b = kMaxBlocks; b-- > 0;) {  // block 0 is handed out first
    k.bdev.next_free[b] = k.bdev.free_head;
    k.bdev.free_head = b;
  }

  k.nfiles = uint32_t(s.files_size());
  for (uint32_t i = 0; i < k.nfiles; ++i) {
    const File& f = s.files(int(i));
    inode& in = k.inodes[i];
    in.i_ino = i;
    in.kind = f.kind() == File::SHMEM    ? FileKind::Shmem
              : f.kind() == File::DRIVER ? FileKind::Driver
                                         : FileKind::Regular;
    in.i_mapping = &in.i_data;
    in.i_data.host = &in;
    in.i_data.id = i;
    in.i_size = loff_t(f.size());
    in.ra_pages = f.has_ra_pages() ? f.ra_pages() : 4;
    in.has_page_mkwrite = f.page_mkwrite();
    in.has_launder_page = f.launder_page();
    in.driver_nopage = DriverNopage(f.driver_nopage());
    in.i_data.max_folio_order = k.cfg.era >= mm::Era::Linux6 ? uint8_t(f.folio_order()) : 0;
    static_assert(int(ShmemHuge::Always) == File::SHMEM_HUGE_ALWAYS &&
                  int(ShmemHuge::WithinSize) == File::SHMEM_HUGE_WITHIN_SIZE);
    in.info.huge = k.cfg.era >= mm::Era::Linux6 ? ShmemHuge(f.shmem_huge()) : ShmemHuge::Never;
    in.name = f.name().c_str();
    k.era->get_inode[size_t(in.kind)](&in);
    in.i_mutex.set_obj({sim::ObjKind::IMutex, i, 0});
    in.i_alloc_sem.set_obj({sim::ObjKind::IAllocSem, i, 0});
    in.i_data.tree_lock.set_obj({sim::ObjKind::TreeLock, i, 0});
    in.i_data.i_mmap_lock.set_obj({sim::ObjKind::IMmapLock, i, 0});
    in.info.lock.set_obj({sim::ObjKind::InfoLock, i, 0});
    in.i_mmap_sem.set_obj({sim::ObjKind::IMmapSem, i, 0});
    in.i_data.invalidate_lock.set_obj({sim::ObjKind::InvalidateLock, i, 0});
    in.i_lock.set_obj({sim::ObjKind::ILock, i, 0});
    in.falloc_waitq.set_obj({sim::ObjKind::FallocWaitq, i, 0});
    in.i_block.fill(kNoBlock);
    uint8_t contents[kMaxFileBytes] = {};
    std::memcpy(contents, f.contents().data(), std::min<size_t>(f.contents().size(), size_t(f.size())));
    const uint64_t pages = (f.size() + PAGE_SIZE - 1) / PAGE_SIZE;
    if (in.kind == FileKind::Shmem) {
      // tmpfs keeps its data in the page cache: written long ago, so dirty.
      for (uint64_t idx = 0; idx < pages; ++idx) setup_cache_page(in, idx, contents, true);
      if (pages) in.info.flags |= SHMEM_PAGEIN;
      in.info.next_index = pages;
      in.info.alloced = pages;
    } else {
      // Written long ago: every page inside i_size has its block.
      for (uint64_t idx = 0; idx < pages; ++idx)
        bdev_write(blockfs_get_block(&in, pgoff_t(idx), true), 0, contents + idx * PAGE_SIZE, PAGE_SIZE);
      for (uint32_t idx : f.cached_pages())
        if (!in.i_mapping->page_tree.slots[idx]) setup_cache_page(in, idx, contents, false);
    }
    checks::init_oracle(c, i, contents, in.i_size);
  }
  k.nmms = uint32_t(s.processes_size());
  for (uint32_t i = 0; i < k.nmms; ++i) {
    mm_struct& mm = k.mms[i];
    mm.id = i;
    mm.mmap_sem.set_obj({sim::ObjKind::MmapSem, i, 0});
    mm.page_table_lock.set_obj({sim::ObjKind::Ptl, i, 0});
  }
}

struct SetupArgs {
  const Schedule* s;
  std::string error;
  OpOutput out;
};

// The processes' initial mappings are made by real mmap() calls in a setup
// run before the recorded run starts.
void setup_task(void* arg) {
  auto& a = *static_cast<SetupArgs*>(arg);
  mm::Kernel& k = kernel();
  OpOutput& out = a.out;
  for (int i = 0; i < a.s->processes_size() && a.error.empty(); ++i) {
    current().mm = &k.mms[i];
    for (int j = 0; j < a.s->processes(i).mappings_size(); ++j) {
      Syscall c;
      *c.mutable_mmap() = a.s->processes(i).mappings(j);
      do_syscall(syscall_kind(c)->to_op(c), &out);
      if (out.ret < 0) {
        a.error = fmt::format("processes[{}].mappings[{}]: mmap failed: {}", i, j, result_name(out.ret));
        break;
      }
    }
  }
}

const char* const kTaskNames[] = {"task0", "task1", "task2", "task3", "task4", "task5", "task6", "task7"};

Outcome invalid(std::string message) {
  Outcome out;
  out.kind = OutcomeKind::InvalidSchedule;
  out.report = message + "\n";
  out.signature = "invalid-schedule";
  return out;
}

}  // namespace

struct Runner::Impl {
  sim::Sim sim{kStackBytes};
  std::vector<std::byte> arena_buffer = std::vector<std::byte>(kArenaBytes);
};

Runner::Runner() : impl_(std::make_unique<Impl>()) { mm::install_oops_handler(); }
Runner::~Runner() = default;

const std::vector<sim::Event>& Runner::events() const { return impl_->sim.events(); }

Outcome Runner::run(const Schedule& s, sim::Strategy& strategy, const RunOptions& options) {
  if (auto err = validate_schedule(s)) return invalid(*err);
  std::string kernel_error;
  std::optional<KernelConfig> cfg = options.kernel ? options.kernel : schedule_kernel(s, &kernel_error);
  if (!cfg) return invalid(kernel_error);

  sim::Sim& sim = impl_->sim;
  // Every piece of per-run state lives in the arena and goes with it.
  std::pmr::monotonic_buffer_resource arena(impl_->arena_buffer.data(), impl_->arena_buffer.size(),
                                            std::pmr::new_delete_resource());
  std::pmr::polymorphic_allocator<std::byte> alloc(&arena);
  auto* k = alloc.new_object<mm::Kernel>();
  // Default-initialised, not zeroed: init_oracle fills what the run uses.
  auto* c = new (alloc.allocate_object<checks::Checks>()) checks::Checks;
  struct Cleanup {
    std::pmr::polymorphic_allocator<std::byte>& alloc;
    mm::Kernel* k;
    checks::Checks* c;
    ~Cleanup() {
      set_kernel(nullptr);
      alloc.delete_object(c);
      alloc.delete_object(k);
    }
  } cleanup{alloc, k, c};
  set_kernel(k);
  k->sim = &sim;
  k->cfg = *cfg;
  k->era = &era_ops(cfg->era);
  k->checks = c;
  k->tracer = c;
  c->kernel = k;
  build_files(*k, *c, s);

  const sim::RunLimits limits{s.limits().max_steps() ? s.limits().max_steps() : ScheduleLimits::kDefaultSteps,
                              s.limits().max_retries() ? s.limits().max_retries() : ScheduleLimits::kDefaultRetries};
  {
    sim::DefaultStrategy setup_strategy;
    auto* setup = alloc.new_object<SetupArgs>(SetupArgs{&s, {}, {}});
    // The schedule's limits are for its tasks; setting up is bounded by itself.
    sim.reset(setup_strategy, sim::RunLimits{ScheduleLimits::kDefaultSteps, ScheduleLimits::kDefaultRetries});
    sim.spawn("setup", setup_task, setup);
    const sim::Stop& stop = sim.run();
    std::string error = setup->error;
    alloc.delete_object(setup);
    if (stop.kind != sim::StopKind::Finished)
      return invalid(fmt::format("processes: setting up the mappings failed: {}", stop.signature));
    if (!error.empty()) return invalid(error);
  }

  for (const Fault& f : s.faults())
    k->faults.rules[k->faults.nrules++] = {fault_kind(f.kind()), std::max(f.nth(), 1u), std::max(f.count(), 1u)};
  k->faults.calls = {};

  const uint32_t ntasks = uint32_t(s.tasks_size());
  std::pmr::vector<UserTask> tasks(ntasks, &arena);
  std::pmr::vector<std::pmr::vector<Op>> ops(&arena);
  std::pmr::vector<OpOutput*> outputs(&arena);
  sim.reset(strategy, limits);
  sim.set_record_calls(options.keep_trace);
  sim.set_step_hook(checks::on_step, c);
  for (uint32_t t = 0; t < ntasks; ++t) {
    const Task& task = s.tasks(int(t));
    auto& task_ops = ops.emplace_back();
    for (const Syscall& call : task.syscalls()) task_ops.push_back(syscall_kind(call)->to_op(call));
    auto* out = static_cast<OpOutput*>(
        arena.allocate(sizeof(OpOutput) * std::max<size_t>(task_ops.size(), 1), alignof(OpOutput)));
    outputs.push_back(out);
    tasks[t] = UserTask{sim::TaskId(t), &k->mms[task.process()], task_ops, out, task.repeat()};
    sim.spawn(task.name().empty() ? kTaskNames[t] : task.name().c_str(), user_task_main, &tasks[t]);
    // An NFS revalidation stands for the server's change of the file, which
    // no loop in user space can repeat at will: such a task's loop starves no one.
    const bool user_loop = std::none_of(task.syscalls().begin(), task.syscalls().end(),
                                        [](const Syscall& call) { return call.has_revalidate(); });
    if (task.repeat() && !task_ops.empty() && user_loop) sim.set_repeating(sim::TaskId(t));
  }
  k->io_wait.spawn_waiter(sim, "end_io", end_io_task, nullptr, "end_io:idle");
  sim.set_periodic(k->pdflush_wait.spawn_waiter(sim, "pdflush", pdflush, nullptr, "pdflush:idle"));

  const sim::Stop& stop = sim.run();
  Outcome out;
  out.kernel = describe_config(*cfg);
  switch (stop.kind) {
    case sim::StopKind::Finished: out.kind = OutcomeKind::Ok; break;
    case sim::StopKind::Violation: out.kind = OutcomeKind::Violation; break;
    case sim::StopKind::Deadlock: out.kind = OutcomeKind::Deadlock; break;
    case sim::StopKind::Livelock: out.kind = OutcomeKind::Livelock; break;
    case sim::StopKind::StepLimit: out.kind = OutcomeKind::StepLimit; break;
    case sim::StopKind::Exhausted: out.kind = OutcomeKind::Exhausted; return out;
  }
  out.report = stop.report;
  out.signature = stop.signature;
  if (stop.kind == sim::StopKind::Finished) {
    if (auto f = checks::check_end_of_run(*c)) {
      out.kind = OutcomeKind::Violation;
      out.report =
          fmt::format("------------[ cut here ]------------\n{}\nkernel: {}\n{}", f->title, out.kernel, f->body);
      out.signature = f->signature;
    }
  }
  if (options.trace_hash) out.trace_hash = sim.trace_hash();
  out.steps = sim.steps();
  out.decisions = sim.decisions();
  if (options.keep_trace) out.trace = sim.events();
  if (options.keep_trace || options.keep_results)
    for (uint32_t t = 0; t < sim.ntasks(); ++t) out.task_names.emplace_back(sim.task_name(sim::TaskId(t)));
  if (options.keep_results) {
    // Syscalls that never ran (the run stopped first) are left out.
    std::vector<uint32_t> done(ntasks, 0);
    for (const sim::Event& e : sim.events())
      if (e.kind == sim::EventKind::SyscallEnd && e.task < ntasks) ++done[e.task];
    out.results.resize(ntasks);
    for (uint32_t t = 0; t < ntasks; ++t)
      for (uint32_t i = 0; i < std::min<uint32_t>(done[t], uint32_t(tasks[t].ops.size())); ++i) {
        const OpOutput& o = outputs[t][i];
        out.results[t].push_back({o.ret, std::vector<uint8_t>(o.data, o.data + o.ndata)});
      }
  }
  return out;
}

Outcome run(const Schedule& s, sim::Strategy& strategy, const RunOptions& options) {
  thread_local Runner runner;
  return runner.run(s, strategy, options);
}

Outcome replay(const Schedule& s, const RunOptions& options) {
  sim::ReplayStrategy strategy = replay_strategy(s);
  Outcome out = run(s, strategy, options);
  out.ignored_decisions = strategy.ignored();
  return out;
}

}  // namespace faultline
