// demography_passes_test: the fast monthly passes over the agent tables (branch-free helpers,
// the residents' census, the births' counts, retirement, the binomial's shortcut) against plain
// row-by-row loops.
#include "sim/core/branch_free.hpp"       // select, append_rows_if, for_each_flagged, Tally
#include "sim/core/rng.hpp"               // mix64
#include "sim/demography/births.hpp"      // birth_renormalisation, prune_and_birth_table, …
#include "sim/demography/demography.hpp"  // step_demography, retire_households
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/demography/residents.hpp"   // count_residents_by_age, …
#include "sim/model/rates.hpp"            // initial_counts, make_rates
#include "sim/model/state.hpp"            // State, compact
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "test_support.hpp"               // test::scenario

#include <catch2/catch.hpp>

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads

#include <algorithm>  // std::max
#include <cmath>      // std::exp, std::log1p
#include <cstdint>    // std::int32_t, std::int64_t, std::uint8_t
#include <vector>     // std::vector

using namespace childsim;

namespace {

// The residents by [(street × n_sexes + sex) × n_age_groups + age group], one row at a time.
std::vector<std::int32_t> plain_census(const State& st, int month) {
  const Households& h = st.households;
  const Children& c = st.children;
  const ResidentCounts& r = st.residents;
  std::vector<std::int32_t> out(static_cast<std::size_t>(r.n_streets * n_sexes * n_age_groups));
  auto add = [&](int street, int sex, int age_years, std::int32_t n) {
    out[static_cast<std::size_t>((street * n_sexes + sex) * n_age_groups + age_group(age_years))] +=
        n;
  };
  for (std::size_t i = 0; i < c.size(); ++i)
    if (c.present[i])
      add(h.street[static_cast<std::size_t>(c.household[i])], c.sex[i],
          (month - c.birth_month[i]) / 12, 1);
  for (std::size_t i = 0; i < h.size(); ++i)
    if (h.present[i] && h.has_mother[i])
      add(h.street[i], female, (month - h.mother_birth_month[i]) / 12, 1);
  for (int s = 0; s < r.n_streets; ++s)
    for (int sex = 0; sex < n_sexes; ++sex)
      for (int k = 0; k < r.n_cohorts; ++k) {
        const int age = month - (r.first_birth_month + k);
        if (age >= 0) add(s, sex, age / 12, r.at(s, sex, r.first_birth_month + k));
      }
  return out;
}

// N(a) / W(a) of births.hpp, one row at a time.
std::vector<double> plain_renormalisation(const State& st, const Rates& r) {
  const Households& h = st.households;
  std::vector<double> women(Rates::n_women_ages, 0.0), weight(Rates::n_women_ages, 0.0);
  for (std::size_t i = 0; i < h.size(); ++i) {
    const int age = st.month - h.mother_birth_month[i];
    if (!h.present[i] || !h.has_mother[i] || age < 18 * 12 || age >= 50 * 12) continue;
    const auto a = static_cast<std::size_t>(age / 12 - 18);
    women[a] += 1;
    if (at_risk_of_birth(r, st.month, h.last_birth_month[i]))
      weight[a] += birth_weight(r, h.parity[i], h.partnered[i] != 0, false);
  }
  std::vector<double> out(Rates::n_women_ages, 0.0);
  for (std::size_t a = 0; a < out.size(); ++a) out[a] = weight[a] > 0 ? women[a] / weight[a] : 0.0;
  return out;
}

}  // namespace

TEST_CASE("branch_free, the helpers agree with plain loops", "[branch_free]") {
  CHECK(select(true, 3, 7) == 3);
  CHECK(select(false, 3, 7) == 7);
  CHECK(select(true, 5u, 0xffffffffu) == 5u);
  CHECK(select(false, 5u, 0xffffffffu) == 0xffffffffu);
  // Lengths around the chunk and the eight-byte steps; rows kept with densities from none
  // to all.
  for (const std::size_t n : {0, 1, 7, 8, 9, 255, 256, 257, 1000}) {
    for (const std::uint64_t density : {0u, 1u, 10u, 50u, 100u}) {
      std::vector<std::uint8_t> flag(n);
      for (std::size_t i = 0; i < n; ++i) flag[i] = (mix64(i + 31 * n) % 100) < density;
      std::vector<std::size_t> expected, listed, visited;
      for (std::size_t i = 0; i < n; ++i)
        if (flag[i]) expected.push_back(i);
      append_rows_if(
          0, n, [&](std::size_t i) { return flag[i] != 0; }, listed);
      for_each_flagged(flag.data(), n, [&](std::size_t k) { visited.push_back(k); });
      CHECK(listed == expected);
      CHECK(visited == expected);
      // Tally: counts by cell, against a plain count.
      std::vector<std::uint16_t> cells(n);
      for (std::size_t i = 0; i < n; ++i) cells[i] = static_cast<std::uint16_t>(mix64(i) % 13);
      Tally<std::int32_t> tally(13);
      tally.add(cells.data(), n);
      std::vector<std::int32_t> got(13, 0), plain(13, 0);
      tally.add_to(got.data(), 13);
      for (const auto c : cells) plain[c] += 1;
      CHECK(got == plain);
    }
  }
}

TEST_CASE("demography_passes, census, births' counts and retirement equal row-by-row loops",
          "[demography][residents][births]") {
  // The whole district for two years, with a yearly compaction: every month the passes are
  // compared with plain loops over the rows, and the rows retirement takes are exactly those
  // with no child at home and no mother under 50. With the baseline's minimum birth interval,
  // none, and a long one (the births' counts from the census keep a list of the women within
  // it).
  Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  sc.services = false;
  const InitialCounts counts = initial_counts(sc);
  const Rates baseline_rates = make_rates(sc, counts);
  const int interval = GENERATE(-1, 0, 30);
  Rates r = baseline_rates;
  if (interval >= 0) r.min_birth_interval_months = interval;
  State st = build_initial_state(sc, r, counts, 0);
  for (int t = 0; t < 24; ++t) {
    st.month = t;
    INFO("month " << t << ", minimum birth interval " << r.min_birth_interval_months);
    // The weights are added in another order here (row by row, not count × weight by cell),
    // so the last bits may differ.
    const std::vector<double> renorm = birth_renormalisation(st, r),
                              plain = plain_renormalisation(st, r);
    REQUIRE(renorm.size() == plain.size());
    for (std::size_t a = 0; a < renorm.size(); ++a)
      CHECK(renorm[a] == Approx(plain[a]).epsilon(1e-12));
    // From the census kept at every event (what the births use): the same integer counts, so
    // the same doubles, before and after its list of recent deliveries is pruned.
    CHECK(birth_renormalisation_from_census(st, r) == renorm);
    prune_recent_deliveries(st, r);
    CHECK(birth_renormalisation_from_census(st, r) == renorm);
    MonthFlows f(r.n_streets);
    step_demography(st, sc, r, f);
    std::vector<std::int32_t> census(static_cast<std::size_t>(r.n_streets * n_sexes * n_age_groups),
                                     0);
    count_residents_by_age(st, t, census.data());
    CHECK(census == plain_census(st, t));
    // Children go with their household (move_households lists them through a bit per
    // household): no present child is left in a household that has gone.
    std::size_t left_behind = 0;
    for (std::size_t i = 0; i < st.children.size(); ++i)
      if (st.children.present[i] &&
          !st.households.present[static_cast<std::size_t>(st.children.household[i])])
        ++left_behind;
    CHECK(left_behind == 0);
    const Households before = st.households;
    retire_households(st);
    const Households& h = st.households;
    for (std::size_t i = 0; i < h.size(); ++i) {
      const bool retires = before.present[i] && before.n_children[i] == 0 &&
                           (!before.has_mother[i] || t - before.mother_birth_month[i] >= 599);
      REQUIRE(h.present[i] == (before.present[i] && !retires));
    }
    if (t % 12 == 11) compact(st);
    // The agent census kept at every event (state.hpp) is a count of the rows.
    State counted;
    counted.households = st.households;
    counted.children = st.children;
    counted.residents = st.residents;
    start_census(counted, r.n_months);
    REQUIRE(st.census.enabled());
    CHECK(st.census.children == counted.census.children);
    CHECK(st.census.women == counted.census.women);
    CHECK(st.census.women_by_parity == counted.census.women_by_parity);
  }
}

TEST_CASE("demography_passes, the binomial's shortcut for no event gives the loop's answer",
          "[residents]") {
  // The inversion without the shortcut, as residents.cpp had it.
  auto plain = [](int n, double p, double u) {
    if (n <= 0 || p <= 0.0) return 0;
    double pk = std::exp(n * std::log1p(-p)), cdf = pk;
    const double odds = p / (1.0 - p);
    int k = 0;
    while (u >= cdf && k < n) {
      pk *= odds * (n - k) / (k + 1);
      ++k;
      cdf += pk;
    }
    return k;
  };
  // Cohort sizes and monthly probabilities of every size the counts meet (and beyond), with
  // uniforms spread over [0, 1) and packed just below 1 − n p, where the shortcut ends.
  for (const int n : {1, 2, 5, 30, 200, 5000})
    for (const double p : {1e-7, 1e-4, 0.003, 0.02, 0.1, 0.5, 0.9, 0.999999}) {
      for (std::uint64_t k = 0; k < 2000; ++k) {
        const double u = static_cast<double>(mix64(k + 17 * n) >> 32) * 0x1p-32;
        REQUIRE(binomial_by_inversion(n, p, u) == plain(n, p, u));
      }
      const double edge = 1.0 - n * p - 1e-9;
      for (int j = -3; j <= 3; ++j) {
        const double u = edge + j * 1e-12;
        if (u >= 0 && u < 1) REQUIRE(binomial_by_inversion(n, p, u) == plain(n, p, u));
      }
    }
}

TEST_CASE("demography_passes, compaction keeps the present rows in order, as a plain filter",
          "[demography][state]") {
  // The yearly compaction moves runs of kept rows (state.cpp); against a plain row-by-row
  // filter of every column, for rows removed at densities from none to all (first and last
  // rows included), and the children's households renumbered.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.services = false;
  const InitialCounts counts = initial_counts(sc);
  const Rates r = make_rates(sc, counts);
  const State start = build_initial_state(sc, r, counts, 0);
  for (const std::uint64_t removed : {0u, 1u, 5u, 50u, 100u}) {
    INFO(removed << " % of rows removed");
    State st = start;
    Households& h = st.households;
    Children& c = st.children;
    for (std::size_t i = 0; i < h.size(); ++i)
      if (mix64(i) % 100 < removed || (removed > 0 && (i == 0 || i + 1 == h.size())))
        h.present[i] = 0;
    for (std::size_t i = 0; i < c.size(); ++i)
      if (mix64(i + 7) % 100 < removed || !h.present[static_cast<std::size_t>(c.household[i])])
        c.present[i] = 0;
    // The plain filter.
    std::vector<std::int32_t> new_row(h.size(), -1);
    Households h_plain;
    Children c_plain;
    std::int32_t next = 0;
    for (std::size_t i = 0; i < h.size(); ++i)
      if (h.present[i]) {
        new_row[i] = next++;
        for_each_household_column([&](auto& to, const auto& from) { to.push_back(from[i]); },
                                  h_plain, h);
      }
    for (std::size_t i = 0; i < c.size(); ++i)
      if (c.present[i]) {
        for_each_column([&](auto& to, const auto& from) { to.push_back(from[i]); }, c_plain, c);
        c_plain.household.back() = new_row[static_cast<std::size_t>(c.household[i])];
      }
    compact(st);
    std::size_t differ = 0;
    for_each_household_column([&](const auto& a, const auto& b) { differ += a != b; },
                              st.households, h_plain);
    for_each_column([&](const auto& a, const auto& b) { differ += a != b; }, st.children, c_plain);
    CHECK(differ == 0);
    CHECK(st.households.size() == h_plain.size());
    CHECK(st.children.size() == c_plain.size());
  }
}

TEST_CASE(
    "demography_passes, pruning and the birth table in one parallel pass equal the two "
    "serial passes",
    "[births][threads]") {
  // Two years of the whole district with a long birth interval (a long list of recent
  // deliveries): each month, prune_recent_deliveries then birth_table on one copy, and
  // prune_and_birth_table at 1 and 3 threads on others; the same list (order kept) and the
  // same probabilities, to the bit.
  Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  sc.services = false;
  const InitialCounts counts = initial_counts(sc);
  Rates r = make_rates(sc, counts);
  r.min_birth_interval_months = 30;
  State st = build_initial_state(sc, r, counts, 0);
  const int saved = omp_get_max_threads();
  std::size_t longest = 0;
  for (int t = 0; t < 24; ++t) {
    st.month = t;
    State serial = st;
    prune_recent_deliveries(serial, r);
    const BirthTable expected = birth_table(serial, r);
    longest = std::max(longest, serial.census.recent_deliveries.size());
    for (const int threads : {1, 3}) {
      INFO("month " << t << " at " << threads << " threads");
      omp_set_num_threads(threads);
      State one_pass = st;
      const BirthTable table = prune_and_birth_table(one_pass, r);
      CHECK(table.q == expected.q);
      CHECK(one_pass.census.recent_deliveries == serial.census.recent_deliveries);
    }
    omp_set_num_threads(saved);
    MonthFlows f(r.n_streets);
    step_demography(st, sc, r, f);
    retire_households(st);
    if (t % 12 == 11) compact(st);
  }
  CHECK(longest > 1000);  // the list is long enough to be split among blocks
}
