// dataset: labelled arrays in memory — what a run produces, before it becomes a file or an
// xarray.Dataset.
//
// Both front doors use this one structure: the CLI writes it to HDF5 (write_dataset) and the
// Python module converts it to xarray, so the file and the Python object cannot disagree.
// Arrays are row-major with the last dimension fastest, as in HDF5 and NumPy.
#pragma once

#include "sim/io/hdf5_writer.hpp"  // Attributes

#include <cstdint>     // std::int32_t, std::int64_t
#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <variant>     // std::variant
#include <vector>      // std::vector

namespace childsim::io {

using ArrayData = std::variant<std::vector<std::int32_t>, std::vector<std::int64_t>,
                               std::vector<double>, std::vector<std::string>>;

/// A dimension and its coordinate values.
struct Dimension {
  std::string name;
  ArrayData values;
  Attributes attrs;
  std::size_t size() const;
};

/// A variable over named dimensions (data variables and auxiliary coordinates alike).
struct Variable {
  std::string name;
  std::vector<std::string> dims;
  ArrayData data;
  Attributes attrs;
};

struct Dataset {
  std::vector<Dimension> dims;
  std::vector<Variable> variables;  ///< auxiliary coordinates first, then data variables
  Attributes attrs;

  const Dimension* find_dim(const std::string& name) const;
  const Variable* find_variable(const std::string& name) const;
  Variable* find_variable(const std::string& name);
};

/// Write a dataset as netCDF-4-compatible HDF5: to a temporary name, renamed on success.
void write_dataset(const Dataset& ds, const std::filesystem::path& path);

}  // namespace childsim::io
