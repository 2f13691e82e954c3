// scenario: what a planner asks for — the place, horizon, replicates, seed, demographic
// assumptions and parameter overrides — read and validated from a YAML file.
//
// A scenario file may `extends:` another so that a what-if holds only its differences
// (config_tree.hpp). Validation happens here, once, before anything runs: every error is a
// config::ConfigError naming the file, line, column and key. The validated scenario is plain
// data; `model/rates` turns it into the flat arrays of the monthly loop.
#pragma once

#include "sim/config/config_tree.hpp"    // ConfigNode
#include "sim/core/time.hpp"             // YearMonth
#include "sim/data/base_data.hpp"        // BaseData, TfrPath
#include "sim/scenario/investments.hpp"  // Investment, Policy
#include "sim/services/facilities.hpp"   // Facilities
#include "sim/services/targets.hpp"      // Target

#include <cstdint>     // std::uint64_t
#include <filesystem>  // std::filesystem::path
#include <memory>      // std::shared_ptr
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

namespace calibration {
struct Posterior;  // sim/calibration/posterior.hpp
}

/// New homes that bring families to a street from a date (a planning lever).
struct HousingProject {
  std::string name;
  int street = 0;      ///< street index
  YearMonth start;     ///< first month families move in
  int households = 0;  ///< family households in total
  int months = 12;     ///< spread evenly over this many months
};

struct Scenario {
  std::string name;
  std::string description;
  std::filesystem::path file;  ///< the scenario file as given ("<text>" for in-memory)
  std::string resolved_yaml;   ///< the merged scenario (after `extends`), stored in outputs
  BaseData base;               ///< place data with parameter overrides applied
  YearMonth start{2024, 1};
  YearMonth end{2035, 12};
  int replicates = 1;
  std::uint64_t seed = 1;
  double population_scale = 1.0;             ///< 1 = the whole district; < 1 for quick tests
  bool services = true;                      ///< false: demography only (service outputs stay zero)
  std::string fertility_variant = "medium";  ///< name of the TFR path, or "custom"
  TfrPath tfr;                               ///< the path in use
  std::vector<HousingProject> housing;
  Facilities facilities;  ///< with capacity schedules over the run's months, investments applied
  std::vector<Investment> investments;
  Policy policy;
  /// Parameters drawn per replicate from a calibration posterior (`parameters: {posterior:
  /// file}`), restricted to the parameters not overridden by name; null when none.
  std::shared_ptr<const calibration::Posterior> posterior;

  int n_months() const { return months_between(start, end) + 1; }
  std::vector<Target> targets;  ///< the place's targets.yaml (indicators tested each year),
                                ///< with the scenario's `targets:` added or overriding
};

/// Read, merge (`extends`) and validate a scenario file. Throws config::ConfigError.
Scenario load_scenario(const std::filesystem::path& file);
/// The same from YAML text (Python front door, tests); relative paths resolve in `base_dir`.
Scenario load_scenario_text(const std::string& text, const std::filesystem::path& base_dir,
                            const std::string& name = "<scenario>");
/// Run-time overrides of the replicate count and seed (the CLI's --replicates and --seed,
/// the Python `run(replicates=, seed=)`); the stored scenario text records them, so that a
/// file always says how it was made. Values < 0 leave the scenario's own.
void override_run(Scenario& sc, int replicates, std::int64_t seed);

/// Validate an already-merged tree.
Scenario scenario_from_tree(const config::ConfigNode& root, const std::filesystem::path& file);

}  // namespace childsim
