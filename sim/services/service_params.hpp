// service_params: the service submodels' parameters, read once from the parameter table.
//
// Names, units, ranges and sources are in scenarios/<place>/parameters.yaml (docs/data.md).
#pragma once

#include "sim/scenario/scenario.hpp"  // Scenario

#include <array>   // std::array
#include <cmath>   // std::sqrt
#include <vector>  // std::vector

namespace childsim {

struct ServiceParams {
  // Nursery: who wants formal full-day care (log-odds terms of a logistic model) ...
  double seek_intercept = 0, seek_all_parents_work = 0, seek_grandparent = 0, seek_income_low = 0,
         seek_income_high = 0, seek_age_per_year = 0, seek_taste = 0, seek_net_price_per_1000 = 0;
  // ... and where (multinomial logit over facilities).
  double beta_distance_per_km = 0, beta_net_price_per_1000 = 0, beta_quality = 0;
  std::vector<double> asc_by_kind;  ///< alternative-specific constant per facility kind
  double max_distance_km = 5;
  int max_wait_months = 6;
  /// Per model month, yuan per child under 36 months: subsidies paid to every such child
  /// (the national one) and fee subsidies paid only for a child holding a nursery place
  /// (at most the fee). Both lower the net price a family weighs (scenario `policy.subsidies`).
  std::vector<double> subsidy_every_child_month, subsidy_enrolled_month;
  /// Per model month, the cap on inclusive nursery prices (yuan a month; +inf when none).
  std::vector<double> price_cap_month;

  double babyroom_take_up = 0, babyroom_sessions_per_month = 0;
  // Baby-room take-up (docs/model.md §7.12): a logit whose log-odds are those of
  // babyroom.take_up for a family 1 km's walk from a room of the reference size (660
  // child-sessions a month) without outreach, plus the terms below.
  double babyroom_beta_distance_per_km = 0;  ///< per km of walking beyond 1 km (negative)
  double babyroom_beta_log_sessions = 0;     ///< per unit of ln(room's sessions / 660)
  double babyroom_outreach_log_odds = 0;     ///< added in months of the outreach policy
  int babyroom_outreach_from = 0, babyroom_outreach_until = 0;  ///< model months [from, until)
  /// Probability that a family of an eligible child uses a baby room whose walk is
  /// `distance_km` and which offers `room_sessions` child-sessions a month.
  double babyroom_probability(double distance_km, double room_sessions, bool outreach) const;
  double kindergarten_take_up = 1;
  double holiday_take_up = 0;

  std::array<double, 18> clinic_visits_by_age{};  ///< visits per child per year
  double clinic_winter_peak = 0, clinic_service_minutes = 10, clinic_session_hours = 4;
  double clinic_beta_distance_per_km = 0, clinic_asc_hospital = 0, clinic_beta_quality = 0;
  /// Distance from every home to a clinic outside the district (street `outside`), in km.
  double clinic_outside_distance_km = 5;
  /// Half-day sessions a clinic opens in a month; its doctor-sessions are spread over them.
  int clinic_half_days_per_month = 20;
  /// Longest expected wait, in minutes, at which a family still joins a clinic's line.
  double clinic_wait_tolerance_minutes = 120;

  double walk_speed_m_per_min = 80, detour_factor = 1.3, walk_minutes = 15;

  /// Walking distance in metres between two points (straight line × detour factor). Inline:
  /// every service computes it per child and facility. Not std::hypot: its overflow-safe path
  /// is several times slower, and distances here are at most tens of kilometres.
  double walk_m(double x1, double y1, double x2, double y2) const {
    const double dx = x1 - x2, dy = y1 - y2;
    return detour_factor * std::sqrt(dx * dx + dy * dy);
  }
};

ServiceParams make_service_params(const Scenario& sc);

}  // namespace childsim
