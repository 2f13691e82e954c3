// test_support: paths and small helpers shared by the C++ tests.
#pragma once

#include "sim/io/dataset.hpp"  // Dataset

#include <cstdint>     // std::int32_t
#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

#include <unistd.h>  // getpid

namespace childsim::test {

inline std::filesystem::path source_dir() { return CHILDSIM_SOURCE_DIR; }
inline std::filesystem::path scenario(const std::string& rel) { return source_dir() / rel; }

inline const std::vector<std::int32_t>& ints(const io::Dataset& ds, const std::string& name) {
  return std::get<std::vector<std::int32_t>>(ds.find_variable(name)->data);
}

/// A fresh empty directory under the system temp dir.
inline std::filesystem::path fresh_dir(const std::string& tag) {
  auto d = std::filesystem::temp_directory_path() /
           ("childsim-test-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace childsim::test
