// residents_test: the whole resident population — conservation by street, sex and age each
// month, the life table recovered with migration off, the binomial draw, thread identity.
#include "sim/demography/residents.hpp"   // step_residents, count_residents_by_age
#include "sim/demography/demography.hpp"  // step_demography, retire_households
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/rates.hpp"            // initial_counts, make_rates
#include "sim/model/state.hpp"            // State, compact
#include "sim/run/ensemble.hpp"           // run_scenario, RunOptions
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>  // std::fill, std::min
#include <cmath>      // std::exp, std::pow, std::sqrt, std::abs
#include <cstdint>    // std::int32_t
#include <vector>     // std::vector

using namespace childsim;

namespace {

std::vector<std::int32_t> census(const State& st, int month, int n_streets) {
  std::vector<std::int32_t> out(static_cast<std::size_t>(n_streets * n_sexes * n_age_groups), 0);
  count_residents_by_age(st, month, out.data());
  return out;
}

// The adult life table written out again from its documented formula (parameters.yaml,
// mortality.adult_*), not taken from the simulation: annual probability of death at age a.
double life_table_q(const ParameterTable& p, int sex, int a) {
  if (a >= 110) return 1.0;
  const double mu =
      (p["mortality.adult_makeham"] +
       p["mortality.adult_hazard_60"] * std::exp(p["mortality.adult_slope"] * (a + 0.5 - 60))) *
      (sex == male ? p["mortality.male_relative"] : 1.0);
  return 1.0 - std::exp(-mu);
}

}  // namespace

TEST_CASE("residents, every resident is born, present, moved or dead, by street, sex and age",
          "[residents][demography]") {
  const Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  const InitialCounts counts = initial_counts(sc);
  const Rates r = make_rates(sc, counts);
  State st = build_initial_state(sc, r, counts, 0);
  const int S = r.n_streets, months = std::min(r.n_months, 30);
  long checked = 0, violations = 0, births = 0, in = 0, out = 0, moved = 0, deaths = 0;
  for (int t = 0; t < months; ++t) {
    st.month = t;
    // Ages are those of month t on both sides, so ageing moves nobody between cells: the
    // change of every (street, sex, age group) cell is its flows.
    const auto before = census(st, t, S);
    MonthFlows f(S);
    step_demography(st, sc, r, f);
    retire_households(st);  // women who leave the household tables stay residents
    if (t % 12 == 11) compact(st);
    const auto after = census(st, t, S);
    for (std::size_t k = 0; k < before.size(); ++k) {
      const long expect = before[k] + f.resident_births[k] + f.migrants_in[k] - f.migrants_out[k] +
                          f.movers_in[k] - f.movers_out[k] - f.resident_deaths[k];
      violations += after[k] != expect;
      ++checked;
      births += f.resident_births[k];
      in += f.migrants_in[k];
      out += f.migrants_out[k];
      moved += f.movers_out[k];
      deaths += f.resident_deaths[k];
    }
  }
  CHECK(violations == 0);
  CHECK(checked == static_cast<long>(months) * S * n_sexes * n_age_groups);
  // Not satisfied vacuously: every kind of flow happened.
  CHECK(births > 0);
  CHECK(in > 0);
  CHECK(out > 0);
  CHECK(moved > 0);
  CHECK(deaths > 0);
}

TEST_CASE("residents, with migration off the counts die as the life table says",
          "[residents][demography]") {
  const Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  const InitialCounts counts = initial_counts(sc);
  Rates r = make_rates(sc, counts);
  // Migration off: no leaving, no moves, no arrivals; recompute the event tables.
  std::fill(r.resident_inflow.begin(), r.resident_inflow.end(), 0.0);
  for (std::size_t k = 0; k < r.resident_event_prob.size(); ++k) {
    r.resident_event_prob[k] = std::min(1.0, r.adult_death_hazard[k]);
    r.resident_death_share[k] = 1.0;
    r.resident_out_share[k] = 0.0;
  }
  const int S = r.n_streets, years = 10;
  State st;
  build_resident_counts(st, counts, r.n_months);
  const ResidentCounts start = st.residents;
  for (int t = 0; t < 12 * years; ++t) {
    st.month = t;
    MonthFlows f(S);
    step_residents(st, sc, r, f);
  }
  // Expected survivors of each cohort: the annual q spread evenly over the months spent at
  // each age, (1 − q)^(months / 12), as the monthly hazards 1 − (1 − q)^(1/12) imply.
  const ParameterTable& p = sc.base.parameters;
  for (int sex = 0; sex < n_sexes; ++sex) {
    for (int lo : {18, 40, 50, 60, 70, 80, 90}) {
      if (sex == female && lo < 50) continue;  // women 18-49 are agents, not counts
      const int hi = lo == 18 ? 39 : lo + 9;
      double expected = 0, variance = 0;
      long observed = 0, initial = 0;
      for (int s = 0; s < S; ++s)
        for (int age_m = 12 * lo; age_m < 12 * (hi + 1); ++age_m) {
          const int b = -age_m;
          const int n = start.at(s, sex, b);
          if (n == 0) continue;
          double survive = 1.0;
          for (int t = 0; t < 12 * years; ++t)
            survive *= std::pow(1.0 - life_table_q(p, sex, (t - b) / 12), 1.0 / 12.0);
          expected += n * survive;
          variance += n * survive * (1 - survive);
          observed += st.residents.at(s, sex, b);
          initial += n;
        }
      INFO("sex " << sex << ", ages " << lo << "-" << hi << " at the start: " << initial
                  << " persons, expected survivors " << expected << ", observed " << observed);
      REQUIRE(initial > 0);
      CHECK(std::abs(observed - expected) <= 4.0 * std::sqrt(variance) + 1.0);
    }
  }
}

TEST_CASE("residents, binomial_by_inversion has the binomial distribution", "[residents]") {
  // Deterministic uniforms on a fine grid: the share of u giving each k is the pmf.
  for (auto [n, p] : {std::pair{30, 0.004}, std::pair{200, 0.03}, std::pair{5, 0.4}}) {
    const int grid = 200000;
    std::vector<double> share(static_cast<std::size_t>(n + 1), 0.0);
    for (int i = 0; i < grid; ++i)
      share[static_cast<std::size_t>(binomial_by_inversion(n, p, (i + 0.5) / grid))] += 1.0 / grid;
    double pmf = std::pow(1 - p, n);
    for (int k = 0; k <= n; ++k) {
      INFO("n " << n << " p " << p << " k " << k);
      CHECK(std::abs(share[static_cast<std::size_t>(k)] - pmf) < 2.0 / grid + 1e-9);
      pmf *= p / (1 - p) * (n - k) / (k + 1);
    }
  }
  CHECK(binomial_by_inversion(0, 0.5, 0.9) == 0);
  CHECK(binomial_by_inversion(10, 0.0, 0.999) == 0);
}

TEST_CASE("residents, residents by age are identical for 1 and 3 threads and add up",
          "[residents][threads]") {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(23);
  RunOptions one, three;
  one.threads = 1;
  three.threads = 3;
  const auto a = run_scenario(sc, one), b = run_scenario(sc, three);
  for (const char* name : {"residents_by_age", "migrants_in", "migrants_out", "movers_in",
                           "movers_out", "resident_deaths"})
    CHECK(test::identical(a.find_variable(name)->data, b.find_variable(name)->data));
  // `residents` is the sum of residents_by_age over sex and age group.
  const auto& by_age = test::ints(a, "residents_by_age");
  const auto& res = test::ints(a, "residents");
  const std::size_t per_street = n_sexes * n_age_groups;
  for (std::size_t k = 0; k < res.size(); ++k) {
    long sum = 0;
    for (std::size_t j = 0; j < per_street; ++j) sum += by_age[k * per_street + j];
    CHECK(sum == res[k]);
  }
}
