// The runtime on its own: primitives keep kernel semantics, and the runtime
// detects deadlock, runaway runs, livelock and lock misuse.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vmcore/sim/locks.h"
#include "vmcore/sim/random_strategy.h"
#include "vmcore/sim/replay_strategy.h"
#include "vmcore/sim/sim.h"

namespace faultline::sim {
namespace {

// Switches to the next runnable task (cyclically) at every schedule point.
class RoundRobin final : public Strategy {
 public:
  bool begin_execution(const ExecutionInfo& info) override {
    n_ = info.ntasks;
    return true;
  }
  TaskId pick_next(const SchedPoint& p) override {
    for (uint32_t i = 1; i <= n_; ++i) {
      const TaskId t = TaskId((p.current == kNoTask ? n_ - 1 + i : p.current + i) % n_);
      if (p.runnable & task_bit(t)) return t;
    }
    return default_choice(p);
  }
  uint64_t random_u64() override { return 0; }

 private:
  uint32_t n_ = 0;
};

constexpr Label kWork = "test:work";

void work() { current_sim().point(kWork, Obj{ObjKind::TestLock, 9, 9}, Access::Write); }

// Runs the bodies as tasks of one Sim.
class Tasks {
 public:
  void add(std::function<void()> body) { bodies_.push_back(std::make_unique<std::function<void()>>(std::move(body))); }
  const Stop& run(Strategy& strategy, RunLimits limits = {}) {
    sim_.reset(strategy, limits);
    for (size_t i = 0; i < bodies_.size(); ++i)
      sim_.spawn(
          "t", [](void* f) { (*static_cast<std::function<void()>*>(f))(); }, bodies_[i].get());
    return sim_.run();
  }
  Sim& sim() { return sim_; }

 private:
  Sim sim_{64 * 1024};
  std::vector<std::unique_ptr<std::function<void()>>> bodies_;
};

TEST(SpinLock, GivesMutualExclusionUnderEveryRandomInterleaving) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SpinLock lock(Obj{ObjKind::TestLock, 1, 0});
    int counter = 0, inside = 0, max_inside = 0;
    Tasks tasks;
    for (int t = 0; t < 3; ++t)
      tasks.add([&] {
        for (int i = 0; i < 10; ++i) {
          lock.lock("test:lock");
          max_inside = std::max(max_inside, ++inside);
          const int seen = counter;
          work();
          counter = seen + 1;
          --inside;
          lock.unlock("test:unlock");
        }
      });
    RandomStrategy random(seed);
    ASSERT_EQ(tasks.run(random).kind, StopKind::Finished);
    EXPECT_EQ(counter, 30) << "seed " << seed;
    EXPECT_EQ(max_inside, 1) << "seed " << seed;
  }
}

// The companion of the test above: without the lock the same interleavings do
// lose updates, so the schedule points really interleave the tasks.
TEST(SpinLock, WithoutTheLockRandomInterleavingsLoseUpdates) {
  int lost = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    int counter = 0;
    Tasks tasks;
    for (int t = 0; t < 3; ++t)
      tasks.add([&] {
        for (int i = 0; i < 10; ++i) {
          const int seen = counter;
          work();
          counter = seen + 1;
        }
      });
    RandomStrategy random(seed);
    tasks.run(random);
    lost += counter < 30;
  }
  EXPECT_GT(lost, 0);
}

TEST(Mutex, WakesWaitersInFifoOrder) {
  Mutex m(Obj{ObjKind::TestLock, 2, 0});
  std::vector<int> order;
  Tasks tasks;
  tasks.add([&] {
    m.lock("test:lock");
    for (int i = 0; i < 6; ++i) work();  // tasks 1..3 queue meanwhile
    m.unlock("test:unlock");
  });
  for (int t = 1; t <= 3; ++t)
    tasks.add([&, t] {
      m.lock("test:lock");
      order.push_back(t);
      m.unlock("test:unlock");
    });
  RoundRobin rr;
  ASSERT_EQ(tasks.run(rr).kind, StopKind::Finished);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(RwSemaphore, ReaderQueuesBehindAWaitingWriter) {
  RwSemaphore sem(Obj{ObjKind::TestLock, 3, 0});
  std::vector<std::string> order;
  Tasks tasks;
  tasks.add([&] {
    sem.down_read("test:down_read");
    order.push_back("r0");
    for (int i = 0; i < 6; ++i) work();
    sem.up_read("test:up_read");
  });
  tasks.add([&] {
    sem.down_write("test:down_write");  // queues: a reader holds the lock
    order.push_back("w1");
    sem.up_write("test:up_write");
  });
  tasks.add([&] {
    work();                           // let the writer queue first
    sem.down_read("test:down_read");  // must not share with r0 past the writer
    order.push_back("r2");
    sem.up_read("test:up_read");
  });
  RoundRobin rr;
  ASSERT_EQ(tasks.run(rr).kind, StopKind::Finished);
  EXPECT_EQ(order, (std::vector<std::string>{"r0", "w1", "r2"}));
}

TEST(RwSemaphore, ReleaseGrantsEveryReaderAtTheHeadAtOnce) {
  RwSemaphore sem(Obj{ObjKind::TestLock, 4, 0});
  int readers_together = 0, readers = 0;
  std::vector<std::string> order;
  Tasks tasks;
  tasks.add([&] {
    sem.down_write("test:down_write");
    for (int i = 0; i < 8; ++i) work();
    sem.up_write("test:up_write");
  });
  for (int t = 1; t <= 2; ++t)
    tasks.add([&, t] {
      sem.down_read("test:down_read");
      order.push_back("r" + std::to_string(t));
      readers_together = std::max(readers_together, ++readers);
      work();
      work();
      --readers;
      sem.up_read("test:up_read");
    });
  tasks.add([&] {
    sem.down_write("test:down_write");
    order.push_back("w3");
    EXPECT_EQ(readers, 0);
    sem.up_write("test:up_write");
  });
  tasks.add([&] {
    sem.down_read("test:down_read");
    order.push_back("r4");
    sem.up_read("test:up_read");
  });
  RoundRobin rr;
  ASSERT_EQ(tasks.run(rr).kind, StopKind::Finished);
  EXPECT_EQ(readers_together, 2);
  EXPECT_EQ(order, (std::vector<std::string>{"r1", "r2", "w3", "r4"}));
}

TEST(BitLock, UnlockWakesOneExclusiveWaiterAndEveryPlainWaiter) {
  BitLock page_lock(Obj{ObjKind::PageLock, 0, 7});
  std::vector<std::string> order;
  Tasks tasks;
  tasks.add([&] {
    page_lock.lock("test:lock_page");
    for (int i = 0; i < 6; ++i) work();  // tasks 1, 2 and 3 queue meanwhile
    order.push_back("unlock0");
    page_lock.unlock("test:unlock_page0");
  });
  for (int t = 1; t <= 2; ++t)
    tasks.add([&, t] {
      page_lock.lock("test:lock_page");
      order.push_back("lock" + std::to_string(t));
      work();
      page_lock.unlock("test:unlock_page");
    });
  tasks.add([&] {
    page_lock.wait_until_clear("test:wait_on_page_locked");
    EXPECT_FALSE(page_lock.test());  // returns only once it saw the bit clear
    order.push_back("waited");
  });
  RoundRobin rr;
  ASSERT_EQ(tasks.run(rr).kind, StopKind::Finished);
  // The first unlock wakes the plain waiter (task 3) and the first exclusive
  // waiter (task 1), not task 2.
  std::vector<TaskId> woken;
  for (const Event& e : tasks.sim().events()) {
    if (e.kind == EventKind::Wake) woken.push_back(e.task);
    if (e.kind == EventKind::Release && std::string(e.label.name) == "test:unlock_page0") break;
  }
  EXPECT_EQ(woken, (std::vector<TaskId>{3, 1}));
  // Exclusive waiters get the lock in queue order; the plain waiter, woken
  // while task 1 had relocked the page, sleeps again until it is clear.
  EXPECT_EQ(order, (std::vector<std::string>{"unlock0", "lock1", "lock2", "waited"}));
}

// Two tasks taking a and b in opposite orders.
void add_abba(Tasks& tasks, Mutex& a, Mutex& b) {
  tasks.add([&] {
    a.lock("test:lock_a");
    work();
    b.lock("test:lock_b");
  });
  tasks.add([&] {
    b.lock("test:lock_b");
    work();
    a.lock("test:lock_a");
  });
}

TEST(Detection, AbbaDeadlockIsReportedWithWaitersAndHolders) {
  Mutex a(Obj{ObjKind::TestLock, 10, 0}), b(Obj{ObjKind::TestLock, 11, 0});
  Tasks tasks;
  add_abba(tasks, a, b);
  RoundRobin rr;
  const Stop& stop = tasks.run(rr);
  ASSERT_EQ(stop.kind, StopKind::Deadlock);
  EXPECT_EQ(stop.signature, "deadlock:lock");
  EXPECT_NE(stop.report.find("task 0 (t) waits in test:lock_b for lock 11.0, held by task 1"), std::string::npos)
      << stop.report;
  EXPECT_NE(stop.report.find("task 1 (t) waits in test:lock_a for lock 10.0, held by task 0"), std::string::npos)
      << stop.report;
}

TEST(Detection, DeadlockSignatureNamesTheCycleNotTheTasksQueuedBehindIt) {
  // The cycle waits on test locks only; the bystander waits on an i_mutex.
  Mutex a(Obj{ObjKind::TestLock, 10, 0}), b(Obj{ObjKind::TestLock, 11, 0});
  Mutex c(Obj{ObjKind::IMutex, 0, 0});
  Tasks tasks;
  add_abba(tasks, a, b);
  tasks.add([&] {
    c.lock("test:bystander_c");
    work();
    a.lock("test:bystander");
  });
  tasks.add([&] {
    work();
    work();
    c.lock("test:queued_on_bystander");
  });
  RoundRobin rr;
  const Stop& stop = tasks.run(rr);
  ASSERT_EQ(stop.kind, StopKind::Deadlock);
  EXPECT_EQ(stop.signature, "deadlock:lock");
  // The report still lists every blocked task.
  EXPECT_NE(stop.report.find("task 2 (t) waits in test:bystander"), std::string::npos) << stop.report;
  EXPECT_NE(stop.report.find("task 3 (t) waits in test:queued_on_bystander"), std::string::npos) << stop.report;
}

TEST(Detection, RunawayRunStopsAtTheStepLimit) {
  Tasks tasks;
  tasks.add([] {
    for (;;) work();
  });
  DefaultStrategy d;
  const Stop& stop = tasks.run(d, RunLimits{1000, 256});
  EXPECT_EQ(stop.kind, StopKind::StepLimit);
  EXPECT_EQ(tasks.sim().steps(), 1000u);
}

TEST(Detection, EndlessRetryIsALivelock) {
  Tasks tasks;
  tasks.add([] {
    for (;;) {
      work();
      current_sim().retry("test:retry");
    }
  });
  DefaultStrategy d;
  const Stop& stop = tasks.run(d, RunLimits{100000, 50});
  EXPECT_EQ(stop.kind, StopKind::Livelock);
  EXPECT_EQ(stop.signature, "livelock:test:retry");
}

TEST(Fairness, AStarvedRetryLoopGetsToFinishItsCall) {
  // Task 1 undoes task 0's progress at every point; round-robin gives it the
  // chance each time. After kFairRetries retries task 0 runs unpreempted.
  int version = 0, retries = 0;
  bool done = false;
  Tasks tasks;
  tasks.add([&] {
    for (;;) {
      const int seen = version;
      work();
      if (seen == version) break;
      ++retries;
      current_sim().retry("test:retry");
    }
    done = true;
  });
  tasks.add([&] {
    while (!done) {
      ++version;
      work();
    }
  });
  RoundRobin rr;
  const Stop& stop = tasks.run(rr, RunLimits{100000, 256});
  EXPECT_EQ(stop.kind, StopKind::Finished) << stop.report;
  EXPECT_EQ(retries, int(Sim::kFairRetries));
}

TEST(ReplayStrategy, APeriodicLabelDecisionFiresAtItsHitAndEveryPeriodAfter) {
  // Task 0 reaches test:work ten times; at its 3rd, 5th, 7th and 9th hit it
  // gives way to task 1, which gives way back at each of its own points.
  std::vector<int> order;
  Tasks tasks;
  for (int t = 0; t < 2; ++t)
    tasks.add([&order, t] {
      for (int i = 0; i < 10; ++i) {
        work();
        order.push_back(t);
      }
    });
  ScheduledSwitch there{.task = 1, .by_label = true, .at_task = 0, .label = kWork.name, .hit = 3, .every = 2};
  ScheduledSwitch back{.task = 0, .by_label = true, .at_task = 1, .label = kWork.name, .hit = 1, .every = 1};
  ReplayStrategy replay({there, back}, 0);
  ASSERT_EQ(tasks.run(replay).kind, StopKind::Finished);
  // A switch happens at a point, before the step after it: task 1 gives way
  // at once at its first point (its hit 1), then after one step each time.
  EXPECT_EQ(order, (std::vector<int>{0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(Detection, UnlockOfAnUnheldMutexIsMisuse) {
  Mutex m(Obj{ObjKind::TestLock, 12, 0});
  Tasks tasks;
  tasks.add([&] { m.unlock("test:unlock"); });
  DefaultStrategy d;
  const Stop& stop = tasks.run(d);
  EXPECT_EQ(stop.kind, StopKind::Violation);
  EXPECT_EQ(stop.signature, "lock-misuse:mutex_unlock of a mutex not held:test:unlock");
}

TEST(Detection, SleepingUnderASpinlockIsMisuse) {
  SpinLock s(Obj{ObjKind::TestLock, 13, 0});
  Mutex m(Obj{ObjKind::TestLock, 14, 0});
  Tasks tasks;
  tasks.add([&] {
    s.lock("test:spin_lock");
    m.lock("test:mutex_lock");
  });
  DefaultStrategy d;
  const Stop& stop = tasks.run(d);
  EXPECT_EQ(stop.kind, StopKind::Violation);
  EXPECT_EQ(stop.signature, "sleep-in-atomic:test:mutex_lock");
}

TEST(Detection, ExitingWithALockHeldIsMisuse) {
  Mutex m(Obj{ObjKind::TestLock, 15, 0});
  Tasks tasks;
  tasks.add([&] { m.lock("test:lock"); });
  DefaultStrategy d;
  const Stop& stop = tasks.run(d);
  EXPECT_EQ(stop.kind, StopKind::Violation);
  EXPECT_EQ(stop.signature, "lock-held-at-exit:lock");
}

TEST(Determinism, SameSeedSameTraceDifferentSeedDifferentTrace) {
  auto hash_for = [](uint64_t seed) {
    SpinLock lock(Obj{ObjKind::TestLock, 1, 0});
    int counter = 0;
    Tasks tasks;
    for (int t = 0; t < 3; ++t)
      tasks.add([&] {
        for (int i = 0; i < 5; ++i) {
          lock.lock("test:lock");
          ++counter;
          work();
          lock.unlock("test:unlock");
        }
      });
    RandomStrategy random(seed);
    tasks.run(random);
    return tasks.sim().trace_hash();
  };
  EXPECT_EQ(hash_for(7), hash_for(7));
  EXPECT_NE(hash_for(7), hash_for(8));
}

}  // namespace
}  // namespace faultline::sim
