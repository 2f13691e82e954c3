// core_memory: how long a load from memory takes on each core, for working sets from 1 MB
// (the core's own cache) to 64 MB (main memory).
//
// A random cyclic chain of indices is followed (each load's address is the last load's value,
// so the loads cannot overlap), pinned to each CPU this process may use in turn. On a virtual
// machine the cores need not be alike: a core whose caches a busy neighbour shares (another
// guest on the same physical core or last-level cache) takes several times longer for the
// same working set, and a replicate, which reads a few megabytes of agent rows at random each
// month, runs correspondingly slower on it (docs/performance.md, "Two cores that are not
// alike"). Usage: core_memory [-n repeats]. Prints nanoseconds per load, median of the repeats.
#include <pthread.h>  // pthread_setaffinity_np
#include <sched.h>    // sched_getaffinity, CPU_ISSET

#include <algorithm>  // std::sort, std::swap
#include <chrono>     // std::chrono::steady_clock
#include <cstdint>    // std::uint64_t
#include <cstdio>     // std::printf, std::fprintf
#include <cstdlib>    // std::strtol
#include <cstring>    // std::strcmp
#include <vector>     // std::vector

namespace {

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// A single random cycle through n slots (Sattolo's algorithm), so that following it visits
// every slot before it returns.
std::vector<std::size_t> random_cycle(std::size_t n) {
  std::vector<std::size_t> next(n);
  for (std::size_t i = 0; i < n; ++i) next[i] = i;
  std::uint64_t x = 88172645463325252ull;  // xorshift64
  for (std::size_t i = n - 1; i > 0; --i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::swap(next[i], next[x % i]);
  }
  return next;
}

double ns_per_load(const std::vector<std::size_t>& next, std::size_t loads) {
  std::size_t p = 0;
  for (std::size_t k = 0; k < next.size(); ++k) p = next[p];  // into the caches, as far as fits
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < loads; ++k) p = next[p];
  const auto stop = std::chrono::steady_clock::now();
  if (p == next.size()) std::printf("?");  // never: keeps the chain from being optimised away
  return std::chrono::duration<double, std::nano>(stop - start).count() /
         static_cast<double>(loads);
}

}  // namespace

int main(int argc, char** argv) {
  long repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "-n") == 0 && v > 0) {
      repeats = v;
    } else {
      std::fprintf(stderr, "usage: core_memory [-n repeats]\n");
      return 2;
    }
  }
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 1;
  std::printf("ns per dependent load, median of %ld, by working set and CPU\n", repeats);
  std::printf("%8s", "MB");
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) std::printf(" %8s%-2d", "cpu ", cpu);
  std::printf("\n");
  for (const std::size_t mb : {1, 4, 16, 64}) {
    const std::vector<std::size_t> next = random_cycle((mb << 20) / sizeof(std::size_t));
    std::printf("%8zu", mb);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &allowed) || !pin_to(cpu)) continue;
      std::vector<double> ns;
      for (long r = 0; r < repeats; ++r) ns.push_back(ns_per_load(next, 2000000));
      std::sort(ns.begin(), ns.end());
      std::printf(" %10.1f", ns[ns.size() / 2]);
    }
    std::printf("\n");
  }
  return 0;
}
