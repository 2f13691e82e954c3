// parameters: the single table of named scalar parameters (value, unit, range, source).
//
// Every behavioural number of the model is a row of `scenarios/<place>/parameters.yaml`:
// name, value, unit, plausible range, description, and either `source:` (observed) or
// `assumed:` (with the reasoning). A scenario may override values by name under
// `parameters:`; overrides are checked against the range. The table is also what calibration
// draws priors from and what the parameter page in docs/ is generated from.
#pragma once

#include "sim/config/config_tree.hpp"  // ConfigNode, Origin

#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim {

struct Parameter {
  std::string name;    ///< dotted, e.g. "migration.out_rate"
  double value = 0.0;  ///< current value (the default unless overridden)
  double default_value = 0.0;
  std::string unit;
  double lo = 0.0, hi = 0.0;  ///< plausible range (calibration prior support)
  std::string description;
  std::string source;     ///< where the number comes from, or the reason for the assumption
  bool assumed = false;   ///< true when `source` is an assumption, not an observation
  config::Origin origin;  ///< where the row is written
};

class ParameterTable {
 public:
  /// Read `parameters.yaml` (a map with key `parameters:` holding a list of rows).
  static ParameterTable load(const config::ConfigNode& root);

  /// The value of `name`; throws std::out_of_range naming the parameter if it is not defined
  /// (a programming error: the code asked for a parameter the data does not define).
  double operator[](const std::string& name) const;
  const Parameter* find(const std::string& name) const;
  /// Override a value; `at` is the scenario node that asked for it (for messages). Unknown
  /// names and values outside the range are ConfigErrors at `at`.
  void set(const std::string& name, double value, const config::ConfigNode& at);
  const std::vector<Parameter>& rows() const { return rows_; }

 private:
  std::vector<Parameter> rows_;
};

}  // namespace childsim
