// recorder: collects each replicate's monthly outputs into the arrays of the catalog.
//
// Arrays are allocated once for all replicates ([replicate, ...] leading). A replicate writes
// only its own slice, so replicates may be recorded in any order (or on different MPI ranks
// and merged) with the same result. `to_dataset()` labels everything for the writer.
#pragma once

#include "sim/io/dataset.hpp"         // Dataset
#include "sim/io/output_catalog.hpp"  // OutputSpec
#include "sim/scenario/scenario.hpp"  // Scenario

#include <cstdint>  // std::int32_t
#include <map>      // std::map
#include <string>   // std::string
#include <vector>   // std::vector

namespace childsim::io {

class Recorder {
 public:
  Recorder(const Scenario& sc, int replicates);

  /// The block of variable `name` for one replicate and month (month −1 for variables without
  /// a time dimension): a pointer to the trailing dimensions, row-major.
  std::int32_t* block(const std::string& name, int replicate, int month = -1);
  /// Elements in one block of `name`.
  std::size_t block_size(const std::string& name) const;

  /// Dimensions, coordinates and attributes for the file or for Python.
  Dataset to_dataset(const Attributes& global_attrs) const;

  int replicates() const { return replicates_; }
  const std::vector<std::int32_t>& data(const std::string& name) const { return data_.at(name); }

 private:
  std::size_t dim_size(const std::string& dim) const;
  const Scenario& sc_;
  int replicates_;
  std::map<std::string, std::vector<std::int32_t>> data_;
};

}  // namespace childsim::io
