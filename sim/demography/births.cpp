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
  // Integer counts by (age, parity class, partnered, at risk), then the weights: the sums do
  // not depend on the order of rows or on threads.
  std::vector<std::int64_t> n(static_cast<std::size_t>(Rates::n_women_ages) * 3 * 2 * 2, 0);
  auto cell = [](int a, int p, int c, int risk) {
    return static_cast<std::size_t>(((a * 3 + p) * 2 + c) * 2 + risk);
  };
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (!h.present[i] || !h.has_mother[i]) continue;
    const int age = age_in_months(st.month, h.mother_birth_month[i]);
    if (age < fertile_from_months || age >= fertile_until_months) continue;
    const int risk = at_risk_of_birth(r, st.month, h.last_birth_month[i]) ? 1 : 0;
    n[cell(age / 12 - 18, std::min<int>(h.parity[i], 2), h.partnered[i] ? 1 : 0, risk)] += 1;
  }
  std::vector<double> renorm(Rates::n_women_ages, 0.0);
  for (int a = 0; a < Rates::n_women_ages; ++a) {
    double women = 0, weight = 0;
    for (int p = 0; p < 3; ++p)
      for (int c = 0; c < 2; ++c)
        for (int risk = 0; risk < 2; ++risk) {
          const auto k = static_cast<double>(n[cell(a, p, c, risk)]);
          women += k;
          if (risk) weight += k * birth_weight(r, p, c == 1, false);
        }
    renorm[static_cast<std::size_t>(a)] = weight > 0 ? women / weight : 0.0;
  }
  return renorm;
}

double delivery_probability(const State& st, const Rates& r, const std::vector<double>& renorm,
                            std::size_t i) {
  const Households& h = st.households;
  if (!h.has_mother[i] || !at_risk_of_birth(r, st.month, h.last_birth_month[i])) return 0.0;
  const int age = age_in_months(st.month, h.mother_birth_month[i]);
  if (age < fertile_from_months || age >= fertile_until_months) return 0.0;
  const int years = age / 12;
  const double q = r.birth_probability(st.month, years) / (1.0 + r.twins_per_delivery) *
                   renorm[static_cast<std::size_t>(years - 18)] *
                   birth_weight(r, h.parity[i], h.partnered[i] != 0, true);
  return std::min(q, 1.0);
}

}  // namespace childsim
