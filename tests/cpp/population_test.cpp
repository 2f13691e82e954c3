// population_test: the start population and the arriving families, drawn in parallel and
// appended in order, against the serial construction they replaced, at 1 and 3 threads.
#include "sim/demography/population.hpp"  // build_initial_state, add_household, add_child, …
#include "sim/core/agent_ids.hpp"         // ids::
#include "sim/core/philox_batch.hpp"      // BufferedStream
#include "sim/core/rng.hpp"               // Stream, Purpose
#include "sim/demography/demography.hpp"  // step_demography
#include "sim/demography/residents.hpp"   // build_resident_counts
#include "sim/model/rates.hpp"            // initial_counts, make_rates, draw_index
#include "sim/model/state.hpp"            // State, for_each_column, start_census
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "test_support.hpp"               // test::scenario

#include <catch2/catch.hpp>

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads

#include <cstdint>  // std::uint64_t
#include <string>   // std::string
#include <utility>  // std::move
#include <vector>   // std::vector

using namespace childsim;

namespace {

// The start population as build_initial_state made it one row at a time (main@fc4ff87): the
// reference for the parallel construction.
State serial_initial_state(const Scenario& sc, const Rates& r, const InitialCounts& counts,
                           int replicate) {
  State st;
  st.replicate = replicate;
  const int ns = sc.base.n_streets();
  std::uint64_t next_household = 0, next_child = 0;
  const auto rep = static_cast<std::uint32_t>(replicate);
  for (int s = 0; s < ns; ++s) {
    std::vector<std::vector<int>> women_of_age(Rates::n_women_ages);
    for (int a = 0; a < Rates::n_women_ages; ++a)
      for (int k = 0; k < counts.women[s][a]; ++k) {
        const std::uint64_t id = ids::initial_household(next_household++);
        Stream rng(sc.seed, rep, id, 0, Purpose::initial_population);
        const int months = 12 * (a + 18) + static_cast<int>(rng() % 12u);
        women_of_age[a].push_back(add_household(st, sc, r, id, s, -months));
      }
    for (int a = 0; a < Rates::n_child_ages; ++a)
      for (int k = 0; k < counts.children[s][a]; ++k) {
        const std::uint64_t id = ids::initial_child(next_child++);
        Stream rng(sc.seed, rep, id, 0, Purpose::initial_population);
        const int age_months = 12 * a + static_cast<int>(rng() % 12u);
        const int mother_age = a + 18 + draw_index(r.asfr_cdf, rng.uniform());
        int row = -1;
        if (mother_age <= 49) {
          const auto& pool = women_of_age[mother_age - 18];
          if (!pool.empty()) row = pool[rng() % pool.size()];
        }
        if (row < 0) {
          const std::uint64_t hid = ids::initial_household(next_household++);
          row =
              add_household(st, sc, r, hid, s, -(12 * mother_age + static_cast<int>(rng() % 12u)));
        }
        add_child(st, sc, r, id, row, -age_months);
        record_past_birth(st, row, -age_months);
      }
    for (const auto& rows : women_of_age)
      for (int row : rows) {
        Stream rng(sc.seed, rep, st.households.id[static_cast<std::size_t>(row)], 1,
                   Purpose::initial_population);
        settle_partnership(st, r, row, 0, rng.uniform());
      }
  }
  build_resident_counts(st, counts, r.n_months);
  start_census(st, r.n_months);
  return st;
}

// An arriving family as add_arriving_family added it one event at a time (main@fc4ff87).
int serial_arriving_family(State& st, const Scenario& sc, const Rates& r, std::uint64_t id,
                           int street, int month) {
  BufferedStream rng(sc.seed, static_cast<std::uint32_t>(st.replicate), id,
                     static_cast<std::uint32_t>(month), Purpose::initial_population);
  const int mother_age = 18 + draw_index(r.in_age_cdf, rng.uniform());
  const int mother_months = 12 * mother_age + static_cast<int>(rng() % 12u);
  const int row = add_household(st, sc, r, id, street, month - mother_months);
  int k = 0;
  for (int y = 18; y < 18 + Rates::n_women_ages; ++y) {
    const double u = rng.uniform();
    const int w = static_cast<int>(rng() % 12u);
    if (y >= mother_age || !(u < r.in_birth_prob[static_cast<std::size_t>(y - 18)])) continue;
    const int age_months = mother_months - (12 * y + w);
    record_past_birth(st, row, month - age_months);
    if (age_months >= 12 * 18) continue;
    add_child(st, sc, r, ids::arriving_child(id, y), row, month - age_months);
    ++k;
  }
  settle_partnership(st, r, row, month, rng.uniform());
  const auto i = static_cast<std::size_t>(row);
  if (st.census.enabled() && st.households.last_birth_month[i] != no_birth_month)
    st.census.recent_deliveries.push_back(static_cast<std::uint32_t>(i));
  return k;
}

// The names of the columns (and census arrays) in which two states differ.
std::vector<std::string> differences(const State& a, const State& b) {
  std::vector<std::string> out;
  int k = 0;
  for_each_household_column(
      [&](const auto& x, const auto& y) {
        if (x != y) out.push_back("households column " + std::to_string(k));
        ++k;
      },
      a.households, b.households);
  k = 0;
  for_each_column(
      [&](const auto& x, const auto& y) {
        if (x != y) out.push_back("children column " + std::to_string(k));
        ++k;
      },
      a.children, b.children);
  if (a.residents.n != b.residents.n) out.push_back("resident counts");
  if (a.census.children != b.census.children) out.push_back("census children");
  if (a.census.women != b.census.women) out.push_back("census women");
  if (a.census.women_by_parity != b.census.women_by_parity) out.push_back("census parity");
  if (a.census.recent_deliveries != b.census.recent_deliveries) out.push_back("census recent");
  return out;
}

struct Threads {
  int saved = omp_get_max_threads();
  explicit Threads(int n) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(saved); }
};

}  // namespace

TEST_CASE("population, the start built in parallel equals the serial construction",
          "[population][threads]") {
  // Every column of both tables, the resident counts and the census, to the value, for the
  // whole district (older mothers, empty pools of women, every street) and a small scenario.
  const std::string file =
      GENERATE(std::string("scenarios/baseline.yaml"), std::string("tests/data/small.yaml"));
  Scenario sc = load_scenario(test::scenario(file));
  const InitialCounts counts = initial_counts(sc);
  const Rates r = make_rates(sc, counts);
  const State reference = serial_initial_state(sc, r, counts, 1);
  REQUIRE(reference.households.size() > 0);
  REQUIRE(reference.children.size() > 0);
  for (const int threads : {1, 3}) {
    INFO(file << " at " << threads << " threads");
    const Threads t(threads);
    const State st = build_initial_state(sc, r, counts, 1);
    CHECK(st.replicate == reference.replicate);
    CHECK(differences(st, reference).empty());
  }
}

TEST_CASE("population, arriving families drawn then appended equal the serial additions",
          "[population]") {
  // On a real state (census kept): a few hundred families of every street, added by the old
  // one-event-at-a-time function to one copy and by draw + append to the other.
  const Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  const InitialCounts counts = initial_counts(sc);
  const Rates r = make_rates(sc, counts);
  const State start = build_initial_state(sc, r, counts, 0);
  // A third copy takes each month's families in one batch (append_arriving_families).
  State a = start, b = start, batch = start;
  int children_a = 0, children_b = 0;
  for (int month = 3; month < 40; month += 12) {
    std::vector<ArrivingFamily> families;
    for (int s = 0; s < r.n_streets; ++s)
      for (int k = 0; k < 10; ++k) {
        const std::uint64_t id = ids::arrival_household(s, month, k);
        children_a += serial_arriving_family(a, sc, r, id, s, month);
        families.emplace_back();
        draw_arriving_family(sc, r, b.replicate, id, s, month, families.back());
        children_b += append_arriving_family(b, families.back());
      }
    append_arriving_families(batch, families.data(), families.size());
  }
  CHECK(children_a > 0);
  CHECK(children_a == children_b);
  CHECK(differences(a, b).empty());
  CHECK(differences(a, batch).empty());
}

TEST_CASE("population, a year of demography leaves the same tables at 1 and 3 threads",
          "[population][demography][threads]") {
  // Arrivals, births (sexes drawn in the parallel loop) and moves, with a compaction: every
  // column and the census equal, not only the outputs.
  Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  sc.services = false;
  const InitialCounts counts = initial_counts(sc);
  const Rates r = make_rates(sc, counts);
  std::vector<State> ends;
  for (const int threads : {1, 3}) {
    const Threads t(threads);
    State st = build_initial_state(sc, r, counts, 0);
    for (int month = 0; month < 14; ++month) {
      st.month = month;
      MonthFlows f(r.n_streets);
      step_demography(st, sc, r, f);
      retire_households(st);
      if (month % 12 == 11) compact(st);
    }
    ends.push_back(std::move(st));
  }
  CHECK(differences(ends[0], ends[1]).empty());
}
