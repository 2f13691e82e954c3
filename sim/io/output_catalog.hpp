// output_catalog: every output variable declared once — name, dimensions, units, meaning.
//
// The recorder allocates arrays from these declarations, the HDF5 file and the xarray
// Dataset take their attributes from them, and `childsim outputs --markdown` prints the table
// in docs/output-format.md, so the documentation cannot drift from the file.
#pragma once

#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim::io {

struct DimensionSpec {
  std::string name;
  std::string units;  ///< empty for labels
  std::string description;
};

struct OutputSpec {
  std::string name;
  std::vector<std::string> dims;  ///< always starting with "replicate"
  std::string units;
  std::string long_name;
  std::string description;
};

const std::vector<DimensionSpec>& dimension_catalog();
const std::vector<OutputSpec>& output_catalog();
const OutputSpec* find_output(const std::string& name);

/// The catalog as Markdown tables (for docs/output-format.md).
std::string output_catalog_markdown();

}  // namespace childsim::io
