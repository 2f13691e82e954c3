// core_latency: how long a cache line takes to go from one core to another and back.
//
// Two threads, each pinned to one of the first two cores this process may use, pass a counter
// back and forth through one cache line (each waits for the other's value, then writes its
// own): a round trip is two transfers of the line between the cores. This is what a replicate
// at 2 threads pays whenever a thread reads rows the other thread wrote last, and it is the
// figure that tells a quiet machine on which 2 threads gain much (the cores share a cache) from
// one on which they gain less (docs/performance.md, "Two cores that talk slowly").
// Usage: core_latency [-n repeats] [-r round trips per repeat]
// Prints each repeat's mean round trip and the median of the repeats, in nanoseconds.
#include <pthread.h>  // pthread_setaffinity_np
#include <sched.h>    // sched_getaffinity, CPU_ISSET

#include <algorithm>  // std::sort
#include <atomic>     // std::atomic
#include <chrono>     // std::chrono::steady_clock
#include <cstdio>     // std::printf, std::fprintf
#include <cstdlib>    // std::strtol
#include <cstring>    // std::strcmp
#include <thread>     // std::thread
#include <vector>     // std::vector

namespace {

// The line the two threads pass between them, alone on its cache line.
struct alignas(64) Line {
  std::atomic<long> value{0};
};

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// The first two CPUs of this process's affinity mask; false when it has fewer than two.
bool two_cpus(int& a, int& b) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return false;
  a = b = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE && b < 0; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    (a < 0 ? a : b) = cpu;
  }
  return b >= 0;
}

// Mean round trip (ns) over `rounds` round trips between cpu `a` (this thread) and `b`.
double round_trip_ns(int a, int b, long rounds) {
  Line line;
  std::thread other([&] {
    pin_to(b);
    for (long k = 0; k < rounds; ++k) {
      while (line.value.load(std::memory_order_acquire) != 2 * k + 1) {
      }
      line.value.store(2 * k + 2, std::memory_order_release);
    }
  });
  pin_to(a);
  const auto start = std::chrono::steady_clock::now();
  for (long k = 0; k < rounds; ++k) {
    line.value.store(2 * k + 1, std::memory_order_release);
    while (line.value.load(std::memory_order_acquire) != 2 * k + 2) {
    }
  }
  const auto stop = std::chrono::steady_clock::now();
  other.join();
  return std::chrono::duration<double, std::nano>(stop - start).count() /
         static_cast<double>(rounds);
}

}  // namespace

int main(int argc, char** argv) {
  long repeats = 5, rounds = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "-n") == 0 && v > 0) {
      repeats = v;
    } else if (std::strcmp(argv[i], "-r") == 0 && v > 0) {
      rounds = v;
    } else {
      std::fprintf(stderr, "usage: core_latency [-n repeats] [-r round trips per repeat]\n");
      return 2;
    }
  }
  int a = 0, b = 0;
  if (!two_cpus(a, b)) {
    std::fprintf(stderr, "core_latency: this process may use fewer than two CPUs\n");
    return 1;
  }
  std::vector<double> ns;
  for (long r = 0; r < repeats; ++r) ns.push_back(round_trip_ns(a, b, rounds));
  std::printf("core-to-core round trip, CPUs %d and %d (ns):", a, b);
  for (const double v : ns) std::printf(" %.0f", v);
  std::sort(ns.begin(), ns.end());
  std::printf("; median %.0f\n", ns[ns.size() / 2]);
  return 0;
}
