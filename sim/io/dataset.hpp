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
#include <functional>  // std::function
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

/// Fills `out` (the variable's element type) with the values of data variable `variable` for
/// one replicate or, for a variable without a `replicate` dimension, with all its values
/// (`replicate` is then 0).
using ReplicateReader =
    std::function<void(const Variable& variable, std::size_t replicate, void* out)>;

/// Write a dataset whose numeric data variables are empty (the layout of a run:
/// Recorder(…, allocate = false).to_dataset) by reading their values replicate by replicate
/// from `read`, with the file built on disk as it goes (WriterStorage::disk): memory does not
/// grow with the replicates. The bytes are those write_dataset gives for the same dataset with
/// its data in memory.
void write_dataset(const Dataset& layout, const std::filesystem::path& path,
                   const ReplicateReader& read);

}  // namespace childsim::io
