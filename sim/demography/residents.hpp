// residents: the residents who are not agents, as exact counts that age, die, arrive and leave.
//
// Who is an agent and who is a count (docs/model.md, "Entities"): children 0–17 and every
// woman 18–49 (with older mothers while a child is at home) are agents, because their
// attributes drive births and services. Everyone else — men 18 and over (partners included),
// women 50 and over without a child at home — is a count by street, sex and birth month
// (State::residents). Counts are exact whole persons, cost the same however large the
// district is, and need no attributes: nothing they do depends on anything but sex, age and
// street.
//
// Each month, for every (street, sex) in parallel — one random stream each, cells in age order:
//   1. events   a cohort of n persons aged a has K ~ Binomial(n, p(a)) events, p(a) the sum of
//               the monthly hazards of death (life table, mortality.adult_*), of leaving the
//               district (the families' Rogers–Castro schedule at the person's own age) and
//               of moving to another street (migration.between_rate); each event is a death,
//               a departure or a move in proportion to its hazard;
//   2. moves    applied after all streets have drawn, in (street, sex) order, so nobody moves
//               twice and the result does not depend on threads;
//   3. arrivals Poisson by street and sex (Rates::resident_inflow), ages by the arrival
//               schedule (Rates::resident_in_age_cdf), birth month uniform within the year.
// People join the counts without a flow when they leave the agent tables alive: sons turning
// 18 (demography.cpp, age_out) and women whose household retires (retire_households).
#pragma once

#include "sim/model/rates.hpp"        // Rates
#include "sim/model/state.hpp"        // State, ResidentCounts, MonthFlows
#include "sim/scenario/scenario.hpp"  // Scenario

#include <cstdint>  // std::int32_t

namespace childsim {

/// An empty table wide enough for every birth month a count can hold during `n_months`
/// months: from the oldest age at the start (BaseData::max_age) to those turning 18 last.
ResidentCounts make_resident_counts(int n_streets, int n_months);

/// Put one person of `street` and `sex` born in `birth_month` into the counts (no flow: used
/// when someone leaves the agent tables alive).
inline void add_resident(State& state, int street, int sex, int birth_month) {
  state.residents.at(street, sex, birth_month) += 1;
}

/// Fill the counts at the start: `counts.adults` spread evenly over the 12 birth months of
/// each year of age at month 0, minus the agents already counted among them (older mothers
/// in `state.households`, taken from the same year of age or the next older one).
void build_resident_counts(State& state, const InitialCounts& counts, int n_months);

/// One month of the counts: events, moves between streets, arrivals (see above). Records
/// deaths, migrants and movers by street, sex and age group in `flows`.
void step_residents(State& state, const Scenario& sc, const Rates& rates, MonthFlows& flows);

/// The inversion loop of binomial_by_inversion, for n > 0, 0 < p < 1 (any u).
int binomial_by_inversion_loop(int n, double p, double u);

/// K ~ Binomial(n, p) from one uniform `u` by inversion (exact; fast for the small n × p of
/// one cohort and month). `p` must be below 1. Inline: step_residents calls it for every
/// non-empty cohort, and most return at the shortcut.
inline int binomial_by_inversion(int n, double p, double u) {
  if (n <= 0 || p <= 0.0) return 0;
  // Most cohorts have no event in a month: K = 0 whenever u < P(K = 0) = (1 − p)^n, which is
  // at least 1 − n p (Bernoulli's inequality). The computed P(K = 0) of the loop is within a
  // relative 3e-13 of the true value (|n log(1 − p)| < 746 where it is not 0; log1p, the
  // product and exp each within an ulp or two), and 1 − n p is computed within 2^-53, so u
  // below 1 − n p − 1e-9 is below the computed P(K = 0) too: the answer, 0, is the loop's,
  // without a log and an exp.
  if (u < 1.0 - n * p - 1e-9) return 0;
  return binomial_by_inversion_loop(n, p, u);
}

/// All residents (children, women of the household tables, counts) by [(street × n_sexes +
/// sex) × n_age_groups + age group], with ages at `month`; `out` must hold zeros.
void count_residents_by_age(const State& state, int month, std::int32_t* out);

}  // namespace childsim
