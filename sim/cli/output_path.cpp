// output_path: checks on an output path before any work.
#include "sim/cli/output_path.hpp"

#include <fmt/format.h>  // fmt::format

#include <unistd.h>  // access

#include <stdexcept>  // std::runtime_error

namespace childsim::cli {

namespace fs = std::filesystem;

void check_output_path(const fs::path& out) {
  const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (!fs::is_directory(dir))
    throw std::runtime_error(fmt::format("output directory '{}' does not exist", dir.string()));
  if (access(dir.c_str(), W_OK) != 0)
    throw std::runtime_error(fmt::format("output directory '{}' is not writable", dir.string()));
  if (fs::is_directory(out))
    throw std::runtime_error(fmt::format("output path '{}' is a directory", out.string()));
}

}  // namespace childsim::cli
