// births: parity- and partnership-specific relative risks renormalised to the age rate.
#include "sim/demography/births.hpp"

#include "sim/core/branch_free.hpp"       // select
#include "sim/core/parallel.hpp"          // par::for_blocks, par::add_counts
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
  // In parallel over blocks of rows, each block counting into its own cells plus one spare
  // cell (index n_cells) that takes the rows not counted: every row is counted somewhere, so
  // the loop has no branch on whether a row is a woman of 18–49 (rows of older mothers,
  // women without a mother, retired rows are mixed in no order: branch_free.hpp).
  const std::size_t nb = par::n_blocks();
  std::vector<std::vector<std::int64_t>> parts(nb, std::vector<std::int64_t>(n_cells + 1, 0));
  const int month = st.month, interval = r.min_birth_interval_months;
  par::for_blocks(h.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int64_t* n = parts[b].data();
    const std::uint8_t* present = h.present.data();
    const std::uint8_t* has_mother = h.has_mother.data();
    const std::uint8_t* parity = h.parity.data();
    const std::uint8_t* partnered = h.partnered.data();
    const std::int32_t* born = h.mother_birth_month.data();
    const std::int32_t* last_birth = h.last_birth_month.data();
    for (std::size_t i = begin; i < end; ++i) {
      const int age = age_in_months(month, born[i]);
      const bool counted = (present[i] != 0) & (has_mother[i] != 0) & (age >= fertile_from_months) &
                           (age < fertile_until_months);
      const int risk = month - last_birth[i] >= interval ? 1 : 0;  // at_risk_of_birth
      const int p = parity[i] < 2 ? parity[i] : 2;
      const int cell = ((age / 12 - 18) * 3 + p) * 4 + (partnered[i] != 0 ? 2 : 0) + risk;
      n[select(counted, cell, n_cells)] += 1;
    }
  });
  std::vector<std::int64_t> counts(n_cells + 1, 0);
  par::add_counts(parts, counts.data());
  const std::int64_t* n = counts.data();
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
