// model_test: the monthly recording of the model against a direct count of the agents.
#include "sim/model/model.hpp"            // Model, step_month, record_start
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/demography/residents.hpp"   // count_residents_by_age (the reference)
#include "sim/io/recorder.hpp"            // Recorder
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "sim/services/warm_start.hpp"    // warm_start_services
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads

#include <algorithm>  // std::fill
#include <cstdint>    // std::int32_t
#include <vector>     // std::vector

using namespace childsim;

namespace {

// Children by street and completed year of age, and women 18–49 (with their household present)
// by street and year of age: a plain serial count of the tables, written from the variables'
// descriptions (docs/output-format.md), sharing no code with the recording pass.
struct DirectCount {
  std::vector<std::int32_t> children, women;
};

DirectCount count_directly(const State& st, int month, std::size_t n_streets) {
  DirectCount d{std::vector<std::int32_t>(n_streets * 18, 0),
                std::vector<std::int32_t>(n_streets * 32, 0)};
  const Households& h = st.households;
  const Children& c = st.children;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c.present[i]) continue;
    const int street = h.street[static_cast<std::size_t>(c.household[i])];
    const int years = (month - c.birth_month[i]) / 12;
    REQUIRE(years >= 0);
    REQUIRE(years < 18);
    d.children[static_cast<std::size_t>(street * 18 + years)] += 1;
  }
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (!h.present[i] || !h.has_mother[i]) continue;
    const int years = (month - h.mother_birth_month[i]) / 12;
    if (years < 18 || years > 49) continue;
    d.women[static_cast<std::size_t>(h.street[i] * 32 + years - 18)] += 1;
  }
  return d;
}

}  // namespace

TEST_CASE("model, the fused count of children, women and residents equals separate counts",
          "[model][threads]") {
  // States of a running replicate (rows that left or retired stay flagged until the yearly
  // compaction, households of every kind), counted by count_population at 1, 2 and 3 threads,
  // and by the serial count above (children, women) and the demography's own pass
  // (count_residents_by_age: every resident by street, sex and age group); the recorded month
  // must be that count too, taken before the month's retirements (a woman of 49 whose
  // household retires is recorded, then leaves). The census kept at every event
  // (count_population_from_census, what the recording uses) must give the same counts.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(13);  // a compaction at the end of the first year
  const Model m(sc);
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  const std::size_t ns = sc.base.streets.size();
  const int saved = omp_get_max_threads();
  std::int64_t women_seen = 0, children_seen = 0;
  for (int t = -1; t < m.rates.n_months; ++t) {
    if (t >= 0) {
      st.month = t;
      step_month(m, st, rec);
    }
    const int month = t < 0 ? 0 : t;
    const DirectCount d = count_directly(st, month, ns);
    // The residents by age as the demography counts them (its own pass, residents.hpp).
    std::vector<std::int32_t> resident_reference(ns * n_sexes * n_age_groups, 0);
    omp_set_num_threads(1);
    count_residents_by_age(st, month, resident_reference.data());
    for (const int threads : {1, 2, 3}) {
      INFO("month " << t << " with " << threads << " thread(s)");
      omp_set_num_threads(threads);
      std::vector<std::int32_t> children(ns * 18, 0), women(ns * 32, 0),
          residents(ns * n_sexes * n_age_groups, 0);
      count_population(st, month, static_cast<int>(ns),
                       {children.data(), women.data(), residents.data()});
      CHECK(children == d.children);
      CHECK(women == d.women);
      CHECK(residents == resident_reference);
      std::vector<std::int32_t> only_children(ns * 18, 0);
      PopulationCounts some;
      some.children = only_children.data();
      count_population(st, month, static_cast<int>(ns), some);
      CHECK(only_children == d.children);
      std::vector<std::int32_t> only_residents(ns * n_sexes * n_age_groups, 0);
      some = PopulationCounts{};
      some.residents = only_residents.data();
      count_population(st, month, static_cast<int>(ns), some);
      CHECK(only_residents == resident_reference);
      // The census kept at every event (state.hpp): the same counts, whole or in part.
      std::vector<std::int32_t> kept_children(ns * 18, 0), kept_women(ns * 32, 0),
          kept_residents(ns * n_sexes * n_age_groups, 0);
      count_population_from_census(
          st, month, static_cast<int>(ns),
          {kept_children.data(), kept_women.data(), kept_residents.data()});
      CHECK(kept_children == d.children);
      CHECK(kept_women == d.women);
      CHECK(kept_residents == resident_reference);
      std::fill(kept_women.begin(), kept_women.end(), 0);
      some = PopulationCounts{};
      some.women = kept_women.data();
      count_population_from_census(st, month, static_cast<int>(ns), some);
      CHECK(kept_women == d.women);
    }
    // The kept census is the one a count of the rows gives.
    State counted;
    counted.households = st.households;
    counted.children = st.children;
    counted.residents = st.residents;
    start_census(counted, m.rates.n_months);
    REQUIRE(st.census.enabled());
    CHECK(st.census.children == counted.census.children);
    CHECK(st.census.women == counted.census.women);
    CHECK(st.census.women_by_parity == counted.census.women_by_parity);
    omp_set_num_threads(saved);
    if (t >= 0) {
      // Recorded before the retirements: the same, except that a woman of 49 whose
      // household retired at the end of the month (no child at home) was recorded too.
      const std::int32_t* pop = rec.block("population", 0, t);
      CHECK(std::vector<std::int32_t>(pop, pop + ns * 18) == d.children);
      const std::int32_t* women = rec.block("women", 0, t);
      const std::int32_t* by_age = rec.block("residents_by_age", 0, t);
      std::int64_t recorded = 0, now = 0;
      for (std::size_t k = 0; k < ns * n_sexes * n_age_groups; ++k) {
        recorded += by_age[k];
        now += resident_reference[k];
      }
      CHECK(recorded == now);  // retiring women join the resident counts: no one is lost
      for (std::size_t k = 0; k < ns * 32; ++k) {
        if (k % 32 == 31) {
          CHECK(women[k] >= d.women[k]);
        } else {
          CHECK(women[k] == d.women[k]);
        }
      }
    }
    for (const auto w : d.women) women_seen += w;
    for (const auto c : d.children) children_seen += c;
  }
  CHECK(women_seen > 0);  // not satisfied vacuously
  CHECK(children_seen > 0);
}

TEST_CASE("model, a replicate built in an earlier one's memory reuses its arrays, same outputs",
          "[model][memory]") {
  // An ensemble builds each replicate in the state the one before left (run_replicate's
  // `memory`; state.hpp: recycled). Replicate 1 run that way must record the same bytes as
  // replicate 1 run afresh, and must have been built in replicate 0's arrays (the point of it:
  // an ensemble's peak memory, docs/performance.md), with the steps' kept buffers freed.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 2;
  sc.end = sc.start.plus(14);  // a yearly compaction, services every month
  const Model m(sc);

  // A recycled state: empty as a new one, its arrays' memory kept, the steps' buffers freed.
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  st.month = 5;
  struct Probe {
    int value = 1;
  };
  st.kept.get<Probe>();
  const std::int32_t* const birth_months = st.children.birth_month.data();
  const std::size_t capacity = st.children.birth_month.capacity();
  REQUIRE(st.census.enabled());
  const State empty = recycled(std::move(st));
  CHECK(empty.children.size() == 0);
  CHECK(empty.households.size() == 0);
  CHECK(empty.residents.n.empty());
  CHECK_FALSE(empty.census.enabled());
  CHECK(empty.census.recent_deliveries.empty());
  CHECK(empty.homes.rows.empty());
  CHECK(empty.homes.made_month == HomeRows::never);
  CHECK(empty.month == 0);
  CHECK(empty.replicate == 0);
  CHECK(empty.children.birth_month.data() == birth_months);
  CHECK(empty.children.birth_month.capacity() == capacity);
  CHECK_FALSE(empty.kept.holds<Probe>());

  // Replicates 0 and 1 run afresh, and each in the memory of the one before.
  io::Recorder fresh(sc, 2), reused(sc, 2);
  run_replicate(m, 0, fresh);
  run_replicate(m, 1, fresh);
  State memory;
  run_replicate(m, 0, reused, {}, &memory);
  CHECK(memory.children.size() == 0);  // handed on emptied
  CHECK_FALSE(memory.census.enabled());
  REQUIRE(memory.children.birth_month.capacity() > 0);
  const std::int32_t* const kept_birth_months = memory.children.birth_month.data();
  const std::uint64_t* const kept_household_ids = memory.households.id.data();
  run_replicate(m, 1, reused, {}, &memory);
  // Built in replicate 0's arrays, and handed them on (no array outgrew its room).
  CHECK(memory.children.birth_month.data() == kept_birth_months);
  CHECK(memory.households.id.data() == kept_household_ids);
  CHECK(test::check_outputs_identical(fresh.to_dataset({}), reused.to_dataset({})) > 20);
}

TEST_CASE("model, a state without the agent census records the outputs of one with it",
          "[model][census]") {
  // The agent census (state.hpp) stands in for passes over the rows: the month's population
  // counts, the births' counts by cell, and the services' children of an age by street (the
  // clinics, nursery and kindergarten). A state built by hand has no census, and those are
  // counted from the rows. Two years of the small district (births, deaths, moves, arrivals,
  // a yearly compaction, every service each month), stepped on a state with the census and on
  // a copy without it: every output the same to the bit.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(23);
  const Model m(sc);
  State with = build_initial_state(sc, m.rates, m.counts, 0);
  REQUIRE(with.census.enabled());
  State without = with;
  without.census = AgentCensus{};
  REQUIRE_FALSE(without.census.enabled());
  if (m.warm) {
    warm_start_services(*m.warm, with);
    warm_start_services(*m.warm, without);
  }
  io::Recorder a(sc, 1), b(sc, 1);
  for (int t = 0; t < sc.n_months(); ++t) {
    with.month = without.month = t;
    step_month(m, with, a);
    step_month(m, without, b);
  }
  CHECK(with.children.size() == without.children.size());
  CHECK(test::check_outputs_identical(a.to_dataset({}), b.to_dataset({})) > 40);
}
