// targets: the plan's and the national targets, read from `scenarios/<place>/targets.yaml`.
//
// A target is a threshold on one yearly district indicator (an `indicator_*` output with
// dimensions (replicate, year)), e.g. "nursery places per 1,000 residents ≥ 4.5 from 2025".
// Each year the indicators submodel records whether it is met (`indicator_target_met`). The
// file is optional: a place without one has no targets.
//
// Schema (docs/model.md, "Indicators and targets"):
//
//   targets:
//     - id: nursery_places_per_1000       # names the indicator tested (see below)
//       description: "..."
//       threshold: 4.5
//       comparison: ">="                  # one of >=, >, <=, <, ==
//       year: 2025                        # optional: first year the target is in force
//       source: "..."                     # or assumed: "..."
//       plan_item: 19                     # optional: the plan's item number
//       indicator: nursery_places_per_1000  # optional: the indicator, when the id differs
//       note: "..."                       # optional
//       plan_text: "(19)..."              # optional: the plan's sentence, quoted
//
// The indicator tested is `indicator_<indicator>` when `indicator:` is given, else
// `indicator_<id>`, else `indicator_<id without a trailing _<year>>` (so two targets on the
// same indicator in different years can be told apart: `..._2024`, `..._2025`). An id that maps
// to no yearly district indicator is an error naming the ones that exist, except the few
// targets the model knows but cannot evaluate (`not_computed_reason`): they keep an empty
// `indicator` and are recorded as -1 (not evaluated).
//
// A scenario may add targets or override those of the place with a `targets:` list of the
// same items (apply_scenario_targets), e.g. to ask whether 5.0 nursery places per 1,000
// residents are reached by 2030 without editing the base data:
//
//   targets:
//     - id: nursery_places_per_1000_2030
//       variable: indicator_nursery_places_per_1000
//       threshold: 5.0
//       year: 2030
//       assumed: "a 15th Five-Year Plan target under study"
#pragma once

#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

namespace config {
struct ConfigNode;  // sim/config/config_tree.hpp
}

struct Target {
  std::string id;
  std::string description;
  double threshold = 0;
  std::string comparison;  ///< ">=", ">", "<=", "<" or "=="
  int year = 0;            ///< first year in force; 0 when in force every year
  std::string source;      ///< where the target comes from (or why it is assumed)
  std::string plan_item;   ///< the plan's item number as written ("" when none)
  std::string indicator;   ///< the output variable tested, e.g. "indicator_summer_classes";
                           ///< empty when the model cannot evaluate the target
};

/// Read a targets file; a missing file gives no targets. Throws config::ConfigError.
std::vector<Target> load_targets(const std::filesystem::path& file);

/// A scenario's `targets:` list applied to the place's targets: an item whose `id` is one of
/// `targets` overrides the keys it gives (a changed threshold, comparison, year or indicator
/// needs its own `source:` or `assumed:`); any other id adds a target, read like one of
/// targets.yaml. `indicator:` may also be written `variable:` (the output's full name,
/// `indicator_…`). Throws config::ConfigError at the offending key.
void apply_scenario_targets(const config::ConfigNode& list, std::vector<Target>& targets);

/// Whether `value` meets the target (a NaN value never does).
bool target_met(const Target& target, double value);

/// Why the model cannot evaluate target `id` ("" for the targets it can, or does not know).
std::string not_computed_reason(const std::string& id);

/// The yearly district indicators a target can test (`indicator_*` outputs with dimensions
/// (replicate, year), except `indicator_target_met`).
std::vector<std::string> target_indicators();

}  // namespace childsim
