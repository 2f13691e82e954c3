// births: who gives birth in a month — the age-specific rate kept, parity deciding who bears.
//
// The scenario's fertility path gives the number of children born per woman of each age and
// month (Rates::birth_prob: district level × TFR(year) × shape(age) / 12). Which women bear
// them depends on their parity (children borne so far) and on whether they live with a
// partner: a woman of age a, parity p and partnership c, who has not delivered in the last
// fertility.min_birth_interval_months months, delivers with probability
//     q = rate(a) / (1 + τ) × N(a) / W(a) × w(p, c) × m(p),
// where N(a) is the district's women of age a, W(a) = Σ w over those of them at risk,
// w(p, c) = parity_relative[min(p, 2)] × (c ? 1 : unpartnered_relative) and
// m(p) = higher_order_multiplier for p ≥ 1 (else 1). A delivery is of twins with probability
// τ (from fertility.twin_share). With m = 1 the expected children born at age a are exactly
// rate(a) × N(a): the relative risks decide the order of births, not their number, so the
// documented TFR path and the independent cohort-component projection still hold. The lever m
// is applied after the renormalisation, so a policy aimed at second and later births changes
// their number (docs/model.md, "Births and parity").
//
// N and W are counted over the whole district (not by street): a street's few women of one
// age could otherwise all be inside their birth interval, and the rate could not be kept.
#pragma once

#include "sim/model/rates.hpp"  // Rates
#include "sim/model/state.hpp"  // State

#include <vector>  // std::vector

namespace childsim {

/// The relative risk w(p, c) × m(p) of a woman of parity `parity` (partnered or not), before
/// renormalisation; `lever` false leaves out m(p) (the renormalised part).
double birth_weight(const Rates& r, int parity, bool partnered, bool lever);

/// Whether a woman whose last delivery was in `last_birth_month` may deliver in `month`.
inline bool at_risk_of_birth(const Rates& r, int month, int last_birth_month) {
  return month - last_birth_month >= r.min_birth_interval_months;
}

/// N(a) / W(a) for ages 18..49 (index age − 18) in the current month (0 where W(a) = 0):
/// multiplies rate(a) × w so that the expected births at each age are rate(a) × N(a).
std::vector<double> birth_renormalisation(const State& state, const Rates& r);

/// The same from `state.census` (which must be kept: state.hpp): the women by birth month,
/// parity and partnership, and those within the birth interval from its list of recent
/// deliveries; no pass over the household rows. birth_table uses it when the census is kept.
std::vector<double> birth_renormalisation_from_census(const State& state, const Rates& r);

/// Drop from `state.census.recent_deliveries` the rows whose woman is at risk again (or is no
/// longer counted: gone, dead, aged 50) in month `state.month`; once a month, before the
/// deliveries (birth_renormalisation_from_census gives the same counts either way: it tests
/// each listed row; this keeps the list short).
void prune_recent_deliveries(State& state, const Rates& r);

/// The month's delivery probabilities of women at risk, by age 18..49, parity class (0, 1,
/// 2+) and partnership: q of the formula above, capped at 1. Built once a month, so the
/// per-woman work is a lookup.
struct BirthTable {
  std::vector<double> q;  ///< [(age − 18) × 6 + parity class × 2 + partnered]
  double at(int age_years, int parity, bool partnered) const {
    const int p = parity < 2 ? parity : 2;
    return q[static_cast<std::size_t>((age_years - 18) * 6 + p * 2 + (partnered ? 1 : 0))];
  }
};

/// The table of month `state.month` (counts the district's women: call it once a month).
BirthTable birth_table(const State& state, const Rates& r);

/// prune_recent_deliveries, then birth_table, in one pass over the list of recent deliveries
/// (in parallel over blocks of it): the same list and the same table. The census must be kept.
BirthTable prune_and_birth_table(State& state, const Rates& r);

/// The monthly probability that household row `i` delivers (0 when it cannot: no mother, not
/// aged 18–49, or within the minimum interval since her last delivery).
double delivery_probability(const State& state, const Rates& r, const BirthTable& table,
                            std::size_t i);

/// Birth-order class 0, 1, 2 (first, second, third or later) of a child of birth order
/// `order` (1-based).
inline int parity_class(int order) {
  return order <= 1 ? 0 : (order == 2 ? 1 : 2);
}

}  // namespace childsim
