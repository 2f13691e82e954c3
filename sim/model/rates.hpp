// rates: the scenario's demographic numbers packed into flat arrays for the monthly loop.
//
// Everything here is derived once per scenario from base data, parameters and scenario
// choices, and is the same for every replicate. Annual probabilities become monthly hazards
// (1 − (1 − q)^(1/12)); fertility becomes a monthly birth probability per woman by month and
// single year of age (TFR(year) × shape(age) / 12).
#pragma once

#include "sim/scenario/scenario.hpp"  // Scenario

#include <array>   // std::array
#include <vector>  // std::vector

namespace childsim {

/// Deterministic starting counts by street and single year of age (before scaling is applied
/// they are whole numbers; see initial_counts()).
struct InitialCounts {
  std::vector<std::vector<int>> children;  ///< [street][age 0..17]
  std::vector<std::vector<int>> women;     ///< [street][age 18..49 → index age−18]
  std::vector<double> residents;           ///< [street], January 2024, scaled
  /// Residents who are not agents (men 18+, women 50+) by [street × n_sexes + sex][age − 18],
  /// ages 18..BaseData::max_age: the street's residents minus its children and women 18–49,
  /// split by population.yaml adult_age_weights and the men-per-woman parameters.
  std::vector<std::vector<int>> adults;
};

/// Split the district's children and women over streets in proportion to population
/// (largest-remainder rounding, so counts are whole and add up exactly).
InitialCounts initial_counts(const Scenario& sc);

struct Rates {
  int n_streets = 0;
  int n_months = 0;
  static constexpr int n_child_ages = 18;
  static constexpr int n_women_ages = 32;                          ///< 18..49
  static constexpr int n_adult_ages = BaseData::max_age - 18 + 1;  ///< 18..max_age

  /// Children born per woman and month, by month and age: district level × TFR(year) ×
  /// shape(age) / 12 (the age-specific rate the births keep; births.hpp).
  std::vector<double> birth_prob;  ///< [month × n_women_ages]
  // Who bears them (births.hpp): relative risks by parity and partnership, renormalised each
  // month so that the age-specific rate above holds; a lever on births of order two and later
  // that is not renormalised; a minimum interval between deliveries; twins.
  std::array<double, 3> parity_relative{{1.0, 1.0, 1.0}};  ///< women of parity 0, 1, 2+
  double unpartnered_relative = 1.0;
  double higher_order_multiplier = 1.0;
  int min_birth_interval_months = 12;
  double twins_per_delivery = 0.0;  ///< τ: the probability that a delivery is of twins
  double partnering_rate = 0.0;     ///< annual hazard that a single woman 18–49 forms a couple
  double partnering_hazard = 0.0;   ///< the same, monthly
  std::vector<double> child_death_hazard;  ///< monthly, [age 0..17]
  double women_death_hazard = 0;
  /// Monthly probability that a household leaves the district, by the mother's age in
  /// completed years 0..n_out_ages−1 (older: the last entry); Rogers–Castro labour-force
  /// schedule (migration_schedule.hpp).
  std::vector<double> out_hazard_by_age;
  static constexpr int n_out_ages = 100;
  double between_hazard = 0;  ///< monthly probability it moves to another street
  double p_boy = 0.5;
  std::vector<std::vector<double>> destination;      ///< [from][to] probabilities of a between move
  std::vector<std::vector<double>> destination_cdf;  ///< cumulative, for draw_index
  std::vector<double>
      inflow_households;  ///< expected arriving women (families) per month, [street]

  // Household attributes (probabilities).
  double p_partnered = 0, p_mother_works = 0, p_partner_works = 0, p_grandparent = 0,
         p_hukou_local = 0, p_income_low = 0, p_income_high = 0;

  // Arriving (and new-housing) families: the woman's age in completed years 18..49 is drawn
  // from in_age_cdf (Rogers–Castro labour-force schedule); for each completed year of her
  // life y = 18..age−1 she has had a child with probability in_birth_prob[y − 18] (her past
  // fertility, migration.in_fertility × the fertility shape), and brings those under 18.
  std::vector<double> in_age_cdf;     ///< cumulative, ages 18..49
  std::vector<double> in_birth_prob;  ///< [y − 18], y = 18..49
  std::vector<double> asfr_cdf;       ///< cumulative fertility shape (initial mothers)

  // Residents who are not agents (counts; residents.hpp). Each month a person of sex x and age
  // a (completed years) has an event with probability resident_event_prob[x × n_adult_ages +
  // a − 18] (death + leaving the district + moving street, hazards added); an event is a death
  // with probability resident_death_share, else leaving with resident_out_share / (1 − death
  // share), else a move to another street.
  std::vector<double> adult_death_hazard;  ///< monthly, [sex × n_adult_ages + a − 18]
  std::vector<double> resident_event_prob, resident_death_share, resident_out_share;
  std::vector<double> resident_inflow;  ///< expected arrivals a month, [street × n_sexes + sex]
  std::vector<std::vector<double>> resident_in_age_cdf;  ///< [sex], cumulative, ages 18..max

  /// Families moving into new housing, [month][street] households.
  std::vector<std::vector<int>> housing_households;

  double out_hazard(int mother_age_years) const {
    const int a = mother_age_years < 0             ? 0
                  : mother_age_years >= n_out_ages ? n_out_ages - 1
                                                   : mother_age_years;
    return out_hazard_by_age[static_cast<std::size_t>(a)];
  }
  double birth_probability(int month, int age_years) const {
    return birth_prob[static_cast<std::size_t>(month * n_women_ages + age_years - 18)];
  }
};

Rates make_rates(const Scenario& sc, const InitialCounts& counts);

/// The annual probability that a family whose mother is aged `age` (exact years) leaves the
/// district, from the migration.out_* parameters (docs/model.md, "Migration").
double out_probability(const ParameterTable& p, double age);

/// The annual probability of death at age `age_years` (18..BaseData::max_age) of a resident
/// of `sex` who is not an agent: the Gompertz–Makeham life table of mortality.adult_*.
double adult_death_probability(const ParameterTable& p, int sex, int age_years);

/// The relative weight of arriving women aged `age` (exact years), from migration.in_*.
double in_age_weight(const ParameterTable& p, double age);

/// Cumulative sums of `weights`, normalised to end at 1.
std::vector<double> cumulative(const std::vector<double>& weights);

/// The index drawn with uniform `u` in [0, 1) from cumulative probabilities `cdf`: the first
/// i with u < cdf[i] (inverse-CDF sampling; one uniform number per draw, no allocation).
int draw_index(const std::vector<double>& cdf, double u);

/// Monthly hazard from an annual probability.
double monthly_hazard(double annual_probability);

}  // namespace childsim
