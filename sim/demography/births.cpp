// births: parity- and partnership-specific relative risks renormalised to the age rate.
#include "sim/demography/births.hpp"

#include "sim/demography/demography.hpp"  // age_in_months

#include <algorithm>  // std::min

namespace childsim {
namespace {

constexpr int fertile_from_months = 18 * 12;
constexpr int fertile_until_months = 50 * 12;  // exclusive

}  // namespace

double birth_weight(const Rates& r, int parity, bool partnered, bool lever) {
  const auto p = static_cast<std::size_t>(std::min(parity, 2));
  double w = r.parity_relative[p] * (partnered ? 1.0 : r.unpartnered_relative);
  if (lever && parity >= 1) w *= r.higher_order_multiplier;
  return w;
}

std::vector<double> birth_renormalisation(const State& st, const Rates& r) {
  const Households& h = st.households;
  // Integer counts by (age, parity class, partnered, at risk), then the weights: integer sums
  // do not depend on the order of rows or on threads.
  constexpr int n_cells = Rates::n_women_ages * 3 * 2 * 2;
  std::vector<std::int64_t> counts(n_cells, 0);
  std::int64_t* n = counts.data();
  const std::size_t rows = h.size();
#pragma omp parallel for schedule(static) reduction(+ : n[:n_cells])
  for (std::size_t i = 0; i < rows; ++i) {
    if (!h.present[i] || !h.has_mother[i]) continue;
    const int age = age_in_months(st.month, h.mother_birth_month[i]);
    if (age < fertile_from_months || age >= fertile_until_months) continue;
    const int risk = at_risk_of_birth(r, st.month, h.last_birth_month[i]) ? 1 : 0;
    const int p = h.parity[i] < 2 ? h.parity[i] : 2;
    n[((age / 12 - 18) * 3 + p) * 4 + (h.partnered[i] ? 1 : 0) * 2 + risk] += 1;
  }
  std::vector<double> renorm(Rates::n_women_ages, 0.0);
  for (int a = 0; a < Rates::n_women_ages; ++a) {
    double women = 0, weight = 0;
    for (int p = 0; p < 3; ++p)
      for (int c = 0; c < 2; ++c)
        for (int risk = 0; risk < 2; ++risk) {
          const auto k = static_cast<double>(n[((a * 3 + p) * 2 + c) * 2 + risk]);
          women += k;
          if (risk) weight += k * birth_weight(r, p, c == 1, false);
        }
    renorm[static_cast<std::size_t>(a)] = weight > 0 ? women / weight : 0.0;
  }
  return renorm;
}

BirthTable birth_table(const State& st, const Rates& r) {
  const std::vector<double> renorm = birth_renormalisation(st, r);
  BirthTable t;
  t.q.resize(static_cast<std::size_t>(Rates::n_women_ages) * 6);
  for (int a = 0; a < Rates::n_women_ages; ++a)
    for (int p = 0; p < 3; ++p)
      for (int c = 0; c < 2; ++c)
        t.q[static_cast<std::size_t>(a * 6 + p * 2 + c)] = std::min(
            1.0, r.birth_probability(st.month, a + 18) / (1.0 + r.twins_per_delivery) *
                     renorm[static_cast<std::size_t>(a)] * birth_weight(r, p, c == 1, true));
  return t;
}

double delivery_probability(const State& st, const Rates& r, const BirthTable& table,
                            std::size_t i) {
  const Households& h = st.households;
  if (!h.has_mother[i] || !at_risk_of_birth(r, st.month, h.last_birth_month[i])) return 0.0;
  const int age = age_in_months(st.month, h.mother_birth_month[i]);
  if (age < fertile_from_months || age >= fertile_until_months) return 0.0;
  return table.at(age / 12, h.parity[i], h.partnered[i] != 0);
}

}  // namespace childsim
