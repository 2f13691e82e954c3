// rates: packing scenario numbers for the monthly loop.
#include "sim/model/rates.hpp"

#include "sim/core/check.hpp"  // CHILDSIM_CHECK

#include <algorithm>  // std::sort, std::upper_bound
#include <cmath>      // std::pow, std::floor, std::llround
#include <numeric>    // std::accumulate

namespace childsim {
namespace {

// Largest-remainder split of `total` in proportion to `weights`: whole numbers that add up
// to round(total) exactly; ties go to the lower index so the result is deterministic.
std::vector<int> split_whole(double total, const std::vector<double>& weights) {
  const long target = std::lround(total);
  const double wsum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<int> out(weights.size());
  std::vector<std::pair<double, std::size_t>> rem;
  long given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double exact = static_cast<double>(target) * weights[i] / wsum;
    out[i] = static_cast<int>(std::floor(exact));
    given += out[i];
    rem.emplace_back(-(exact - out[i]), i);
  }
  std::sort(rem.begin(), rem.end());
  for (long k = 0; k < target - given; ++k) out[rem[static_cast<std::size_t>(k)].second] += 1;
  return out;
}

}  // namespace

double monthly_hazard(double q) {
  return 1.0 - std::pow(1.0 - q, 1.0 / 12.0);
}

std::vector<double> cumulative(const std::vector<double>& weights) {
  std::vector<double> cdf(weights.size());
  double sum = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) cdf[i] = sum += weights[i];
  for (double& x : cdf) x /= sum;
  if (!cdf.empty()) cdf.back() = 1.0;  // no rounding gap at the top
  return cdf;
}

int draw_index(const std::vector<double>& cdf, double u) {
  const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
  const auto i = static_cast<int>(it - cdf.begin());
  return i < static_cast<int>(cdf.size()) ? i : static_cast<int>(cdf.size()) - 1;
}

InitialCounts initial_counts(const Scenario& sc) {
  const BaseData& b = sc.base;
  const int ns = b.n_streets();
  const double carry = b.parameters["population.carry_to_2024"];
  const double women_share = b.parameters["population.women_18_49_share"];
  InitialCounts c;
  c.children.assign(ns, std::vector<int>(Rates::n_child_ages));
  c.women.assign(ns, std::vector<int>(Rates::n_women_ages));
  std::vector<double> pop(ns);
  for (int s = 0; s < ns; ++s) pop[s] = b.streets[s].population_2020;
  for (int s = 0; s < ns; ++s) c.residents.push_back(pop[s] * carry * sc.population_scale);
  for (int a = 0; a < Rates::n_child_ages; ++a) {
    const auto by_street = split_whole(b.children_by_age[a] * sc.population_scale, pop);
    for (int s = 0; s < ns; ++s) c.children[s][a] = by_street[s];
  }
  for (int s = 0; s < ns; ++s)
    c.women[s] = split_whole(c.residents[s] * women_share, b.women_age_weights);
  return c;
}

Rates make_rates(const Scenario& sc, const InitialCounts& counts) {
  const BaseData& b = sc.base;
  const ParameterTable& p = b.parameters;
  Rates r;
  r.n_streets = b.n_streets();
  r.n_months = sc.n_months();

  r.birth_prob.resize(static_cast<std::size_t>(r.n_months * Rates::n_women_ages));
  for (int t = 0; t < r.n_months; ++t) {
    const double tfr = sc.tfr.at(sc.start.plus(t).year) * p["fertility.tfr_multiplier"];
    for (int a = 0; a < Rates::n_women_ages; ++a) {
      const double prob = tfr * b.asfr_shape[static_cast<std::size_t>(a)] / 12.0;
      CHILDSIM_CHECK(prob < 1.0, "monthly birth probability must be below 1");
      r.birth_prob[static_cast<std::size_t>(t * Rates::n_women_ages + a)] = prob;
    }
  }
  for (double q : b.child_death_probability) r.child_death_hazard.push_back(monthly_hazard(q));
  r.women_death_hazard = monthly_hazard(p["mortality.women_annual"]);
  r.out_hazard = monthly_hazard(p["migration.out_rate"]);
  r.between_hazard = monthly_hazard(p["migration.between_rate"]);
  const double srb = p["fertility.sex_ratio_at_birth"];
  r.p_boy = srb / (1.0 + srb);

  // Destinations of between-street moves: a share goes to neighbours (equally), the rest to
  // any other street in proportion to its population.
  const double nb_share = p["migration.neighbour_share"];
  r.destination.assign(r.n_streets, std::vector<double>(r.n_streets, 0.0));
  for (int s = 0; s < r.n_streets; ++s) {
    std::vector<int> nbs;
    for (auto [a, c] : b.neighbours) {
      if (a == s) nbs.push_back(c);
      if (c == s) nbs.push_back(a);
    }
    double other_pop = 0;
    for (int d = 0; d < r.n_streets; ++d)
      if (d != s) other_pop += b.streets[d].population_2020;
    const double to_nb = nbs.empty() ? 0.0 : nb_share;
    for (int d = 0; d < r.n_streets; ++d)
      if (d != s) r.destination[s][d] = (1.0 - to_nb) * b.streets[d].population_2020 / other_pop;
    for (int d : nbs) r.destination[s][d] += to_nb / static_cast<double>(nbs.size());
  }

  // Arrivals balance (× inflow_ratio) the expected departures of the January-2024 women's
  // households, so that with ratio 1 the district's family stock is roughly stable.
  const double ratio = p["migration.inflow_ratio"];
  for (int s = 0; s < r.n_streets; ++s) {
    const auto& w = counts.women[s];
    const double women = std::accumulate(w.begin(), w.end(), 0.0);
    r.inflow_households.push_back(ratio * r.out_hazard * women);
  }

  r.p_partnered = p["household.partnered"];
  r.p_mother_works = p["household.mother_works"];
  r.p_partner_works = p["household.partner_works"];
  r.p_grandparent = p["household.grandparent_care"];
  r.p_hukou_local = p["household.hukou_local"];
  r.p_income_low = p["household.income_low"];
  r.p_income_high = p["household.income_high"];

  r.in_mother_age_from = b.in_mother_age_from;
  r.in_mother_age_weights = b.in_mother_age_weights;
  r.in_children_count_probabilities = b.in_children_count_probabilities;
  r.in_mother_age_cdf = cumulative(r.in_mother_age_weights);
  r.in_children_count_cdf = cumulative(r.in_children_count_probabilities);
  r.asfr_cdf = cumulative(b.asfr_shape);
  for (const auto& row : r.destination) r.destination_cdf.push_back(cumulative(row));

  r.housing_households.assign(r.n_months, std::vector<int>(r.n_streets, 0));
  for (const auto& h : sc.housing) {
    for (int k = 0; k < h.months; ++k) {
      const int t = months_between(sc.start, h.start) + k;
      if (t < 0 || t >= r.n_months) continue;
      // Whole households per month; the remainder goes to the first months.
      const int n = h.households / h.months + (k < h.households % h.months ? 1 : 0);
      r.housing_households[t][h.street] += static_cast<int>(std::lround(n * sc.population_scale));
    }
  }
  return r;
}

}  // namespace childsim
