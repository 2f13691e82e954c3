// footprint: memory and disk estimates of a run, and what the machine has.
#include "sim/run/footprint.hpp"

#include "sim/io/output_catalog.hpp"  // output_catalog
#include "sim/io/recorder.hpp"        // dimension_length

#include <fmt/format.h>  // fmt::format

#include <sys/resource.h>  // getrlimit
#include <sys/statvfs.h>   // statvfs

#include <algorithm>  // std::min
#include <fstream>    // std::ifstream
#include <limits>     // std::numeric_limits
#include <numeric>    // std::accumulate
#include <sstream>    // std::istringstream

namespace childsim {
namespace {

constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

// Measured on the release build with /usr/bin/time (docs/reliability.md, "Resource limits"):
// the program, libraries, base data and thread pools take ~18 MB before any agent exists; one
// child agent with its share of households, queues and scratch ~135 bytes (the whole district
// holds ~72,000 children); one more replicate adds ~2 times its output arrays (the recorder and
// the labelled dataset; the in-memory file image is compressed). The figures below are those
// rounded up, so that the estimate is an upper bound: 1.3–1.4 times the measured peak.
// A file holds ~450 kB whatever its size (coordinates, capacities, attributes, the scenario
// text, HDF5's metadata), then shuffle + deflate make the arrays 10–15 times smaller (measured,
// 1–32 replicates); the disk estimate uses 450 kB + 9 % of the arrays, within 25 % above the
// files measured.
constexpr std::uint64_t kFixedBytes = 24ull << 20;
constexpr double kBytesPerChild = 200.0;
constexpr double kOutputCopies = 2.5;
constexpr std::uint64_t kFileBytes = 450'000;
constexpr double kCompressedFraction = 0.09;
// Streamed: the replicate being simulated, its record being compressed and the layout read at
// the start: about 3 copies of one replicate's outputs. The partial file holds the arrays
// byte-shuffled and deflated at level 1, measured at 11.8 % of their size for the baseline
// (0.47 MB a replicate, 2026-12-03; it was 16.7 %, 0.66 MB, before the shuffle); 13 % is used.
constexpr double kStreamedCopies = 3.0;
constexpr double kPartialFraction = 0.13;

std::uint64_t output_bytes(const Scenario& sc, int replicates) {
  std::uint64_t total = 0;
  for (const auto& o : io::output_catalog()) {
    std::uint64_t n = o.real ? 8 : 4;
    for (const auto& d : o.dims) n *= io::dimension_length(sc, replicates, d);
    total += n;
  }
  return total;
}

// A value from a file of "key value" lines (/proc/meminfo, /proc/self/status, memory.stat);
// kUnlimited when absent.
std::uint64_t read_field(const char* file, const std::string& key, std::uint64_t unit) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    std::uint64_t value = 0;
    if (words >> name >> value && (name == key || name == key + ":")) return value * unit;
  }
  return kUnlimited;
}

std::uint64_t read_number(const char* file) {
  std::ifstream in(file);
  std::uint64_t value = 0;
  if (in >> value) return value;
  return kUnlimited;  // absent, or "max"
}

std::uint64_t rlimit_room(int resource, std::uint64_t used) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kUnlimited;
  const auto cur = static_cast<std::uint64_t>(limit.rlim_cur);
  return cur > used ? cur - used : 0;
}

}  // namespace

Footprint estimate_footprint(const Scenario& sc, bool streamed) {
  Footprint f;
  const double children =
      std::accumulate(sc.base.children_by_age.begin(), sc.base.children_by_age.end(), 0.0) *
      sc.population_scale;
  const std::uint64_t fixed = output_bytes(sc, 0);
  const std::uint64_t one = output_bytes(sc, 1) - fixed;
  f.output_bytes = output_bytes(sc, sc.replicates);
  f.per_replicate_memory_bytes =
      static_cast<std::uint64_t>(kOutputCopies * static_cast<double>(one));
  f.memory_bytes = kFixedBytes + static_cast<std::uint64_t>(kBytesPerChild * children) +
                   static_cast<std::uint64_t>(kOutputCopies * static_cast<double>(f.output_bytes));
  f.disk_bytes = kFileBytes + static_cast<std::uint64_t>(kCompressedFraction *
                                                         static_cast<double>(f.output_bytes));
  if (streamed) {
    f.per_replicate_memory_bytes = 0;
    f.memory_bytes = kFixedBytes + static_cast<std::uint64_t>(kBytesPerChild * children) +
                     static_cast<std::uint64_t>(kStreamedCopies * static_cast<double>(one + fixed));
    f.disk_bytes +=
        static_cast<std::uint64_t>(kPartialFraction * static_cast<double>(f.output_bytes));
  }
  return f;
}

std::uint64_t available_memory_bytes() {
  std::uint64_t room = read_field("/proc/meminfo", "MemAvailable", 1024);
  const std::uint64_t cgroup_max = read_number("/sys/fs/cgroup/memory.max");
  const std::uint64_t cgroup_used = read_number("/sys/fs/cgroup/memory.current");
  if (cgroup_max != kUnlimited && cgroup_used != kUnlimited)
    room = std::min(room, cgroup_max > cgroup_used ? cgroup_max - cgroup_used : 0);
  const std::uint64_t mapped = read_field("/proc/self/status", "VmSize", 1024);
  const std::uint64_t data = read_field("/proc/self/status", "VmData", 1024);
  room = std::min(room, rlimit_room(RLIMIT_AS, mapped == kUnlimited ? 0 : mapped));
  room = std::min(room, rlimit_room(RLIMIT_DATA, data == kUnlimited ? 0 : data));
  return room;
}

std::uint64_t available_disk_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path where = path.empty() ? std::filesystem::path(".") : path;
  if (!std::filesystem::exists(where, ec)) where = where.parent_path();
  if (where.empty()) where = ".";
  struct statvfs fs {};
  if (statvfs(where.c_str(), &fs) != 0) return kUnlimited;
  return static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
}

std::string format_bytes(std::uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.0f} MB", b / 1e6);
  return fmt::format("{:.0f} kB", b / 1e3);
}

void check_footprint(const Scenario& sc, const std::filesystem::path& output, bool streamed) {
  const Footprint f = estimate_footprint(sc, streamed);
  const std::uint64_t memory = available_memory_bytes();
  if (f.memory_bytes > memory) {
    const std::uint64_t base =
        f.memory_bytes - f.per_replicate_memory_bytes * static_cast<std::uint64_t>(sc.replicates);
    const std::uint64_t fit = memory > base && f.per_replicate_memory_bytes > 0
                                  ? (memory - base) / f.per_replicate_memory_bytes
                                  : 0;
    throw ResourceError(fmt::format(
        "{} replicates need about {} of memory, {} is available: nothing was run; {} (each "
        "replicate needs about {})",
        sc.replicates, format_bytes(f.memory_bytes), format_bytes(memory),
        fit > 0 ? fmt::format("use --replicates {} or fewer, or split the ensemble into "
                              "several runs with different seeds",
                              fit)
                : "lower population_scale or free memory",
        format_bytes(f.per_replicate_memory_bytes)));
  }
  if (output.empty()) return;
  const std::uint64_t disk = available_disk_bytes(output);
  if (f.disk_bytes > disk) {
    throw ResourceError(fmt::format(
        "'{}': the output file needs about {}, its file system has {} free: nothing was run; "
        "free space, write elsewhere or lower --replicates",
        output.string(), format_bytes(f.disk_bytes), format_bytes(disk)));
  }
}

}  // namespace childsim
