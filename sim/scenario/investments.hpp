// investments: dated changes to the facilities — add or remove capacity, open or close a
// facility — with their capital and running costs, and the policy levers of a scenario.
//
// Investments are written in the scenario's `investments:` list (docs/scenarios.md) and
// applied to the facilities' capacity and cost schedules once, before any replicate runs, so
// the monthly loop only ever reads `capacity(f, t)`. A change takes effect from the first day
// of its `start` month and lasts until its optional `end` month (exclusive). A start after the
// run's last month has no effect in that run; a start before its first month is in effect
// from the first month (its capital cost, spent before the run, is not recorded).
#pragma once

#include "sim/config/config_tree.hpp"   // ConfigNode
#include "sim/core/time.hpp"            // YearMonth
#include "sim/services/facilities.hpp"  // Facilities

#include <limits>  // std::numeric_limits
#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim {

struct BaseData;

/// Structural policy levers (numbers such as the subsidy amount are parameters).
struct Policy {
  YearMonth subsidy_start{2025, 1};  ///< national childcare subsidy from January 2025
  double inclusive_price_cap = std::numeric_limits<double>::infinity();  ///< yuan per month
  bool public_hukou_only = false;  ///< nursery classes only for Shanghai-hukou families
  /// Baby-room outreach (home visits, invitations at child health checks) from `start` until
  /// `end` (exclusive; none: to the end of the run): raises take-up by
  /// babyroom.outreach_log_odds.
  bool babyroom_outreach = false;
  bool babyroom_outreach_has_end = false;
  YearMonth babyroom_outreach_start{2024, 1}, babyroom_outreach_end{2024, 1};
};

/// Read the policy `kindergarten_catchment` into `fac.catchment`: `street` (each kindergarten
/// is the catchment kindergarten of its own street) or a list of
/// `{kindergarten: <id>, streets: [<street id>, ...]}`. Throws config::ConfigError at the
/// offending id.
void apply_kindergarten_catchment(const config::ConfigNode& node, const BaseData& base,
                                  Facilities& fac);

/// One applied investment, kept for reporting.
struct Investment {
  std::string name;
  std::string action;  ///< add_capacity, remove_capacity, open, close
  int facility = -1;   ///< facility index it changed (or opened)
  YearMonth start;
  int amount = 0;
  double capital_cost = 0, running_cost_year = 0;
};

/// Validate and apply `list` (the scenario's `investments:`) to `fac`. Throws ConfigError.
std::vector<Investment> apply_investments(const config::ConfigNode& list, const BaseData& base,
                                          YearMonth start, YearMonth end, Facilities& fac);

/// Read the scenario's `policy:` map; numeric levers are written into `parameters` overrides
/// by the caller. Throws ConfigError.
Policy read_policy(config::MapReader& r);

}  // namespace childsim
