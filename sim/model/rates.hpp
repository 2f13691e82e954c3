// rates: the scenario's demographic numbers packed into flat arrays for the monthly loop.
//
// Everything here is derived once per scenario from base data, parameters and scenario
// choices, and is the same for every replicate. Annual probabilities become monthly hazards
// (1 − (1 − q)^(1/12)); fertility becomes a monthly birth probability per woman by month and
// single year of age (TFR(year) × shape(age) / 12).
#pragma once

#include "sim/scenario/scenario.hpp"  // Scenario

#include <vector>  // std::vector

namespace childsim {

/// Deterministic starting counts by street and single year of age (before scaling is applied
/// they are whole numbers; see initial_counts()).
struct InitialCounts {
  std::vector<std::vector<int>> children;  ///< [street][age 0..17]
  std::vector<std::vector<int>> women;     ///< [street][age 18..49 → index age−18]
  std::vector<double> residents;           ///< [street], January 2024, scaled
};

/// Split the district's children and women over streets in proportion to population
/// (largest-remainder rounding, so counts are whole and add up exactly).
InitialCounts initial_counts(const Scenario& sc);

struct Rates {
  int n_streets = 0;
  int n_months = 0;
  static constexpr int n_child_ages = 18;
  static constexpr int n_women_ages = 32;  ///< 18..49

  std::vector<double> birth_prob;          ///< [month × n_women_ages]
  std::vector<double> child_death_hazard;  ///< monthly, [age 0..17]
  double women_death_hazard = 0;
  double out_hazard = 0;      ///< monthly probability a household leaves the district
  double between_hazard = 0;  ///< monthly probability it moves to another street
  double p_boy = 0.5;
  std::vector<std::vector<double>> destination;      ///< [from][to] probabilities of a between move
  std::vector<std::vector<double>> destination_cdf;  ///< cumulative, for draw_index
  std::vector<double> inflow_households;  ///< expected arriving households per month, [street]

  // Household attributes (probabilities).
  double p_partnered = 0, p_mother_works = 0, p_partner_works = 0, p_grandparent = 0,
         p_hukou_local = 0, p_income_low = 0, p_income_high = 0;

  // In-migrant and new-housing family template.
  int in_mother_age_from = 20;
  std::vector<double> in_mother_age_weights;
  std::vector<double> in_children_count_probabilities;
  std::vector<double> in_mother_age_cdf, in_children_count_cdf, asfr_cdf;  ///< cumulative

  /// Families moving into new housing, [month][street] households.
  std::vector<std::vector<int>> housing_households;

  double birth_probability(int month, int age_years) const {
    return birth_prob[static_cast<std::size_t>(month * n_women_ages + age_years - 18)];
  }
};

Rates make_rates(const Scenario& sc, const InitialCounts& counts);

/// Cumulative sums of `weights`, normalised to end at 1.
std::vector<double> cumulative(const std::vector<double>& weights);

/// The index drawn with uniform `u` in [0, 1) from cumulative probabilities `cdf`: the first
/// i with u < cdf[i] (inverse-CDF sampling; one uniform number per draw, no allocation).
int draw_index(const std::vector<double>& cdf, double u);

/// Monthly hazard from an annual probability.
double monthly_hazard(double annual_probability);

}  // namespace childsim
