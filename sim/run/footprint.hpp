// footprint: what a run will cost in memory and disk, known before it starts, so that a run
// that cannot fit is refused in a second with the figure and how to lower it, instead of
// growing for minutes and dying of std::bad_alloc (issue #15, docs/reliability.md).
//
// Two ways of running, two estimates:
// * in memory (run_scenario: Python's childsim.run without output=): the output arrays of
//   every replicate are held until the file is written (sim/io/recorder.hpp), and copied
//   into the labelled dataset and the HDF5 file image built in memory before its single
//   write (sim/io/hdf5_writer.hpp). The peak is about 2–3 times the output arrays, plus one
//   replicate's agents and a fixed part: it grows with the replicates.
// * streamed (`childsim run`, `childsim-mpi`, childsim.run(..., output=); sim/run/stream.hpp):
//   one replicate's outputs at a time, saved to the partial file as it finishes. Memory does
//   not depend on the replicates; the disk holds the partial file and the output at the end.
//   (childsim-mpi: rank 0 also holds the few replicates in flight from the other ranks.)
// The estimate is an upper bound, 1.3–1.4 times the measured peak (tests/python/test_input_limits.py checks it against the
// peak resident size the kernel reports).
#pragma once

#include "sim/scenario/scenario.hpp"  // Scenario

#include <cstdint>     // std::uint64_t
#include <filesystem>  // std::filesystem::path
#include <stdexcept>   // std::runtime_error
#include <string>      // std::string

namespace childsim {

/// A run that cannot fit the machine: nothing was run and no file was touched. The CLI exits
/// with status 3; Python raises childsim.ResourceError (a MemoryError).
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bytes a run needs.
struct Footprint {
  std::uint64_t output_bytes = 0;  ///< the output arrays of all replicates, uncompressed
  std::uint64_t memory_bytes = 0;  ///< estimated peak resident memory of the process
  std::uint64_t disk_bytes = 0;    ///< estimated size of the output file (compressed)
  std::uint64_t per_replicate_memory_bytes = 0;  ///< what one more replicate adds (0: streamed)
};

/// The footprint of running `sc` (with `sc.replicates` replicates), in memory or streamed.
Footprint estimate_footprint(const Scenario& sc, bool streamed = false);

/// Bytes this process may still allocate: the least of the memory the kernel reports
/// available, the cgroup's limit less its usage and the address-space and data limits
/// (setrlimit) less what is mapped. A very large number when nothing limits it.
std::uint64_t available_memory_bytes();

/// Free bytes (for an unprivileged user) on the file system holding `path` or, when it does
/// not exist yet, its directory. A very large number when unknown.
std::uint64_t available_disk_bytes(const std::filesystem::path& path);

/// Throw ResourceError if `sc` needs more memory than is available, or (when `output` is not
/// empty) a bigger file than its file system has room for. The message gives both figures
/// and the largest replicate count that fits.
void check_footprint(const Scenario& sc, const std::filesystem::path& output = {},
                     bool streamed = false);

/// "1.2 GB", "340 MB": bytes for a message.
std::string format_bytes(std::uint64_t bytes);

}  // namespace childsim
