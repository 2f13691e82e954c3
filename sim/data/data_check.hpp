// data_check: every problem of a data pack at once, each with its file, line, column and key.
//
// `load_base_data` and the facility and target readers stop at the first problem, which is
// right before a run but slow when a researcher assembles a pack for a new district. The
// checker (`childsim check-data DIR`, docs/data-packs.md) first reads every file on its own
// and reports each one's first structural problem (the readers' own located errors: missing
// file, YAML syntax, missing or unknown key, wrong length), then walks the parsed trees and
// reports, without stopping, every problem of these classes:
//   - provenance: a number (`value:`/`values:`) or an entry of facilities, kinds, targets or
//     parameters without a non-empty `source:` or `assumed:`;
//   - ranges: a value outside its own `range:`, a range with lo > hi, a non-positive area or
//     population, a point outside Shanghai's bounding box, a negative capacity or price, a
//     quality outside [0, 1];
//   - references: a facility, neighbour pair or host naming a street, kind or facility that
//     does not exist, a street naming an unknown district, a duplicate id;
//   - sums: streets that do not add up to their district's census population (pack.yaml),
//     districts that do not add up to the pack's, more children than residents;
//   - shares: asfr_shape (written as shares) not summing to 1, income_low + income_high > 1,
//     a parameter in a share or probability unit outside [0, 1].
#pragma once

#include "sim/config/config_tree.hpp"  // ConfigError

#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

/// What the checker found: the problems (each a located ConfigError, in file order) and, for
/// the summary line, what the pack holds.
struct DataCheck {
  std::vector<config::ConfigError> problems;
  std::string pack;
  int districts = 0, streets = 0, facilities = 0, targets = 0;
  double population_2020 = 0;  ///< sum of the streets' population_2020
};

/// The files every pack has (pack.yaml is optional), in the order they are checked.
const std::vector<std::string>& data_pack_files();

/// Check the pack in `dir` (never throws a ConfigError: every problem is in the result).
DataCheck check_data_pack(const std::filesystem::path& dir);

}  // namespace childsim
