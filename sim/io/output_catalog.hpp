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
  /// Named dimensions. "replicate", when present, comes first; "time" or "year", when
  /// present, comes next. Variables without "replicate" (e.g. capacities set by the
  /// scenario) are the same for every replicate and are recorded once.
  std::vector<std::string> dims;
  std::string units;
  std::string long_name;
  std::string description;
  bool real = false;  ///< float64 instead of int32
};

// Each model part declares its own outputs next to its code; the catalog is their union, in
// the order of the monthly processes.
std::vector<OutputSpec> demography_outputs();
std::vector<OutputSpec> facility_outputs();
std::vector<OutputSpec> nursery_outputs();
std::vector<OutputSpec> babyroom_outputs();
std::vector<OutputSpec> kindergarten_outputs();
std::vector<OutputSpec> babyroom_outputs();
std::vector<OutputSpec> holiday_outputs();
std::vector<OutputSpec> clinic_outputs();
std::vector<OutputSpec> access_outputs();
std::vector<OutputSpec> indicator_outputs();
std::vector<OutputSpec> parameter_outputs();

const std::vector<DimensionSpec>& dimension_catalog();
const std::vector<OutputSpec>& output_catalog();
const OutputSpec* find_output(const std::string& name);

/// The catalog as Markdown tables (for docs/output-format.md).
std::string output_catalog_markdown();

}  // namespace childsim::io
