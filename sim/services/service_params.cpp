// service_params: reading the service parameters.
#include "sim/services/service_params.hpp"

#include <algorithm>  // std::clamp, std::max
#include <cmath>      // std::lround, std::log, std::exp
#include <limits>     // std::numeric_limits

namespace childsim {

double ServiceParams::babyroom_probability(double distance_km, double room_sessions,
                                           bool outreach) const {
  constexpr double kReferenceSessions = 660.0;  // 15 children at once x 2 a day x 22 days
  constexpr double kReferenceKm = 1.0;
  const double p0 = std::clamp(babyroom_take_up, 1e-9, 1.0 - 1e-9);
  const double log_odds =
      std::log(p0 / (1.0 - p0)) + babyroom_beta_distance_per_km * (distance_km - kReferenceKm) +
      babyroom_beta_log_sessions * std::log(std::max(room_sessions, 1.0) / kReferenceSessions) +
      (outreach ? babyroom_outreach_log_odds : 0.0);
  return 1.0 / (1.0 + std::exp(-log_odds));
}

ServiceParams make_service_params(const Scenario& sc) {
  const ParameterTable& p = sc.base.parameters;
  ServiceParams s;
  s.seek_intercept = p["nursery.seek_intercept"];
  s.seek_all_parents_work = p["nursery.seek_all_parents_work"];
  s.seek_grandparent = p["nursery.seek_grandparent"];
  s.seek_income_low = p["nursery.seek_income_low"];
  s.seek_income_high = p["nursery.seek_income_high"];
  s.seek_age_per_year = p["nursery.seek_age_per_year"];
  s.seek_taste = p["nursery.seek_taste"];
  s.seek_net_price_per_1000 = p["nursery.seek_net_price_per_1000"];
  s.beta_distance_per_km = p["nursery.beta_distance_per_km"];
  s.beta_net_price_per_1000 = p["nursery.beta_net_price_per_1000"];
  s.beta_quality = p["nursery.beta_quality"];
  for (const auto& k : sc.facilities.kinds) {
    const Parameter* asc = sc.base.parameters.find("nursery.asc_" + k.id);
    s.asc_by_kind.push_back(asc ? asc->value : 0.0);
  }
  s.max_distance_km = p["nursery.max_distance_km"];
  s.max_wait_months = static_cast<int>(std::lround(p["nursery.max_wait_months"]));
  const double national = p["policy.childcare_subsidy_year"];
  const auto n_months = static_cast<std::size_t>(sc.n_months());
  s.subsidy_every_child_month.assign(n_months, 0.0);
  s.subsidy_enrolled_month.assign(n_months, 0.0);
  s.price_cap_month.assign(n_months, 0.0);
  for (std::size_t t = 0; t < n_months; ++t) {
    const YearMonth m = sc.start.plus(static_cast<int>(t));
    for (const Subsidy& sub : sc.policy.subsidies)
      (sub.enrolled_only ? s.subsidy_enrolled_month : s.subsidy_every_child_month)[t] +=
          sub.month_amount(m, national);
    s.price_cap_month[t] = sc.policy.inclusive_price_cap.at(m);
  }

  s.babyroom_take_up = p["babyroom.take_up"];
  s.babyroom_sessions_per_month = p["babyroom.sessions_per_month"];
  s.babyroom_beta_distance_per_km = p["babyroom.beta_distance_per_km"];
  s.babyroom_beta_log_sessions = p["babyroom.beta_log_sessions"];
  s.babyroom_outreach_log_odds = p["babyroom.outreach_log_odds"];
  if (sc.policy.babyroom_outreach) {
    s.babyroom_outreach_from = months_between(sc.start, sc.policy.babyroom_outreach_start);
    s.babyroom_outreach_until = sc.policy.babyroom_outreach_has_end
                                    ? months_between(sc.start, sc.policy.babyroom_outreach_end)
                                    : std::numeric_limits<int>::max();
  }
  s.kindergarten_take_up = p["kindergarten.take_up"];
  s.holiday_take_up = p["holiday.take_up"];

  const double v0 = p["clinic.visits_age0"], v12 = p["clinic.visits_age1_2"],
               v35 = p["clinic.visits_age3_5"], v611 = p["clinic.visits_age6_11"],
               v1217 = p["clinic.visits_age12_17"];
  for (int a = 0; a < 18; ++a)
    s.clinic_visits_by_age[static_cast<std::size_t>(a)] = a == 0    ? v0
                                                          : a <= 2  ? v12
                                                          : a <= 5  ? v35
                                                          : a <= 11 ? v611
                                                                    : v1217;
  s.clinic_winter_peak = p["clinic.winter_peak"];
  s.clinic_service_minutes = p["clinic.service_minutes"];
  s.clinic_session_hours = p["clinic.session_hours"];
  s.clinic_beta_distance_per_km = p["clinic.beta_distance_per_km"];
  s.clinic_asc_hospital = p["clinic.asc_hospital"];
  s.clinic_beta_quality = p["clinic.beta_quality"];
  s.clinic_outside_distance_km = p["clinic.outside_distance_km"];
  s.clinic_half_days_per_month = static_cast<int>(std::lround(p["clinic.half_days_per_month"]));
  s.clinic_wait_tolerance_minutes = p["clinic.wait_tolerance_minutes"];

  s.walk_speed_m_per_min = p["access.walk_speed_m_per_min"];
  s.detour_factor = p["access.detour_factor"];
  s.walk_minutes = p["access.walk_minutes"];
  return s;
}

}  // namespace childsim
