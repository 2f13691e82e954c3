// month_value: reading a calendar month ("YYYY-MM") from a configuration value.
#pragma once

#include "sim/config/config_tree.hpp"  // ConfigNode
#include "sim/core/time.hpp"           // YearMonth, parse_year_month

#include <fmt/format.h>  // fmt::format

namespace childsim::config {

/// The month written in `node`; a ConfigError at the node if it is not "YYYY-MM".
inline YearMonth as_month(const ConfigNode& node) {
  YearMonth m;
  if (!node.is_scalar() || !parse_year_month(node.scalar, m))
    node.fail(fmt::format("expected a month as YYYY-MM, got '{}'", node.scalar));
  return m;
}

}  // namespace childsim::config
