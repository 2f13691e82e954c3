// births_test: births by parity — the renormalised relative risks against hand arithmetic, a
// closed cohort's parity progression against an independent recursion, twins at their rate,
// no woman delivering twice within the minimum interval, and births by parity adding up.
#include "sim/demography/births.hpp"      // birth_table, delivery_probability
#include "sim/core/agent_ids.hpp"         // ids::initial_household
#include "sim/demography/demography.hpp"  // step_demography
#include "sim/demography/population.hpp"  // add_household, build_initial_state
#include "sim/demography/residents.hpp"   // make_resident_counts
#include "sim/model/model.hpp"            // Model
#include "sim/model/rates.hpp"            // Rates, make_rates, initial_counts
#include "sim/run/ensemble.hpp"           // run_scenario
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>  // std::min, std::sort
#include <cmath>      // std::sqrt
#include <map>        // std::map
#include <set>        // std::set
#include <vector>     // std::vector

using namespace childsim;

namespace {

Scenario small_scenario() {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.services = false;
  return sc;
}

// A closed toy: no migration, no deaths of women, children die at once (so no daughter
// reaches 18 and joins the women), the same monthly birth rate `rate` at every age.
Rates closed_rates(const Scenario& sc, int months, double rate) {
  Rates r = make_rates(sc, initial_counts(sc));
  r.n_months = months;
  r.birth_prob.assign(static_cast<std::size_t>(months * Rates::n_women_ages), rate);
  std::fill(r.out_hazard_by_age.begin(), r.out_hazard_by_age.end(), 0.0);
  std::fill(r.child_death_hazard.begin(), r.child_death_hazard.end(), 1.0);
  r.women_death_hazard = 0;
  r.between_hazard = 0;
  std::fill(r.inflow_households.begin(), r.inflow_households.end(), 0.0);
  std::fill(r.resident_inflow.begin(), r.resident_inflow.end(), 0.0);
  r.housing_households.assign(static_cast<std::size_t>(months),
                              std::vector<int>(static_cast<std::size_t>(r.n_streets), 0));
  return r;
}

// `n` partnered women of parity 0 born in month `birth_month`, in street 0.
State cohort(const Scenario& sc, const Rates& r, int n, int birth_month) {
  State st;
  st.residents = make_resident_counts(r.n_streets, r.n_months);
  for (int k = 0; k < n; ++k) {
    const int row = add_household(st, sc, r, ids::initial_household(static_cast<std::uint64_t>(k)),
                                  0, birth_month);
    st.households.partnered[static_cast<std::size_t>(row)] = 1;
  }
  return st;
}

}  // namespace

TEST_CASE("births, relative risks decide who bears and the age rate holds",
          "[births][demography]") {
  const Scenario sc = small_scenario();
  Rates r = closed_rates(sc, 1, 0.01);
  r.parity_relative = {1.0, 2.0, 0.5};
  r.unpartnered_relative = 0.1;
  r.twins_per_delivery = 0.02;
  r.min_birth_interval_months = 12;
  State st = cohort(sc, r, 8, -30 * 12);  // eight women aged 30
  Households& h = st.households;
  // Parity 0, 1, 2, 5; one parity-1 woman single; one delivered 6 months ago (not at risk).
  const int parity[8] = {0, 0, 1, 1, 1, 2, 5, 1};
  for (std::size_t i = 0; i < 8; ++i) {
    h.parity[i] = static_cast<std::uint8_t>(parity[i]);
    if (parity[i] > 0) h.last_birth_month[i] = -24;
  }
  h.partnered[4] = 0;
  h.last_birth_month[7] = -6;
  st.month = 0;
  // W = 1 + 1 + 2 + 2 + 0.2 + 0.5 + 0.5 (row 7 is not at risk), N = 8.
  const double W = 7.2, N = 8;
  for (double m : {1.0, 1.5}) {
    r.higher_order_multiplier = m;
    const std::vector<double> renorm = birth_renormalisation(st, r);
    CHECK(renorm[12] == Approx(N / W));  // age 30
    const BirthTable table = birth_table(st, r);
    const double w[8] = {1, 1, 2 * m, 2 * m, 0.2 * m, 0.5 * m, 0.5 * m, 0};
    double children = 0, lever_free = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      const double q = delivery_probability(st, r, table, i);
      CHECK(q == Approx(0.01 / 1.02 * N / W * w[i]));
      children += q * (1 + r.twins_per_delivery);
      lever_free += q * (1 + r.twins_per_delivery) / (i >= 2 && i < 7 ? m : 1.0);
    }
    // Without the lever the women of age 30 bear rate × N children; the lever adds
    // (m − 1) × their share of births of order two and later.
    CHECK(lever_free == Approx(0.01 * N));
    CHECK(children == Approx(0.01 * N / W * (2 + m * 5.2)));
  }
}

TEST_CASE("births, a closed cohort's parity progression is what the recursion gives",
          "[births][demography][statistical]") {
  const Scenario sc = small_scenario();
  const int months = 32 * 12, n = 20000;
  const double rate = 1.6 / months;  // 1.6 children per woman over ages 18-49
  Rates r = closed_rates(sc, months, rate);
  r.parity_relative = {1.0, 1.8, 0.6};
  r.twins_per_delivery = 0.02;
  r.min_birth_interval_months = 15;
  State st = cohort(sc, r, n, -18 * 12);
  for (int t = 0; t < months; ++t) {
    st.month = t;
    MonthFlows f(r.n_streets);
    step_demography(st, sc, r, f);
  }
  std::vector<double> sim(6, 0.0);  // women by parity 0..5+
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
    sim[std::min<std::size_t>(st.households.parity[i], 5)] += 1.0 / n;

  // The recursion: expected women by parity p (0..7) and months since the last delivery d
  // (0..I, I meaning "at risk"), written from docs/model.md "Births and parity".
  const int P = 8, I = r.min_birth_interval_months;
  std::vector<double> x(static_cast<std::size_t>(P * (I + 1)), 0.0);
  auto at = [&](int p, int d) -> double& { return x[static_cast<std::size_t>(p * (I + 1) + d)]; };
  at(0, I) = 1.0;
  const double tau = r.twins_per_delivery;
  auto weight = [&](int p) { return r.parity_relative[static_cast<std::size_t>(std::min(p, 2))]; };
  for (int t = 0; t < months; ++t) {
    double W = 0;
    for (int p = 0; p < P; ++p) W += at(p, I) * weight(p);
    std::vector<double> y(x.size(), 0.0);
    auto yat = [&](int p, int d) -> double& {
      return y[static_cast<std::size_t>(std::min(p, P - 1) * (I + 1) + d)];
    };
    for (int p = 0; p < P; ++p) {
      for (int d = 0; d < I; ++d) yat(p, std::min(d + 1, I)) += at(p, d);
      const double q = rate / (1 + tau) / W * weight(p);  // N = 1
      yat(p, I) += at(p, I) * (1 - q);
      // A delivery this month: at the next month one month has passed.
      yat(p + 1, std::min(1, I)) += at(p, I) * q * (1 - tau);
      yat(p + 2, std::min(1, I)) += at(p, I) * q * tau;
    }
    x = y;
  }
  std::vector<double> expected(6, 0.0);
  for (int p = 0; p < P; ++p)
    for (int d = 0; d <= I; ++d) expected[static_cast<std::size_t>(std::min(p, 5))] += at(p, d);
  // Parity progression ratios: P(parity > k) / P(parity > k − 1).
  auto ppr = [](const std::vector<double>& share, int k) {
    double above = 0, from = 0;
    for (int p = k + 1; p < 6; ++p) above += share[static_cast<std::size_t>(p)];
    for (int p = k; p < 6; ++p) from += share[static_cast<std::size_t>(p)];
    return above / from;
  };
  for (int k = 0; k < 3; ++k) {
    const double e = ppr(expected, k), s = ppr(sim, k);
    // Binomial standard error of the ratio among the women who reached parity k.
    double from = 0;
    for (int p = k; p < 6; ++p) from += expected[static_cast<std::size_t>(p)];
    const double se = std::sqrt(e * (1 - e) / (from * n));
    INFO("parity progression " << k << " -> " << k + 1 << ": simulated " << s << ", recursion " << e
                               << " (s.e. " << se << ")");
    CHECK(std::abs(s - e) < 4 * se + 0.005);
  }
}

TEST_CASE(
    "births, twins are born at fertility.twin_share and no woman delivers twice within "
    "the minimum interval",
    "[births][demography]") {
  const Scenario sc = small_scenario();
  const Model m(sc);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  // Children born during the run, by mother (household id) and month of birth.
  std::map<std::uint64_t, std::map<int, int>> born;
  std::map<std::uint64_t, int> last_before;  // the last birth known at the start
  for (std::size_t i = 0; i < st.households.size(); ++i)
    last_before[st.households.id[i]] = st.households.last_birth_month[i];
  // Children of the start population may have been born in month 0: not births of the run.
  std::set<std::uint64_t> initial(st.children.id.begin(), st.children.id.end());
  int children = 0;
  for (int t = 0; t < m.rates.n_months; ++t) {
    st.month = t;
    MonthFlows f(m.rates.n_streets);
    step_demography(st, sc, m.rates, f);
    const Children& c = st.children;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (c.birth_month[i] != t || initial.count(c.id[i])) continue;
      const auto hh = static_cast<std::size_t>(c.household[i]);
      born[st.households.id[hh]][t] += 1;
      ++children;
    }
    int sum = 0;
    for (int b : f.births) sum += b;
    int by_parity = 0;
    for (int b : f.births_by_parity) by_parity += b;
    REQUIRE(by_parity == sum);  // births by parity add up to births, every month
    retire_households(st);      // as step_month does
    if (t % 12 == 11) compact(st);
  }
  int twins = 0, violations = 0, deliveries = 0;
  for (const auto& [mother, months] : born) {
    auto it = last_before.find(mother);
    int last = it == last_before.end() ? no_birth_month : it->second;
    for (const auto& [month, k] : months) {
      CHECK(k <= 2);
      ++deliveries;
      if (k == 2) twins += 2;
      if (month - last < m.rates.min_birth_interval_months) ++violations;
      last = month;
    }
  }
  INFO(children << " children in " << deliveries << " deliveries, " << twins << " twins");
  CHECK(violations == 0);
  const double s = sc.base.parameters["fertility.twin_share"];
  const double share = static_cast<double>(twins) / children;
  // A twin delivery brings two children: the share is a ratio of binomial counts.
  const double se = std::sqrt(s * (1 - s) / children) * 1.5;
  CHECK(std::abs(share - s) < 4 * se);
}

TEST_CASE("births, births by parity add up to births in the outputs", "[births][demography]") {
  Scenario sc = small_scenario();
  sc.replicates = 2;
  const auto ds = run_scenario(sc);
  const auto& b = test::ints(ds, "births");
  const auto& bp = test::ints(ds, "births_by_parity");
  REQUIRE(bp.size() == 3 * b.size());
  long firsts = 0, all = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    CHECK(bp[3 * i] + bp[3 * i + 1] + bp[3 * i + 2] == b[i]);
    firsts += bp[3 * i];
    all += b[i];
  }
  CHECK(firsts < all);  // some births are of order two or later
}
