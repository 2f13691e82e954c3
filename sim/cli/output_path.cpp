// output_path: checks on an output path before any work.
#include "sim/cli/output_path.hpp"

#include "sim/io/output_target.hpp"  // resolve_output_target

namespace childsim::cli {

void check_output_path(const std::filesystem::path& out) {
  io::resolve_output_target(out);
}

}  // namespace childsim::cli
