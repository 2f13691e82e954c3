// nursery_test: capacity, one state per child, logit choice, priority order, closures, and the
// extremes of capacity for the nursery, kindergarten and baby-room submodels.
#include "sim/core/rng.hpp"               // Stream
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model, step_month
#include "sim/run/ensemble.hpp"           // run_scenario
#include "sim/services/choice.hpp"        // logit_choice, priority_key
#include "sim/services/services.hpp"      // all_parents_work
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>  // std::sqrt
#include <map>    // std::map

using namespace childsim;

namespace {

Scenario small(int months = 48, int replicates = 1) {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = replicates;
  sc.end = sc.start.plus(months - 1);
  sc.facilities.n_months = sc.n_months();
  // The schedule was built for the file's horizon; cut it to the shorter run.
  const std::size_t full = sc.facilities.capacity_schedule.size() / sc.facilities.size();
  std::vector<std::int32_t> cut;
  for (std::size_t f = 0; f < sc.facilities.size(); ++f)
    for (int t = 0; t < months; ++t) cut.push_back(sc.facilities.capacity_schedule[f * full + t]);
  sc.facilities.capacity_schedule = cut;
  return sc;
}

void scale_capacity(Scenario& sc, Service s, double factor) {
  auto& F = sc.facilities;
  for (std::size_t f = 0; f < F.size(); ++f)
    if (F.service_of(f) == s)
      for (int t = 0; t < F.n_months; ++t) {
        auto& cap = F.capacity_schedule[f * F.n_months + t];
        cap = static_cast<std::int32_t>(cap * factor);
      }
}

std::int64_t total(const io::Dataset& ds, const std::string& name) {
  std::int64_t s = 0;
  for (auto x : test::ints(ds, name)) s += x;
  return s;
}

}  // namespace

TEST_CASE("nursery, capacity is never exceeded for any facility or month", "[nursery]") {
  Scenario sc = small(60, 2);
  scale_capacity(sc, Service::nursery, 0.5);  // make places scarce so that limits bind
  scale_capacity(sc, Service::kindergarten, 0.8);
  const auto ds = run_scenario(sc);
  const auto& cap = test::ints(ds, "facility_capacity");
  const int R = sc.replicates, T = sc.n_months();
  const auto F = static_cast<int>(sc.facilities.size());
  int binding = 0;
  for (const char* var : {"nursery_enrolled", "kindergarten_enrolled", "babyroom_sessions_used"}) {
    const auto& v = test::ints(ds, var);
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t)
        for (int f = 0; f < F; ++f) {
          const int x = v[(r * T + t) * F + f], c = cap[t * F + f];
          REQUIRE(x <= c);
          binding += x == c && c > 0;
        }
  }
  CHECK(binding > 0);  // the limit was reached somewhere, so the check had teeth
  CHECK(total(ds, "nursery_waiting") > 0);
}

TEST_CASE("nursery, every child is in exactly one nursery state and counts agree", "[nursery]") {
  Scenario sc = small(30);
  scale_capacity(sc, Service::nursery, 0.5);
  const Model model(sc);
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, model.rates, model.counts, 0);
  const auto& F = sc.facilities;
  for (int t = 0; t < sc.n_months(); ++t) {
    st.month = t;
    step_month(model, st, rec);
    std::vector<int> enrolled(F.size(), 0), kg(F.size(), 0);
    const Children& c = st.children;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!c.present[i]) continue;
      REQUIRE_FALSE((c.nursery[i] >= 0 && c.waiting[i] >= 0));
      if (c.kindergarten[i] >= 0) {
        REQUIRE(c.nursery[i] < 0);
        REQUIRE(c.waiting[i] < 0);
        kg[c.kindergarten[i]] += 1;
        REQUIRE(F.service_of(c.kindergarten[i]) == Service::kindergarten);
      }
      if (c.nursery[i] >= 0) {
        enrolled[c.nursery[i]] += 1;
        REQUIRE(F.service_of(c.nursery[i]) == Service::nursery);
      }
    }
    const std::int32_t* recorded = rec.block("nursery_enrolled", 0, t);
    const std::int32_t* recorded_kg = rec.block("kindergarten_enrolled", 0, t);
    for (std::size_t f = 0; f < F.size(); ++f) {
      REQUIRE(enrolled[f] == recorded[f]);
      REQUIRE(kg[f] == recorded_kg[f]);
      REQUIRE(enrolled[f] <= F.capacity(f, t));
    }
    // Wanting = holding a place + unmet, street by street.
    const std::int32_t* want = rec.block("nursery_wanting", 0, t);
    const std::int32_t* have = rec.block("nursery_children_enrolled", 0, t);
    const std::int32_t* unmet = rec.block("nursery_unmet", 0, t);
    for (int s = 0; s < sc.base.n_streets(); ++s) REQUIRE(want[s] == have[s] + unmet[s]);
  }
}

TEST_CASE("nursery, logit choice frequencies match the logit probabilities", "[nursery]") {
  const std::vector<double> v{-0.4, 0.3, 1.1, -2.0, 0.0};
  // Independent probabilities: exp(v) / sum exp(v), computed here without the shift.
  double z = 0;
  for (double x : v) z += std::exp(x);
  const int n = 200000;
  std::vector<int> counts(v.size(), 0);
  for (int k = 0; k < n; ++k) {
    Stream rng(42, 0, static_cast<std::uint64_t>(k), 3, Purpose::nursery);
    counts[static_cast<std::size_t>(logit_choice(v, rng.uniform()))] += 1;
  }
  for (std::size_t j = 0; j < v.size(); ++j) {
    const double p = std::exp(v[j]) / z, se = std::sqrt(p * (1 - p) / n);
    INFO("option " << j << ": frequency " << counts[j] / double(n) << ", probability " << p);
    CHECK(std::abs(counts[j] / double(n) - p) < 4 * se);
  }
}

TEST_CASE("nursery, waiting lists are served in priority order", "[nursery]") {
  Scenario sc = small(36);
  scale_capacity(sc, Service::nursery, 0.4);
  const Model model(sc);
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, model.rates, model.counts, 0);
  int served_checked = 0;
  for (int t = 0; t < sc.n_months(); ++t) {
    // Before the month: who waits where, with what key.
    std::map<std::uint64_t, std::pair<int, std::uint64_t>> before;  // child id -> (facility, key)
    std::map<std::uint64_t, int> before_since;                      // child id -> waiting since
    const Children& c0 = st.children;
    for (std::size_t i = 0; i < c0.size(); ++i)
      if (c0.present[i] && c0.waiting[i] >= 0) {
        const auto h = static_cast<std::size_t>(c0.household[i]);
        before[c0.id[i]] = {c0.waiting[i], priority_key(all_parents_work(st.households, h),
                                                        st.households.hukou_local[h],
                                                        c0.waiting_since[i], mix64(c0.id[i]))};
        before_since[c0.id[i]] = c0.waiting_since[i];
      }
    st.month = t;
    step_month(model, st, rec);
    // After: on each list, everyone served from it outranks everyone still on it.
    std::map<int, std::uint64_t> worst_served, best_left;
    const Children& c = st.children;
    for (std::size_t i = 0; i < c.size(); ++i) {
      auto it = before.find(c.id[i]);
      if (!c.present[i] || it == before.end()) continue;
      const auto [f, key] = it->second;
      if (c.nursery[i] == f && c.nursery_since[i] == t) {
        worst_served[f] = std::max(worst_served[f], key);
        ++served_checked;
      } else if (c.waiting[i] == f && c.waiting_since[i] == before_since[c.id[i]]) {
        // Still on the same list (a family that gave up after nursery.max_wait_months and
        // applied again this month is at the back of the list, with a new key).
        best_left[f] = best_left.count(f) ? std::min(best_left[f], key) : key;
      }
    }
    for (const auto& [f, key] : worst_served)
      if (best_left.count(f)) REQUIRE(key < best_left[f]);
  }
  CHECK(served_checked > 10);
}

TEST_CASE("nursery, zero capacity gives no places and very large capacity no waiting",
          "[nursery]") {
  Scenario none = small(24), plenty = small(24);
  scale_capacity(none, Service::nursery, 0.0);
  scale_capacity(plenty, Service::nursery, 1000.0);
  const auto a = run_scenario(none), b = run_scenario(plenty);
  CHECK(total(a, "nursery_enrolled") == 0);
  CHECK(total(a, "nursery_unmet") == total(a, "nursery_wanting"));
  CHECK(total(a, "nursery_wanting") > 0);
  CHECK(total(b, "nursery_waiting") == 0);
  CHECK(total(b, "nursery_enrolled") > 0);
  // With ample places only families with no nursery within reach go without.
  CHECK(total(b, "nursery_unmet") <= total(b, "nursery_wanting") / 100);
}

TEST_CASE("nursery, closing a facility moves its children to other places or waiting lists",
          "[nursery]") {
  Scenario open = small(36), closed = small(36);
  const auto a = run_scenario(open);
  const auto& F = open.facilities;
  const int nf = static_cast<int>(F.size()), S = open.base.n_streets();
  // Close, from month 18, the nursery that holds the most children in month 17.
  int target = -1;
  const auto& enr_a = test::ints(a, "nursery_enrolled");
  for (int f : F.of_service(Service::nursery))
    if (target < 0 || enr_a[17 * nf + f] > enr_a[17 * nf + target]) target = f;
  REQUIRE(enr_a[17 * nf + target] > 5);
  auto& G = closed.facilities;
  for (int t = 18; t < G.n_months; ++t) G.capacity_schedule[G.at(target, t)] = 0;
  const auto b = run_scenario(closed);
  const auto& enr_b = test::ints(b, "nursery_enrolled");
  CHECK(enr_b[18 * nf + target] == 0);
  // Identical before the closure (common random numbers) ...
  for (int t = 0; t < 18; ++t)
    for (int f = 0; f < nf; ++f) REQUIRE(enr_a[t * nf + f] == enr_b[t * nf + f]);
  // ... and in the closure month its children were displaced and sought care elsewhere.
  std::int64_t displaced = 0, waiting_a = 0, waiting_b = 0, elsewhere_a = 0, elsewhere_b = 0;
  for (int s = 0; s < S; ++s) {
    displaced += test::ints(b, "nursery_displaced")[18 * S + s];
    waiting_a += test::ints(a, "nursery_children_waiting")[18 * S + s];
    waiting_b += test::ints(b, "nursery_children_waiting")[18 * S + s];
  }
  for (int f = 0; f < nf; ++f)
    if (f != target) {
      elsewhere_a += enr_a[18 * nf + f];
      elsewhere_b += enr_b[18 * nf + f];
    }
  // Every holder still of nursery age lost the place (a few left at 36 months anyway) ...
  CHECK(displaced <= enr_b[17 * nf + target]);
  CHECK(displaced >= enr_b[17 * nf + target] * 7 / 10);
  // ... and went to other nurseries or onto waiting lists.
  CHECK((elsewhere_b - elsewhere_a) + (waiting_b - waiting_a) > 0);
  // At most the displaced plus those who in the open run took a place there this month.
  CHECK((elsewhere_b - elsewhere_a) + (waiting_b - waiting_a) <=
        displaced + enr_a[18 * nf + target]);
}

TEST_CASE("kindergarten, the September intake places the new cohort", "[kindergarten]") {
  Scenario sc = small(10);
  const Model model(sc);
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, model.rates, model.counts, 0);
  for (int t = 0; t < sc.n_months(); ++t) {
    st.month = t;
    step_month(model, st, rec);
    const Children& c = st.children;
    int cohort = 0, cohort_placed = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!c.present[i]) continue;
      const int age = age_at_last_september(t, c.birth_month[i], sc.start);
      if (age < 3 || age >= 6) REQUIRE(c.kindergarten[i] < 0);  // nobody too young or at school
      if (t == 8 && age == 3) {                                 // September 2024: the new cohort
        ++cohort;
        cohort_placed += c.kindergarten[i] >= 0;
      }
      // In August, the children who start in September are not yet placed.
      if (t == 7 && age_at_last_september(8, c.birth_month[i], sc.start) == 3)
        REQUIRE(c.kindergarten[i] < 0);
    }
    if (t == 8) {
      REQUIRE(cohort > 100);
      CHECK(cohort_placed > 0.9 * cohort * sc.base.parameters["kindergarten.take_up"]);
    }
  }
}
