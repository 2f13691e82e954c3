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
#include <map>     // std::map
#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim {

struct BaseData;

/// A value that changes by calendar year: each point holds from January of its year until the
/// next point; before the first point, the first value holds.
struct YearPath {
  std::map<int, double> points;
  double at(int year) const;
};

/// A childcare subsidy (yuan per child a year, paid monthly in twelfths) from `start` until
/// `end` (exclusive). Subsidies add up; each lowers the net nursery price of children under
/// 36 months, and each is costed (recipients × months × amount).
struct Subsidy {
  std::string id;
  YearPath amount_year;         ///< yuan per child a year
  bool from_parameter = false;  ///< the national subsidy: amount = policy.childcare_subsidy_year
  YearMonth start{2025, 1};
  YearMonth end{9999, 12};     ///< first month without it (exclusive)
  bool enrolled_only = false;  ///< paid only for children holding a nursery place (a fee
                               ///< subsidy, at most the fee); else to every child under 3
  /// Yuan per child in `month` (0 outside start..end); `national` is the parameter's value.
  double month_amount(YearMonth month, double national_year) const;
};

/// The cap on the monthly price of inclusive (普惠) nursery-age care, dated.
struct PriceCap {
  bool set = false;
  YearPath cap_month;  ///< yuan a month
  YearMonth start{0, 1};
  YearMonth end{9999, 12};  ///< first month without the cap (exclusive)
  /// The cap in `month`, or +infinity when none is in effect.
  double at(YearMonth month) const;
};

/// Structural policy levers (the national subsidy amount is a parameter).
struct Policy {
  /// Subsidies in effect, in order: the built-in national subsidy (id `national`, from January
  /// 2025) first unless removed or replaced, then the scenario's `subsidies:`.
  std::vector<Subsidy> subsidies{Subsidy{"national", {}, true}};
  PriceCap inclusive_price_cap;
  bool public_hukou_only = false;  ///< nursery classes only for Shanghai-hukou families
  /// Baby-room outreach (home visits, invitations at child health checks) from `start` until
  /// `end` (exclusive; none: to the end of the run): raises take-up by
  /// babyroom.outreach_log_odds.
  bool babyroom_outreach = false;
  bool babyroom_outreach_has_end = false;
  YearMonth babyroom_outreach_start{2024, 1}, babyroom_outreach_end{2024, 1};
};

/// One applied investment, kept for reporting.
struct Investment {
  std::string id;  ///< its `id` (the facility id for `open`), else its name
  std::string name;
  std::string action;  ///< add_capacity, remove_capacity, open, close
  int facility = -1;   ///< facility index it changed (or opened)
  YearMonth start;
  int amount = 0;
  double capital_cost = 0, running_cost_year = 0;
};

/// Validate and apply `list` (the scenario's `investments:`, inherited items first; see
/// list_edits.hpp for `remove:` and `replace:`) to `fac`. Throws ConfigError.
std::vector<Investment> apply_investments(const config::ConfigNode& list, const BaseData& base,
                                          YearMonth start, YearMonth end, Facilities& fac);

/// Read the scenario's `policy:` map (`subsidies:`, `inclusive_price_cap:`,
/// `public_nursery_hukou_only:`); numeric levers that are parameters are read by the caller.
/// The removed key `subsidy_start` is an error that says what to write instead. Throws
/// ConfigError.
Policy read_policy(config::MapReader& r);

}  // namespace childsim
