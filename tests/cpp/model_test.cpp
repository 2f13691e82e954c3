// model_test: the monthly recording of the model against a direct count of the agents.
#include "sim/model/model.hpp"            // Model, step_month, record_start
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/io/recorder.hpp"            // Recorder
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads

#include <cstdint>  // std::int32_t
#include <vector>   // std::vector

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

TEST_CASE("model, the fused count of children and women equals a direct count of the agents",
          "[model][threads]") {
  // States of a running replicate (rows that left or retired stay flagged until the yearly
  // compaction, households of every kind), counted by count_population at 1, 2 and 3 threads
  // and by the serial count above; the recorded month must be that count too, taken before
  // the month's retirements (a woman of 49 whose household retires is recorded, then leaves).
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
    for (const int threads : {1, 2, 3}) {
      INFO("month " << t << " with " << threads << " thread(s)");
      omp_set_num_threads(threads);
      std::vector<std::int32_t> children(ns * 18, 0), women(ns * 32, 0);
      count_population(st, month, children.data(), children.size(), women.data(), women.size());
      CHECK(children == d.children);
      CHECK(women == d.women);
      std::vector<std::int32_t> only_children(ns * 18, 0);
      count_population(st, month, only_children.data(), only_children.size(), nullptr, 0);
      CHECK(only_children == d.children);
    }
    omp_set_num_threads(saved);
    if (t >= 0) {
      // Recorded before the retirements: the same, except that a woman of 49 whose
      // household retired at the end of the month (no child at home) was recorded too.
      const std::int32_t* pop = rec.block("population", 0, t);
      CHECK(std::vector<std::int32_t>(pop, pop + ns * 18) == d.children);
      const std::int32_t* women = rec.block("women", 0, t);
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
