// test_support: paths and small helpers shared by the C++ tests.
#pragma once

#include "sim/io/dataset.hpp"  // Dataset

#include <catch2/catch.hpp>  // CHECK, INFO, REQUIRE

#include <cstddef>      // std::size_t
#include <cstdint>      // std::int32_t
#include <cstring>      // std::memcmp
#include <filesystem>   // std::filesystem::path
#include <string>       // std::string
#include <type_traits>  // std::decay_t, std::is_arithmetic_v
#include <variant>      // std::visit, std::get
#include <vector>       // std::vector

#include <unistd.h>  // getpid

namespace childsim::test {

inline std::filesystem::path source_dir() {
  return CHILDSIM_SOURCE_DIR;
}
inline std::filesystem::path scenario(const std::string& rel) {
  return source_dir() / rel;
}

inline const std::vector<std::int32_t>& ints(const io::Dataset& ds, const std::string& name) {
  return std::get<std::vector<std::int32_t>>(ds.find_variable(name)->data);
}

inline const std::vector<double>& reals(const io::Dataset& ds, const std::string& name) {
  return std::get<std::vector<double>>(ds.find_variable(name)->data);
}

/// True when two arrays have the same type, size and bits. Use it for "identical results":
/// `==` on doubles says NaN != NaN, and outputs use NaN for "none" (e.g. a closed facility).
inline bool identical(const io::ArrayData& a, const io::ArrayData& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using V = std::decay_t<decltype(x)>;
        const V& y = std::get<V>(b);
        if constexpr (std::is_arithmetic_v<typename V::value_type>)
          return x.size() == y.size() &&
                 (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(x[0])) == 0);
        else
          return x == y;
      },
      a);
}

/// Checks that every output of `a` (a variable whose first dimension is `replicate`) whose name
/// begins with `prefix` is in `b` with the same type, size and bits (identical), one CHECK per
/// variable with its name in the message; returns how many were compared, for the caller to
/// check that the comparison covered what it meant to.
inline std::size_t check_outputs_identical(const io::Dataset& a, const io::Dataset& b,
                                           const std::string& prefix = "") {
  std::size_t compared = 0;
  for (const io::Variable& v : a.variables) {
    if (v.dims.empty() || v.dims.front() != "replicate" || v.name.rfind(prefix, 0) != 0) continue;
    INFO("variable " << v.name);
    const io::Variable* w = b.find_variable(v.name);
    REQUIRE(w != nullptr);
    CHECK(identical(v.data, w->data));
    ++compared;
  }
  return compared;
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
