// recorder: collects each replicate's outputs into the arrays of the catalog.
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

/// Length of dimension `dim` (dimension_catalog()) of a run of `sc` with `replicates`
/// replicates: what a Recorder allocates, known before it does (sim/run/footprint).
std::size_t dimension_length(const Scenario& sc, int replicates, const std::string& dim);

class Recorder {
 public:
  /// `first_replicate`: the replicate number of the first slice (a recorder for replicates
  /// first_replicate .. first_replicate + replicates − 1; the warm start's scratch recorder).
  /// `allocate` false: no arrays, only the layout (to_dataset() then gives empty data
  /// variables, which write_dataset fills replicate by replicate from a stream).
  Recorder(const Scenario& sc, int replicates, int first_replicate = 0, bool allocate = true);

  /// The block of int32 variable `name` for one replicate and one month or year index (−1
  /// when the variable has neither): a pointer to the trailing dimensions, row-major.
  /// For variables without a replicate dimension, `replicate` is ignored.
  std::int32_t* block(const std::string& name, int replicate, int index = -1);
  /// The same for float64 variables.
  double* real_block(const std::string& name, int replicate, int index = -1);
  /// Elements in one block of `name`.
  std::size_t block_size(const std::string& name) const;
  /// Elements of variable `name` over all the recorder's replicates: the length of its array
  /// when allocated (also known when not: a layout).
  std::size_t elements(const std::string& name) const;

  /// Dimensions, coordinates and attributes for the file or for Python.
  Dataset to_dataset(const Attributes& global_attrs) const;

  int replicates() const { return replicates_; }
  const std::vector<std::int32_t>& data(const std::string& name) const { return ints_.at(name); }
  const std::vector<double>& real_data(const std::string& name) const { return reals_.at(name); }
  /// All arrays, for merging recorders filled by different processes (MPI ranks).
  std::map<std::string, std::vector<std::int32_t>>& int_arrays() { return ints_; }
  std::map<std::string, std::vector<double>>& real_arrays() { return reals_; }
  /// Calendar years covered by the run (the `year` dimension).
  const std::vector<int>& years() const { return years_; }
  /// Index in `years()` of model month `month`.
  int year_index(int month) const;
  /// Length of dimension `dim` (dimension_catalog()).
  std::size_t dim_size(const std::string& dim) const;

 private:
  std::size_t offset(const OutputSpec& o, int replicate, int index) const;
  const Scenario& sc_;
  int replicates_;
  int first_replicate_ = 0;
  std::vector<int> years_;
  std::map<std::string, std::vector<std::int32_t>> ints_;
  std::map<std::string, std::vector<double>> reals_;
};

}  // namespace childsim::io
