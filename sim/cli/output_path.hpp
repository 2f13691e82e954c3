// output_path: checks on an output path made before any work, so that a run that cannot write
// its result fails at once and touches nothing.
#pragma once

#include <filesystem>  // std::filesystem::path

namespace childsim::cli {

/// Throw std::runtime_error (with the path) if `out` cannot be written: it is empty, its
/// directory is missing or not writable, or it (or a symbolic link's target) exists and is
/// not a regular file (a directory, a device, a FIFO). See sim/io/output_target.hpp.
void check_output_path(const std::filesystem::path& out);

}  // namespace childsim::cli
