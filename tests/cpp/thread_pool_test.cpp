// thread_pool_test: the pool behind par::for_blocks and par::for_chunks runs every unit once,
// never gives two running threads the same participant index, does not deadlock however short
// the loops, runs nested loops serially and carries an exception out (sim/core/thread_pool.hpp).
#include "sim/core/thread_pool.hpp"  // par::run_units, par::in_pool_loop
#include "sim/core/parallel.hpp"     // par::for_blocks, par::n_blocks, par::n_threads

#include <time.h>  // clock_gettime, CLOCK_THREAD_CPUTIME_ID

#include <catch2/catch.hpp>

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads

#include <atomic>      // std::atomic
#include <chrono>      // std::chrono::steady_clock
#include <functional>  // std::function
#include <stdexcept>   // std::runtime_error
#include <thread>      // std::this_thread::yield
#include <vector>      // std::vector

using namespace childsim;

namespace {

// Sets the thread count for a test and restores it after.
struct Threads {
  explicit Threads(int n) : saved(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(saved); }
  int saved;
};

struct Tally {
  std::vector<std::atomic<int>> runs;    // by unit
  std::vector<std::atomic<int>> in_use;  // by participant: threads inside right now
  std::atomic<int> overlaps{0}, bad_index{0};
  std::size_t participants;
  Tally(std::size_t units, std::size_t participants_)
      : runs(units), in_use(participants_), participants(participants_) {}
  static void unit(void* self, std::size_t participant, std::size_t u) {
    auto& t = *static_cast<Tally*>(self);
    if (participant >= t.participants) {
      t.bad_index += 1;
      return;
    }
    if (t.in_use[participant].fetch_add(1) != 0) t.overlaps += 1;
    volatile double x = 0;  // a little work, so that threads overlap
    for (int k = 0; k < 200; ++k) x = x + k;
    t.runs[u] += 1;
    t.in_use[participant] -= 1;
  }
};

}  // namespace

TEST_CASE("thread pool, every unit runs exactly once and participants never share an index",
          "[parallel][pool]") {
  const Threads threads(4);
  for (const std::size_t units :
       {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{500}}) {
    for (const std::size_t participants : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
      INFO(units << " units, " << participants << " participants");
      Tally t(units, participants);
      par::run_units(units, participants, &Tally::unit, &t);
      int wrong = 0;
      for (auto& r : t.runs) wrong += r.load() != 1;
      CHECK(wrong == 0);
      CHECK(t.overlaps == 0);
      CHECK(t.bad_index == 0);
    }
  }
}

TEST_CASE("thread pool, a hundred thousand tiny loops in a row all finish", "[parallel][pool]") {
  // The loops of a month follow each other within microseconds: a helper that is still leaving
  // one loop when the next is published must neither run a unit twice nor miss the loop.
  const Threads threads(2);
  std::vector<int> hits(3, 0);
  long total = 0;
  for (int loop = 0; loop < 100000; ++loop) {
    std::fill(hits.begin(), hits.end(), 0);
    par::for_blocks(3, 3, [&](std::size_t b, std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) hits[i] += static_cast<int>(b + 1);
    });
    total += hits[0] + hits[1] + hits[2];
  }
  CHECK(total == 100000L * (1 + 2 + 3));
}

TEST_CASE("thread pool, a loop inside a unit runs serially on its thread", "[parallel][pool]") {
  const Threads threads(2);
  REQUIRE(par::n_threads() == 2);
  REQUIRE(par::n_blocks() == 2 * par::blocks_per_thread);
  // Counted in the units and checked after the loop: Catch2's assertions are not to be made
  // from other threads (ThreadSanitizer reports them).
  std::atomic<int> nested_threads{0}, nested_rows{0}, outside_loop{0}, not_thread_0{0};
  par::for_blocks(64, 8, [&](std::size_t, std::size_t, std::size_t) {
    if (!par::in_pool_loop()) outside_loop += 1;
    nested_threads += static_cast<int>(par::n_threads());  // 1 inside a unit
    par::for_chunks(3 * par::chunk_rows, 2,
                    [&](std::size_t thread, std::size_t, std::size_t begin, std::size_t end) {
                      if (thread != 0) not_thread_0 += 1;
                      nested_rows += static_cast<int>(end - begin);
                    });
  });
  CHECK_FALSE(par::in_pool_loop());
  CHECK(outside_loop == 0);
  CHECK(not_thread_0 == 0);
  CHECK(nested_threads == 8);
  CHECK(nested_rows == 8 * 3 * static_cast<int>(par::chunk_rows));
}

TEST_CASE("thread pool, an exception in a unit reaches the caller and the pool goes on",
          "[parallel][pool]") {
  const Threads threads(2);
  std::atomic<int> ran{0};
  CHECK_THROWS_AS(par::for_blocks(1000, 16,
                                  [&](std::size_t b, std::size_t, std::size_t) {
                                    ran += 1;
                                    if (b == 0) throw std::runtime_error("unit 0 failed");
                                  }),
                  std::runtime_error);
  CHECK(ran == 16);  // the other units still ran: the loop finished before the rethrow
  std::atomic<int> after{0};
  par::for_blocks(1000, 16, [&](std::size_t, std::size_t begin, std::size_t end) {
    after += static_cast<int>(end - begin);
  });
  CHECK(after == 1000);
}

TEST_CASE("thread pool, a helper is tried again only when another process leaves a core free",
          "[parallel][pool]") {
  // 2 cores, the caller running (ours = 1): a CPU-bound process alongside (2 runnable)
  // leaves no core for a helper; nothing else running does.
  CHECK_FALSE(par::core_free_for_helper(2, 1, 2));
  CHECK(par::core_free_for_helper(1, 1, 2));
  // A helper still spinning counts as ours, not as another process.
  CHECK(par::core_free_for_helper(2, 2, 2));
  CHECK_FALSE(par::core_free_for_helper(3, 2, 2));
  // More cores: two other processes on 4 cores leave two (the caller's and a helper's).
  CHECK(par::core_free_for_helper(3, 1, 4));
  CHECK_FALSE(par::core_free_for_helper(4, 1, 4));
  // One core: never.
  CHECK_FALSE(par::core_free_for_helper(1, 1, 1));
  // Unknown (no /proc/loadavg): the loops find out, as before.
  CHECK(par::core_free_for_helper(-1, 1, 2));
}

TEST_CASE("thread pool, a caller that got less than most of a core counts as preempted",
          "[parallel][pool]") {
  // A quiet machine: the caller ran (or spun waiting for a unit) the whole window.
  CHECK_FALSE(par::caller_preempted(0.020, 0.020));
  CHECK_FALSE(par::caller_preempted(0.019, 0.020));
  // Three runnable threads on two cores: about two thirds of a core.
  CHECK(par::caller_preempted(0.0135, 0.020));
  // The threshold itself, on either side.
  CHECK(par::caller_preempted(0.99 * par::min_caller_share * 0.020, 0.020));
  CHECK_FALSE(par::caller_preempted(1.01 * par::min_caller_share * 0.020, 0.020));
  // Unknown CPU time or an empty window: not preempted (the stalls decide).
  CHECK_FALSE(par::caller_preempted(-1.0, 0.020));
  CHECK_FALSE(par::caller_preempted(0.0, 0.0));
}

TEST_CASE(
    "thread pool, threads kept waiting for a core a tenth of the time or more count as "
    "waiting",
    "[parallel][pool]") {
  // A quiet machine: a system thread run for a moment costs our threads almost nothing.
  CHECK_FALSE(par::waited_for_cores(0.0, 0.003));
  CHECK_FALSE(par::waited_for_cores(0.00005, 0.003));
  // Another CPU-bound process beside the caller and a helper on two cores: three threads take
  // turns on two cores, ours wait about two thirds of the time between them.
  CHECK(par::waited_for_cores(0.002, 0.003));
  // The threshold itself, on either side.
  CHECK(par::waited_for_cores(1.01 * par::max_quiet_wait_share * 0.003, 0.003));
  CHECK_FALSE(par::waited_for_cores(0.99 * par::max_quiet_wait_share * 0.003, 0.003));
  // Unknown (no schedstat) or an empty interval: waiting, so that /proc/loadavg decides alone.
  CHECK(par::waited_for_cores(-1.0, 0.003));
  CHECK(par::waited_for_cores(0.0, 0.0));
}

namespace {

// A loop of 10 units on 2 participants. The caller waits in its first unit until the helper
// has started one (or 10 s), and unit 5 waits until the other 9 have run (or 10 s): the order
// in which the helper ran its units.
struct Shares {
  std::vector<std::size_t> helper_order;
  std::atomic<int> others_done{0};
  std::atomic<bool> helper_started{false}, caller_started{false};
  static void wait_for(const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  }
  static void unit(void* self, std::size_t participant, std::size_t u) {
    auto& s = *static_cast<Shares*>(self);
    if (participant == 1) {
      // The helper's first unit waits until the caller has claimed its own first unit: a
      // caller kept off its core right after opening the loop (a busy machine, a slow return
      // from waking the helper) once found the helper had run every other unit and its
      // unit 5 too.
      if (s.helper_order.empty()) wait_for([&] { return s.caller_started.load(); });
      s.helper_order.push_back(u);  // the helper only writes it
      s.helper_started = true;
    } else {
      s.caller_started = true;
      wait_for([&] { return s.helper_started.load(); });
    }
    if (u == 5) {
      wait_for([&] { return s.others_done.load() >= 9; });
      return;
    }
    s.others_done += 1;
  }
};

}  // namespace

TEST_CASE("thread pool, each thread runs its own share of the units first", "[parallel][pool]") {
  // The caller's share is units 5-9, the helper's 0-4. With the caller held in unit 5, the
  // helper runs its own share in order, then the caller's remaining units from the end. (With
  // one counter shared by both, the helper would have run its units in increasing order.)
  const Threads threads(2);
  Shares s;
  par::run_units(10, 2, &Shares::unit, &s);
  REQUIRE(s.others_done == 9);
  if (s.helper_order.empty()) {
    WARN("the helper never ran a unit in 10 s (a busy machine?): the shares were not seen");
    return;
  }
  CHECK(s.helper_order == std::vector<std::size_t>{0, 1, 2, 3, 4, 9, 8, 7, 6});
}

TEST_CASE(
    "thread pool, a month starts alone while other threads hold every core, unless told never to",
    "[parallel][pool]") {
  // As many CPU-bound threads as the machine has cores: /proc/loadavg shows no core free for
  // a helper, and the caller, working between two month starts, waits for a core, so the
  // next month runs alone (as at 1 thread); with allow_alone(false) it does not (the tests of
  // thread-count identity rely on it).
  const Threads threads(2);
  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  const unsigned n = std::max(2u, std::thread::hardware_concurrency());
  for (unsigned k = 0; k < n; ++k)
    spinners.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all of them running
  par::note_month();
  // A month's work on the caller: 50 ms of CPU time, which with every core held takes it
  // longer, waiting for a core a third of the time or more.
  const auto cpu_now = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  };
  for (const double until = cpu_now() + 0.050; cpu_now() < until;) {
  }
  par::note_month();
  const bool alone = par::alone_this_month();
  const std::size_t alone_threads = par::n_threads();
  par::allow_alone(false);
  par::note_month();
  const bool alone_when_never = par::alone_this_month();
  const std::size_t never_threads = par::n_threads();
  par::allow_alone(true);
  stop = true;
  for (std::thread& t : spinners) t.join();
  CHECK(alone);
  CHECK(alone_threads == 1);
  CHECK_FALSE(alone_when_never);
  CHECK(never_threads == 2);
}

namespace {

// Waits up to `limit` for flag to be set; whether it was.
bool wait_for(const std::atomic<bool>& flag, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!flag.load()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_CASE(
    "thread pool, a job runs beside the caller on a pool thread while the caller's loops go on",
    "[parallel][pool]") {
  const Threads threads(2);
  par::allow_alone(false);  // ctest runs other tests alongside: the helper must not be skipped
  std::atomic<bool> started{false}, release{false};
  std::atomic<int> runs{0};
  std::thread::id job_thread;  // written by the job before `started`
  std::atomic<int> rows{0};
  bool held_during_loops = false, seen = false;
  {
    par::Beside side([&] {
      job_thread = std::this_thread::get_id();
      runs += 1;
      started = true;
      wait_for(release, std::chrono::seconds(20));  // held until the caller's loops are done
    });
    // A job run on the caller (at construction) would hold it here for 20 s and then fail the
    // checks of the thread below.
    seen = wait_for(started, std::chrono::seconds(10));
    for (int k = 0; k < 50; ++k)
      par::for_blocks(1000, 8, [&](std::size_t, std::size_t begin, std::size_t end) {
        rows += static_cast<int>(end - begin);
      });
    held_during_loops = !release.load();
    release = true;
    side.wait();
    CHECK(runs == 1);
    side.wait();  // a second wait does not run it again
  }
  par::allow_alone(true);
  CHECK(runs == 1);
  CHECK(rows == 50 * 1000);  // every unit ran, without the helper held by the job
  // A pool thread that looks for work takes the job: 10 s is ample even on a busy machine.
  CHECK(seen);
  CHECK(held_during_loops);
  CHECK(job_thread != std::this_thread::get_id());
}

TEST_CASE("thread pool, a job runs on the caller at wait() at 1 thread and inside a unit",
          "[parallel][pool]") {
  std::vector<int> order;  // the caller's steps and the job's, in the order they ran
  {
    const Threads threads(1);
    par::Beside side([&] { order.push_back(2); });
    order.push_back(1);
    side.wait();
    order.push_back(3);
  }
  CHECK(order == std::vector<int>{1, 2, 3});
  // Inside a unit of a loop no job is posted: it runs where the unit waits for it.
  const Threads threads(2);
  std::atomic<int> on_own_thread{0}, posted{0};
  par::for_blocks(8, 8, [&](std::size_t, std::size_t, std::size_t) {
    const std::thread::id me = std::this_thread::get_id();
    std::thread::id ran_on;
    par::Beside side([&] { ran_on = std::this_thread::get_id(); });
    side.wait();
    if (ran_on == me) on_own_thread += 1;
    int dummy = 0;
    if (par::start_job([](void*, std::size_t, std::size_t) {}, &dummy)) posted += 1;
  });
  CHECK(on_own_thread == 8);
  CHECK(posted == 0);
}

TEST_CASE("thread pool, a job's exception reaches wait() and the pool goes on",
          "[parallel][pool]") {
  for (const int n : {1, 2}) {
    INFO(n << " threads");
    const Threads threads(n);
    par::allow_alone(false);
    par::Beside failing([] { throw std::runtime_error("job failed"); });
    CHECK_THROWS_AS(failing.wait(), std::runtime_error);
    std::atomic<int> ran{0};
    par::Beside next([&] { ran += 1; });
    std::atomic<int> rows{0};
    par::for_blocks(1000, 16, [&](std::size_t, std::size_t begin, std::size_t end) {
      rows += static_cast<int>(end - begin);
    });
    next.wait();
    par::allow_alone(true);
    CHECK(ran == 1);
    CHECK(rows == 1000);
  }
}

TEST_CASE("thread pool, a started job is waited for when the caller's own steps throw",
          "[parallel][pool]") {
  const Threads threads(2);
  par::allow_alone(false);
  std::atomic<bool> started{false}, finished{false};
  bool seen = false;
  try {
    par::Beside side([&] {
      started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;  // the caller's frame must still be there
    });
    seen = wait_for(started, std::chrono::seconds(10));
    throw std::runtime_error("the caller's step failed");
  } catch (const std::runtime_error&) {
  }
  par::allow_alone(true);
  CHECK(seen);
  CHECK(finished);  // ~Beside waited for it before the frame went
}
