// rates: packing scenario numbers for the monthly loop.
#include "sim/model/rates.hpp"

#include "sim/core/check.hpp"                     // CHILDSIM_CHECK
#include "sim/demography/migration_schedule.hpp"  // LabourPeak
#include "sim/model/state.hpp"                    // female, male, n_sexes

#include <algorithm>  // std::sort, std::upper_bound, std::max_element, std::min
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

double out_probability(const ParameterTable& p, double age) {
  const LabourPeak peak{p["migration.out_peak_age"], p["migration.out_rise"],
                        p["migration.out_fall"]};
  const double base = p["migration.out_base"];
  // Calibration may draw a base above the peak; the schedule is then flat at the base.
  const double excess = std::max(0.0, p["migration.out_rate"] - base);
  return base + excess * peak.relative(age);
}

double in_age_weight(const ParameterTable& p, double age) {
  const LabourPeak peak{p["migration.in_peak_age"], p["migration.in_rise"], p["migration.in_fall"]};
  return peak.relative(age);
}

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
  // The rest of each street's residents are men 18+ and women 50+ (counts): the census shape
  // by age (adult_age_weights) split by sex with the men-per-woman parameters.
  std::vector<double> cell_weights(static_cast<std::size_t>(n_sexes * Rates::n_adult_ages));
  for (int a = 18; a <= BaseData::max_age; ++a) {
    const double m = b.parameters[a < 60 ? "population.men_per_woman_under_60"
                                         : "population.men_per_woman_60_plus"];
    const double w = b.adult_age_weights[static_cast<std::size_t>(a - 18)];
    cell_weights[static_cast<std::size_t>(male * Rates::n_adult_ages + a - 18)] = w * m / (1 + m);
    cell_weights[static_cast<std::size_t>(female * Rates::n_adult_ages + a - 18)] =
        a >= 50 ? w / (1 + m) : 0.0;
  }
  for (int s = 0; s < ns; ++s) {
    double rest = static_cast<double>(std::llround(c.residents[s]));
    for (int x : c.children[s]) rest -= x;
    for (int x : c.women[s]) rest -= x;
    CHILDSIM_CHECK(rest >= 0, "a street has more children and women 18-49 than residents");
    const std::vector<int> cells = split_whole(rest, cell_weights);
    for (int sex = 0; sex < n_sexes; ++sex)
      c.adults.emplace_back(cells.begin() + sex * Rates::n_adult_ages,
                            cells.begin() + (sex + 1) * Rates::n_adult_ages);
  }
  return c;
}

double adult_death_probability(const ParameterTable& p, int sex, int age) {
  if (age >= BaseData::max_age) return 1.0;
  const double x = age + 0.5;  // the middle of the year of age
  const double mu =
      (p["mortality.adult_makeham"] +
       p["mortality.adult_hazard_60"] * std::exp(p["mortality.adult_slope"] * (x - 60))) *
      (sex == male ? p["mortality.male_relative"] : 1.0);
  return 1.0 - std::exp(-mu);
}

Rates make_rates(const Scenario& sc, const InitialCounts& counts) {
  const BaseData& b = sc.base;
  const ParameterTable& p = b.parameters;
  Rates r;
  r.n_streets = b.n_streets();
  r.n_months = sc.n_months();

  r.birth_prob.resize(static_cast<std::size_t>(r.n_months * Rates::n_women_ages));
  for (int t = 0; t < r.n_months; ++t) {
    const double tfr = sc.tfr.at(sc.start.plus(t).year) * p["fertility.district_level"] *
                       p["fertility.tfr_multiplier"];
    for (int a = 0; a < Rates::n_women_ages; ++a) {
      const double prob = tfr * b.asfr_shape[static_cast<std::size_t>(a)] / 12.0;
      CHILDSIM_CHECK(prob < 1.0, "monthly birth probability must be below 1");
      r.birth_prob[static_cast<std::size_t>(t * Rates::n_women_ages + a)] = prob;
    }
  }
  r.parity_relative = {1.0, p["fertility.second_birth_relative"],
                       p["fertility.third_birth_relative"]};
  r.unpartnered_relative = p["fertility.unpartnered_relative"];
  r.higher_order_multiplier = p["fertility.higher_order_multiplier"];
  r.min_birth_interval_months =
      static_cast<int>(std::lround(p["fertility.min_birth_interval_months"]));
  // fertility.twin_share s is the share of children born as twins. With τ the share of
  // deliveries that are of twins, a delivery gives 1 + τ children, so s = 2τ / (1 + τ) and
  // τ = s / (2 − s).
  {
    const double share = p["fertility.twin_share"];
    r.twins_per_delivery = share / (2.0 - share);
  }
  r.partnering_rate = p["household.partnering_rate"];
  r.partnering_hazard = 1.0 - std::exp(-r.partnering_rate / 12.0);
  for (double q : b.child_death_probability) r.child_death_hazard.push_back(monthly_hazard(q));
  r.women_death_hazard = monthly_hazard(p["mortality.women_annual"]);
  // Ages are evaluated at mid-year (a + 0.5): a mother in her a-th completed year.
  for (int a = 0; a < Rates::n_out_ages; ++a)
    r.out_hazard_by_age.push_back(monthly_hazard(out_probability(p, a + 0.5)));
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

  // Arriving women per street and month: inflow_ratio × the expected monthly departures of
  // the street's January-2024 women aged 18-49 (docs/model.md, "Migration"). Above 1 because
  // the women's stock also loses those turning 50 and gains only the daughters turning 18.
  const double ratio = p["migration.inflow_ratio"];
  for (int s = 0; s < r.n_streets; ++s) {
    double departures = 0;
    for (int a = 0; a < Rates::n_women_ages; ++a)
      departures += counts.women[s][a] * r.out_hazard(a + 18);
    r.inflow_households.push_back(ratio * departures);
  }

  // Residents who are not agents (residents.hpp): life table, the families' leaving schedule
  // at their own age, moves between streets; arrivals by the arrival schedule.
  for (int sex = 0; sex < n_sexes; ++sex)
    for (int a = 18; a <= BaseData::max_age; ++a) {
      const double death = monthly_hazard(adult_death_probability(p, sex, a));
      const double out = r.out_hazard(a), total = death + out + r.between_hazard;
      r.adult_death_hazard.push_back(death);
      r.resident_event_prob.push_back(std::min(1.0, total));
      r.resident_death_share.push_back(death >= 1.0 ? 1.0 : death / total);
      r.resident_out_share.push_back(death >= 1.0 ? 0.0 : out / total);
    }
  {
    const double adult_ratio = p["migration.adult_inflow_ratio"], base = p["migration.in_base"];
    const double top = *std::max_element(b.adult_age_weights.begin(), b.adult_age_weights.end());
    for (int sex = 0; sex < n_sexes; ++sex) {
      std::vector<double> w;
      for (int a = 18; a <= BaseData::max_age; ++a)
        w.push_back(sex == female && a < 50
                        ? 0.0
                        : in_age_weight(p, a + 0.5) +
                              base * b.adult_age_weights[static_cast<std::size_t>(a - 18)] / top);
      r.resident_in_age_cdf.push_back(cumulative(w));
    }
    for (int s = 0; s < r.n_streets; ++s)
      for (int sex = 0; sex < n_sexes; ++sex) {
        double departures = 0;
        const auto& n = counts.adults[static_cast<std::size_t>(s * n_sexes + sex)];
        for (int a = 18; a <= BaseData::max_age; ++a)
          departures += n[static_cast<std::size_t>(a - 18)] * r.out_hazard(a);
        r.resident_inflow.push_back(adult_ratio * departures);
      }
  }

  r.p_partnered = p["household.partnered"];
  r.p_mother_works = p["household.mother_works"];
  r.p_partner_works = p["household.partner_works"];
  r.p_grandparent = p["household.grandparent_care"];
  r.p_hukou_local = p["household.hukou_local"];
  r.p_income_low = p["household.income_low"];
  r.p_income_high = p["household.income_high"];

  std::vector<double> in_weights;
  for (int a = 18; a < 18 + Rates::n_women_ages; ++a)
    in_weights.push_back(in_age_weight(p, a + 0.5));
  r.in_age_cdf = cumulative(in_weights);
  for (int a = 0; a < Rates::n_women_ages; ++a) {
    const double q = p["migration.in_fertility"] * b.asfr_shape[static_cast<std::size_t>(a)];
    CHILDSIM_CHECK(q < 1.0, "an arriving woman's birth probability in a year must be below 1");
    r.in_birth_prob.push_back(q);
  }
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
