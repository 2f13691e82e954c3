// thread_pool: loops shared by the caller and pool threads that join as they wake.
#include "sim/core/thread_pool.hpp"

#include <fcntl.h>   // open
#include <sched.h>   // sched_getaffinity, CPU_COUNT
#include <time.h>    // clock_gettime, CLOCK_THREAD_CPUTIME_ID
#include <unistd.h>  // read, pread, close

#include <atomic>              // std::atomic
#include <chrono>              // std::chrono::steady_clock
#include <condition_variable>  // std::condition_variable
#include <cstdint>             // std::uint64_t
#include <cstdio>              // std::sscanf
#include <cstdlib>             // std::getenv, std::strtol
#include <exception>           // std::exception_ptr, std::rethrow_exception
#include <mutex>               // std::mutex, std::unique_lock
#include <string_view>         // std::string_view
#include <thread>              // std::thread, std::this_thread::yield
#include <vector>              // std::vector

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // _mm_pause
#endif

namespace childsim::par {
namespace {

// A pause in a spin loop: tells the core (and a hyperthread sibling) that this is a wait.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

thread_local bool tl_in_loop = false;

long read_spin_microseconds() {
  if (const char* text = std::getenv("CHILDSIM_SPIN_US")) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && v >= 0 && v <= 100000) return v;
  }
  return 100;
}

// Whether CHILDSIM_POOL_ALONE=never is set (allow_alone).
bool env_says_never_alone() {
  const char* text = std::getenv("CHILDSIM_POOL_ALONE");
  return text != nullptr && std::string_view(text) == "never";
}

// Threads runnable on the whole machine right now (running or waiting for a core): the first
// number of the fourth field of /proc/loadavg ("3/250"); -1 where it cannot be read.
int runnable_threads() {
  // open/read rather than stdio: it is read between months (note_month), a few microseconds.
  const int fd = ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[128];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  double l1 = 0, l5 = 0, l15 = 0;
  int running = -1, total = 0;
  if (std::sscanf(text, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) != 5) return -1;
  return running;
}

// The calling thread's /proc/<tid>/schedstat, opened to be read again and again (pread: the
// file is made afresh at each read from offset 0); -1 where it cannot be opened.
int open_own_schedstat() {
  return ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
}

// The time the thread of a schedstat file has spent runnable but waiting for a core (its
// second number, run_delay, in nanoseconds); -1 where it cannot be read.
long long run_delay_ns(int fd) {
  if (fd < 0) return -1;
  char text[96];
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return -1;
  text[n] = '\0';
  unsigned long long on_cpu = 0, waited = 0;
  if (std::sscanf(text, "%llu %llu", &on_cpu, &waited) != 2) return -1;
  return static_cast<long long>(waited);
}

// The cores this process may run on (its affinity mask: taskset, cgroup cpusets).
int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return static_cast<int>(std::thread::hardware_concurrency());
  return CPU_COUNT(&set);
}

// CPU time of the calling thread (user + system), seconds; -1 where it cannot be read.
double thread_cpu_seconds() {
  timespec t{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return -1;
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

class Pool {
 public:
  Pool()
      : spin_(std::chrono::microseconds(read_spin_microseconds())),
        allow_alone_(!env_says_never_alone()) {}

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  long spin_us() const { return static_cast<long>(spin_.count()); }

  bool alone_this_month() const { return alone_month_.load(std::memory_order_relaxed); }

  void allow_alone(bool allowed) {
    std::lock_guard<std::mutex> one_loop(run_mutex_);
    allow_alone_ = allowed;
    if (!allowed) {
      alone_month_.store(false, std::memory_order_relaxed);
      serial_left_ = 0;
      stalls_ = 0;
    }
  }

  // Whether the machine has a core free for a helper right now (core_free_for_helper, from
  // /proc/loadavg; the caller and the helpers not asleep are ours).
  bool core_free_now() const {
    return core_free_for_helper(runnable_threads(), 1 + awake_.load(), usable_cores());
  }

  void note_month() {
    std::lock_guard<std::mutex> one_loop(run_mutex_);
    if (!allow_alone_) return;
    const bool waited = waited_since_last_month();
    if (alone_month_.load(std::memory_order_relaxed)) {
      if (!core_free_now()) return;
      alone_month_.store(false, std::memory_order_relaxed);
      serial_left_ = 0;
      window_cpu_ = -1;  // a fresh window from the next loop
    } else if (serial_left_ > 0 || (!core_free_now() && waited)) {
      // The loops went alone lately, or another process holds a core now (it was there when
      // the run started, or came since): found between months, the month costs what it costs
      // at 1 thread, without the stalls or the preempted windows that would find it in a loop.
      // A process that holds a core has kept ours waiting for one, too: on a quiet machine one
      // reading of /proc/loadavg in three to thirty, at the start of a month with both our
      // threads running, showed a thread more than ours (a system thread, runnable for a
      // moment while it waited for a core), and each such month ran alone, at the speed of
      // 1 thread (docs/performance.md, "A month alone by mistake").
      alone_month_.store(true, std::memory_order_relaxed);
      serial_left_ = 0;
    }
  }

  // Whether the caller and the helpers were kept waiting for a core since the last call
  // (waited_for_cores; true when unknown, or at the first call). The caller's schedstat file
  // is opened once per thread, each helper's by the helper as it starts.
  bool waited_since_last_month() {
    thread_local int own = -2;  // -2: not opened yet
    if (own == -2) own = open_own_schedstat();
    long long total = run_delay_ns(own);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const int fd : delay_fds_) {
        const long long d = run_delay_ns(fd);
        total = total < 0 || d < 0 ? -1 : total + d;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    const long long before = last_delay_ns_;
    const std::chrono::duration<double> wall = now - last_delay_at_;
    last_delay_ns_ = total;
    last_delay_at_ = now;
    if (total < 0 || before < 0 || total < before) return true;  // unknown (or a new thread)
    return waited_for_cores(1e-9 * static_cast<double>(total - before), wall.count());
  }

  void run(std::size_t units, std::size_t participants, UnitFn call, void* context) {
    // One loop at a time: a second caller (two replicates run by two OpenMP threads, each
    // with threads inside, never happens in this program, but a library user could) waits.
    std::lock_guard<std::mutex> one_loop(run_mutex_);
    if (serial_left_ > 0) {  // the helpers kept us waiting lately: a busy machine
      // Before the helpers are tried again, a look at the machine: while other processes'
      // runnable threads leave no core for a helper, the caller stays alone for another
      // period. Probing with real loops cost a stall or two (milliseconds) a period.
      if (--serial_left_ == 0 && !core_free_now()) serial_left_ = alone_period;
      run_serially(units, call, context);
      if (serial_left_ == 0) start_window();  // the helpers are tried from here on
      return;
    }
    if (allow_alone_ &&
        caller_preempted_lately()) {  // our own helper takes the caller's core: a busy machine
      serial_left_ = alone_period;
      run_serially(units, call, context);
      return;
    }
    grow(participants - 1);
    call_ = call;
    context_ = context;
    units_ = units;
    participants_ = participants;
    failed_ = nullptr;
    if (taken_.size() < units) taken_ = std::vector<std::atomic<std::uint8_t>>(units);
    for (std::size_t u = 0; u < units; ++u) taken_[u].store(0, std::memory_order_relaxed);
    joined_.store(1, std::memory_order_relaxed);  // the caller is participant 0
    done_.store(0, std::memory_order_relaxed);
    const auto start = std::chrono::steady_clock::now();
    open_.store(true);  // seq_cst: after the fields above, before the helpers look
    wake_helpers();
    tl_in_loop = true;
    take_units(0);
    tl_in_loop = false;
    const auto worked = std::chrono::steady_clock::now();
    // Wait for the units that helpers took (they are running now; none is left untaken).
    wait_until([&] { return done_.load(std::memory_order_acquire) == units_; });
    open_.store(false);
    // A helper that has announced itself (active_) may still be about to read the loop's
    // fields; it will find the loop closed. Wait for it to leave before they are rewritten.
    wait_until([&] { return active_.load() == 0; });
    note_wait(worked - start, std::chrono::steady_clock::now() - worked);
    if (failed_) std::rethrow_exception(failed_);  // the first unit that threw, after the rest ran
  }

  // A job beside the caller's loops (start_job): posted for the first helper that looks for
  // work, then run by it while the caller goes on.
  bool start_job(UnitFn call, void* context) {
    std::lock_guard<std::mutex> one_loop(run_mutex_);
    // A busy machine lately (the caller runs the loops alone), or a job already out (another
    // caller's): the job is run by the caller when it waits for it.
    if (serial_left_ > 0 || job_state_.load() != job_none) return false;
    grow(1);
    job_call_ = call;
    job_context_ = context;
    job_failed_ = nullptr;
    job_state_.store(job_posted);  // seq_cst: after the fields above, before the helpers look
    wake_helpers();
    return true;
  }

  // Returns once the posted job has run: on the caller, if no helper has taken it yet (a helper
  // asleep, or not run by the kernel), else after the helper that took it is done with it.
  // Rethrows what the job threw.
  void finish_job() {
    int posted = job_posted;
    if (job_state_.compare_exchange_strong(posted, job_running))
      run_job();
    else
      wait_until([&] { return job_state_.load(std::memory_order_acquire) == job_done; });
    std::exception_ptr failed = job_failed_;
    job_failed_ = nullptr;
    job_state_.store(job_none);
    if (failed) std::rethrow_exception(failed);
  }

 private:
  // A loop after which the caller waited longer than it worked (and more than 50 µs) was held
  // up by a helper that took a unit and was then not run: the machine is busy. Two such loops
  // among the last eight switch the pool to the caller alone for the next 256 loops (about a
  // month of the simulation), after which it tries its helpers again, but only if the machine
  // then has a core free for one (core_free_for_helper; otherwise another period alone).
  // Results never depend on it; on a busy machine it keeps 2 threads from being slower than 1.
  void note_wait(std::chrono::steady_clock::duration worked,
                 std::chrono::steady_clock::duration waited) {
    const bool stalled = waited > worked && waited > std::chrono::microseconds(50);
    stalls_ = ((stalls_ << 1) | (stalled ? 1u : 0u)) & 0xffu;
    int recent = 0;
    for (std::uint32_t m = stalls_; m != 0; m &= m - 1) ++recent;
    if (recent >= 2 && allow_alone_) {
      serial_left_ = alone_period;
      stalls_ = 0;
    }
  }

  static constexpr int alone_period = 256;

  // The second sign of a busy machine, for the case the stalls miss: the helper is run, but
  // only by taking turns with the caller on one core while another process holds the other
  // (three runnable threads on two cores). The caller then keeps no unit waiting long, yet it
  // runs only part of the time. Over windows of about 20 ms (five months of a Changning
  // replicate at 2 threads) while the helpers are in use, the caller's own CPU time divided by
  // the wall time says how much of a core it got: on a quiet machine about 1 (waiting for a
  // unit spins, which counts), below `min_caller_share` it was preempted, and running alone
  // gives back the core. Measured and reasoned in docs/performance.md (issue #14, busy machine).
  bool caller_preempted_lately() {
    const auto now = std::chrono::steady_clock::now();
    if (window_cpu_ < 0) {
      start_window();
      return false;
    }
    const std::chrono::duration<double> wall = now - window_start_;
    if (wall < window) return false;
    const double cpu = thread_cpu_seconds();
    const bool preempted = caller_preempted(cpu - window_cpu_, wall.count());
    window_start_ = now;
    window_cpu_ = cpu;
    return preempted;
  }

  void start_window() {
    window_start_ = std::chrono::steady_clock::now();
    window_cpu_ = thread_cpu_seconds();
  }

  static constexpr std::chrono::milliseconds window{20};
  std::chrono::steady_clock::time_point window_start_{};
  double window_cpu_ = -1;  // the caller's CPU seconds at window_start_; < 0: no window yet

  static void run_serially(std::size_t units, UnitFn call, void* context) {
    std::exception_ptr failed;
    tl_in_loop = true;
    for (std::size_t u = 0; u < units; ++u) {
      try {
        call(context, 0, u);
      } catch (...) {
        if (!failed) failed = std::current_exception();
      }
    }
    tl_in_loop = false;
    if (failed) std::rethrow_exception(failed);
  }

  template <class Cond>
  static void wait_until(Cond done) {
    for (int k = 0; !done(); ++k) {
      if (k < 4096)
        cpu_relax();
      else
        std::this_thread::yield();  // a busy machine: let the thread we wait for run
    }
  }

  // The units are split into one share per participant: the caller's share is the last
  // units, the first helper's the share before it, and so on (participant p's share is the
  // units [U·q/P, U·(q+1)/P) of the loop's U units, q = P − 1 − p). Each runs its own share
  // first, in order, then takes what is left of the others' shares from their ends (their
  // owners work forward from their starts), and skips any unit already taken (each unit's flag
  // is claimed once). Why shares and not one counter from which every thread takes the next
  // unit: the loops of a month walk the same columns in the same blocks, so with shares each
  // thread finds its part of the rows in its own core's cache, left there by the loop before.
  // With one shared counter the blocks went to whichever thread came first, and about half of
  // every loop's data came from the other core's cache: on this kind of virtual machine the
  // caller spent 0.51 s of a 0.55 s replicate running its half of the units, each thread at
  // not much more than half the speed of one thread alone (docs/performance.md, issue #14). Why the
  // caller's share is the last: what runs serially between the loops (births and arrivals appended,
  // the allocations of places to young children) touches mostly the newest rows, the last ones,
  // which the caller then has in its cache: 2 % less time at 2 threads than with the caller's share
  // first. A share whose owner never comes (a busy machine) is simply run by the others, so the
  // caller still waits only for units in progress.
  void take_units(std::size_t participant) {
    const std::size_t P = participants_, U = units_;
    const std::size_t own = P - 1 - participant;
    for (std::size_t u = U * own / P; u < U * (own + 1) / P; ++u) take(u, participant);
    for (std::size_t k = 1; k < P; ++k) {
      const std::size_t q = (own + k) % P;
      for (std::size_t u = U * (q + 1) / P; u-- > U * q / P;) take(u, participant);
    }
  }

  // A new generation (a loop or a job published): the helpers spinning see it, those asleep
  // are woken.
  void wake_helpers() {
    generation_.fetch_add(1);
    if (sleepers_.load() > 0) {
      // A helper that counted itself asleep holds or waits for the mutex: taking it here
      // means it is inside wait() (or has not checked the generation yet) when we notify.
      { std::lock_guard<std::mutex> lock(mutex_); }
      wake_.notify_all();
    }
  }

  // Runs the posted job on this thread if no one has taken it; whether it did.
  bool take_job() {
    int posted = job_posted;
    if (job_state_.load(std::memory_order_relaxed) != job_posted ||
        !job_state_.compare_exchange_strong(posted, job_running))
      return false;
    run_job();
    return true;
  }

  void run_job() {
    try {
      job_call_(job_context_, 0, 0);
    } catch (...) {
      job_failed_ = std::current_exception();  // read by finish_job after job_done
    }
    job_state_.store(job_done, std::memory_order_release);
  }

  // Runs unit u on this thread if no one has taken it.
  void take(std::size_t u, std::size_t participant) {
    if (taken_[u].exchange(1, std::memory_order_relaxed) != 0) return;
    try {
      call_(context_, participant, u);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failed_) failed_ = std::current_exception();
    }
    done_.fetch_add(1, std::memory_order_release);
  }

  void grow(std::size_t helpers) {
    while (threads_.size() < helpers) threads_.emplace_back([this] { helper(); });
  }

  void helper() {
    {
      const int fd = open_own_schedstat();  // read by note_month, kept open for the process
      std::lock_guard<std::mutex> lock(mutex_);
      delay_fds_.push_back(fd);
    }
    awake_.fetch_add(1);
    tl_in_loop = true;  // a helper only ever runs units
    std::uint64_t seen = 0;
    for (;;) {
      // The generation seen is the one returned: a loop published and finished while this
      // thread was busy is simply missed (the caller ran its units).
      seen = await_generation(seen);
      // A job first: the caller's loops run without this thread meanwhile, and it joins the
      // loop open when it is done (or the next), as any helper that wakes late.
      if (take_job()) continue;
      active_.fetch_add(1);  // seq_cst: announced before looking at open_
      if (open_.load()) {
        const std::size_t me = joined_.fetch_add(1);
        if (me < participants_) take_units(me);
      }
      active_.fetch_sub(1);
    }
  }

  // Waits until the generation differs from `seen` and returns it: spins politely for spin_,
  // then sleeps until a caller publishes a loop.
  std::uint64_t await_generation(std::uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + spin_;
    for (int k = 0;; ++k) {
      const std::uint64_t g = generation_.load(std::memory_order_acquire);
      if (g != seen) return g;
      cpu_relax();
      if ((k & 15) == 15) {
        // A polite spin: on a busy machine another process waiting for this core runs now.
        std::this_thread::yield();
        if (std::chrono::steady_clock::now() >= until) break;
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1);  // seq_cst, then the generation is checked again (no lost wake-up)
    awake_.fetch_sub(1);
    wake_.wait(lock, [&] { return generation_.load() != seen; });
    awake_.fetch_add(1);
    sleepers_.fetch_sub(1);
    return generation_.load();
  }

  const std::chrono::microseconds spin_;
  std::vector<std::thread> threads_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<int> awake_{0};  // helpers not asleep (spinning or running units)
  std::atomic<int> active_{0};
  std::atomic<bool> open_{false};
  // The loop being run (written by the caller only while open_ is false and active_ is 0).
  UnitFn call_ = nullptr;
  void* context_ = nullptr;
  std::size_t units_ = 0;
  std::size_t participants_ = 1;
  std::exception_ptr failed_;  // written under mutex_, read by the caller after the loop
  bool allow_alone_;           // false: never alone (allow_alone, CHILDSIM_POOL_ALONE=never)
  std::uint32_t stalls_ = 0;   // the last eight loops, 1 = the caller was held up (note_wait)
  int serial_left_ = 0;        // loops the caller still runs alone
  std::atomic<bool> alone_month_{false};  // the current month runs on the caller alone
  std::vector<int> delay_fds_;    // the helpers' schedstat files (-1: not opened), under mutex_
  long long last_delay_ns_ = -1;  // the threads' run_delay summed at the last note_month
  std::chrono::steady_clock::time_point last_delay_at_{};
  std::vector<std::atomic<std::uint8_t>> taken_;  // by unit: 1 once a thread has claimed it
  std::atomic<std::size_t> joined_{1};
  std::atomic<std::size_t> done_{0};
  // The job (start_job): none, posted (no thread has taken it), running, done.
  static constexpr int job_none = 0, job_posted = 1, job_running = 2, job_done = 3;
  std::atomic<int> job_state_{job_none};
  UnitFn job_call_ = nullptr;  // written by the caller while no job is out
  void* job_context_ = nullptr;
  std::exception_ptr job_failed_;  // written by the thread that ran it, before job_done
};

Pool& pool() {
  // Started on first use and never destroyed: its threads sleep until the process ends, so
  // no exit (from any thread, at any moment) waits for them.
  static Pool* const p = new Pool;
  return *p;
}

}  // namespace

bool core_free_for_helper(int runnable, int ours, int cores) {
  if (runnable < 0 || cores <= 0) return true;  // unknown: let the loops find out
  const int others = runnable > ours ? runnable - ours : 0;
  return cores - others >= 2;  // a core for the caller and one for a helper
}

bool waited_for_cores(double waited_seconds, double wall_seconds) {
  if (waited_seconds < 0 || wall_seconds <= 0) return true;  // unknown: the other signs decide
  return waited_seconds >= max_quiet_wait_share * wall_seconds;
}

bool caller_preempted(double cpu_seconds, double wall_seconds) {
  if (cpu_seconds < 0 || wall_seconds <= 0) return false;  // unknown: the stalls decide
  return cpu_seconds < min_caller_share * wall_seconds;
}

void run_units(std::size_t units, std::size_t participants, UnitFn call, void* context) {
  if (units == 0) return;
  if (participants <= 1 || units == 1 || tl_in_loop) {
    for (std::size_t u = 0; u < units; ++u) call(context, 0, u);
    return;
  }
  pool().run(units, participants, call, context);
}

bool start_job(UnitFn call, void* context) {
  if (tl_in_loop) return false;
  return pool().start_job(call, context);
}

void finish_job() {
  pool().finish_job();
}

void note_month() {
  pool().note_month();
}

bool alone_this_month() {
  return pool().alone_this_month();
}

void allow_alone(bool allowed) {
  pool().allow_alone(allowed);
}

bool in_pool_loop() {
  return tl_in_loop;
}

long spin_microseconds() {
  return pool().spin_us();
}

}  // namespace childsim::par
