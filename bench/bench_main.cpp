// bench_main: the benchmark — wall time and simulated person-months per second of a
// scenario by thread count. Not a test: it asserts nothing about time. Results go to
// docs/performance.md with the machine and the command.
//
// Repeats are interleaved across thread counts (1, 2, 1, 2, …) so that a change in the
// machine's load hits every thread count alike; the median is the figure to quote, with the
// range beside it. `--busy N` starts N CPU-bound processes for the duration (a shared machine:
// another user's job, CI running two tests at once), to check that more threads never make a
// run slower there. `--each-core` also times 1 thread pinned to each CPU the process may use
// (interleaved with the rest): on a virtual machine the two cores need not be equally fast
// (one may share its caches with a busy neighbour: bench/core_memory), and the 2-thread time
// is then judged against what the two cores could do at their own speeds, 1 / Σ 1/T(cpu).
#include "sim/io/recorder.hpp"        // Recorder
#include "sim/model/model.hpp"        // Model, run_replicate
#include "sim/run/malloc_tuning.hpp"  // tune_malloc_for_monthly_buffers
#include "sim/run/openmp_wait.hpp"    // ensure_passive_openmp_wait
#include "sim/scenario/scenario.hpp"  // load_scenario

#include <fmt/format.h>  // fmt::print
#include <omp.h>         // omp_set_num_threads
#include <pthread.h>     // pthread_setaffinity_np, pthread_getaffinity_np
#include <sched.h>       // cpu_set_t, CPU_SET, CPU_ISSET
#include <signal.h>      // kill, SIGKILL
#include <sys/wait.h>    // waitpid
#include <time.h>        // clock_gettime, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID
#include <unistd.h>      // fork, _exit
#include <CLI/CLI.hpp>   // CLI::App

#include <algorithm>  // std::sort
#include <chrono>     // std::chrono
#include <cstdlib>    // getenv
#include <map>        // std::map
#include <vector>     // std::vector

namespace {

// A process that only burns CPU until it is killed: the "other user" of a shared machine.
pid_t start_spinner() {
  const pid_t pid = fork();
  if (pid == 0) {
    volatile unsigned long x = 0;
    for (;;) x = x + 1;
  }
  return pid;
}

double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The CPUs this thread may run on.
std::vector<int> allowed_cpus(cpu_set_t& mask) {
  std::vector<int> cpus;
  CPU_ZERO(&mask);
  if (pthread_getaffinity_np(pthread_self(), sizeof mask, &mask) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  return cpus;
}

bool pin_to(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
}

double median_of(std::vector<double> s) {
  std::sort(s.begin(), s.end());
  return s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  childsim::run::ensure_passive_openmp_wait(argv);
  // The monthly step reuses its buffers' pages instead of faulting in new ones (see header).
  childsim::run::tune_malloc_for_monthly_buffers();
  CLI::App app{"childsim_bench: time one replicate of a scenario at several thread counts"};
  std::string scenario = "scenarios/baseline.yaml";
  std::vector<int> threads{1, 2};
  int repeats = 5, busy = 0;
  app.add_option("scenario", scenario, "Scenario file");
  app.add_option("-t,--threads", threads, "Thread counts to time");
  app.add_option("-n,--repeats", repeats, "Timed repeats per thread count (interleaved)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--busy", busy, "CPU-bound processes to run alongside (a shared machine)")
      ->check(CLI::Range(0, 64));
  bool each_core = false;
  app.add_flag("--each-core", each_core,
               "Also time 1 thread pinned to each CPU in turn, and the 2-thread bound they give");
  CLI11_PARSE(app, argc, argv);

  const childsim::Scenario sc = childsim::load_scenario(scenario);
  const childsim::Model model(sc);
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  fmt::print(
      "scenario {}: {} months, population scale {}; OMP_WAIT_POLICY={}; {} busy process(es)\n",
      scenario, sc.n_months(), sc.population_scale, policy ? policy : "(unset)", busy);

  std::vector<pid_t> spinners;
  for (int i = 0; i < busy; ++i) spinners.push_back(start_spinner());

  // Wall time, and CPU time: of the whole process (every thread: the work done) and of the
  // main thread alone (the serial parts plus its share of the parallel ones: on a busy machine,
  // where the wall time says little, the work split shows in main thread CPU / process CPU).
  std::map<int, std::vector<double>> secs, cpu, main_cpu;
  double person_months = 0;
  // Each replicate built in the memory of the one before, as an ensemble runs them
  // (run_replicate's `memory`): the medians are those of an ensemble's replicates.
  childsim::State memory;
  cpu_set_t mask;
  const std::vector<int> cpus = allowed_cpus(mask);
  std::map<int, std::vector<double>> pinned;  // 1 thread on one CPU, by CPU
  for (int k = 0; k < repeats; ++k) {
    for (const int t : threads) {
      omp_set_num_threads(t);
      childsim::io::Recorder rec(sc, 1);
      const double c0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
      const double m0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
      const auto t0 = std::chrono::steady_clock::now();
      childsim::run_replicate(model, 0, rec, {}, &memory);
      secs[t].push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      main_cpu[t].push_back(cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - m0);
      cpu[t].push_back(cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0);
      // Agents simulated: children (from the output) + women 18–49, each month.
      person_months = 0;
      for (const auto* var : {"population", "women"})
        for (const auto x : rec.data(var)) person_months += x;
    }
    if (!each_core) continue;
    omp_set_num_threads(1);
    for (const int c : cpus) {
      if (!pin_to(c)) continue;
      childsim::io::Recorder rec(sc, 1);
      const auto t0 = std::chrono::steady_clock::now();
      childsim::run_replicate(model, 0, rec, {}, &memory);
      pinned[c].push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      pthread_setaffinity_np(pthread_self(), sizeof mask, &mask);  // every CPU again
    }
  }
  for (const pid_t pid : spinners) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }

  fmt::print("{:>8} {:>12} {:>12} {:>12} {:>22} {:>14} {:>14}\n", "threads", "median (s)",
             "min (s)", "max (s)", "person-months / s", "CPU (s)", "main CPU (s)");
  for (const int t : threads) {
    auto& s = secs[t];
    std::sort(s.begin(), s.end());
    const double median = median_of(s);
    fmt::print("{:>8} {:>12.3f} {:>12.3f} {:>12.3f} {:>22.3e} {:>14.3f} {:>14.3f}\n", t, median,
               s.front(), s.back(), person_months / median, median_of(cpu[t]),
               median_of(main_cpu[t]));
  }
  if (!each_core || pinned.empty()) return 0;
  // With two threads, each core can at best do its share of the work at its own 1-thread
  // speed: the two together finish in 1 / (1/T(a) + 1/T(b)), the first two CPUs' medians.
  fmt::print("{:>8} {:>12} {:>12} {:>12}\n", "1 on cpu", "median (s)", "min (s)", "max (s)");
  double rate = 0;
  int summed = 0;
  for (auto& [c, s] : pinned) {
    std::sort(s.begin(), s.end());
    fmt::print("{:>8} {:>12.3f} {:>12.3f} {:>12.3f}\n", c, median_of(s), s.front(), s.back());
    if (summed < 2) {
      rate += 1.0 / median_of(s);
      ++summed;
    }
  }
  if (summed == 2 && secs.count(2) > 0)
    fmt::print(
        "2 threads at the two cores' own 1-thread speeds: {:.3f} s; the 2-thread median is "
        "{:.2f} times that\n",
        1.0 / rate, median_of(secs[2]) * rate);
  return 0;
}
