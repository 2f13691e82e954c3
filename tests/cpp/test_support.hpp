// test_support: paths and small helpers shared by the C++ tests.
#pragma once

#include "sim/io/dataset.hpp"  // Dataset

#include <cstdint>     // std::int32_t
#include <cstring>     // std::memcmp
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

/// Same type and values; float64 arrays are compared bit for bit, so NaNs (missing values of
/// float outputs) in the same places compare equal.
inline bool identical(const io::ArrayData& a, const io::ArrayData& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<std::vector<double>>(&a)) {
    const auto& y = std::get<std::vector<double>>(b);
    return x->size() == y.size() &&
           (x->empty() || std::memcmp(x->data(), y.data(), x->size() * sizeof(double)) == 0);
  }
  return a == b;
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
