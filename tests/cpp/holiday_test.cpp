// holiday_test: the holiday-class submodel — the session calendar and the allocation as pure
// functions, then the model's outputs: capacity, accounting, the windows, who is eligible
// (re-derived from the state), the parameters' direction, and reproducibility across threads.
#include "sim/services/holiday.hpp"       // holiday_window, allocate_holiday_places
#include "sim/core/rng.hpp"               // mix64
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model, step_month, run_replicate
#include "sim/run/ensemble.hpp"           // run_scenario
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "sim/services/facilities.hpp"    // Service
#include "sim/services/reach.hpp"         // facilities_within_reach
#include "test_support.hpp"

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads

#include <catch2/catch.hpp>

#include <algorithm>   // std::sort
#include <cmath>       // std::isnan
#include <cstring>     // std::memcmp
#include <functional>  // std::function
#include <string>      // std::string

using namespace childsim;

namespace {

/// Small scenario (population_scale 0.2) covering the sessions of January 2024, July and
/// August 2024 and January 2025.
Scenario small(int replicates = 2) {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = replicates;
  sc.end = YearMonth{2025, 1};
  return sc;
}

/// Set the places of every holiday class in every month.
void set_holiday_capacity(Scenario& sc, std::int32_t places) {
  Facilities& F = sc.facilities;
  for (std::size_t f = 0; f < F.size(); ++f) {
    if (F.service_of(f) != Service::holiday) continue;
    for (int t = 0; t < F.n_months; ++t)
      F.capacity_schedule[f * static_cast<std::size_t>(F.n_months) + static_cast<std::size_t>(t)] =
          places;
  }
}

/// Run every replicate with the service parameters changed by `adjust` (bypassing the range
/// checks of scenario overrides, which is what lets a test set take-up to exactly 1).
struct Run {
  io::Recorder rec;
  Run(const Scenario& sc, const std::function<void(ServiceParams&)>& adjust)
      : rec(sc, sc.replicates) {
    Model m(sc);
    if (adjust) adjust(m.services);
    for (int r = 0; r < sc.replicates; ++r) run_replicate(m, r, rec);
  }
  const std::vector<std::int32_t>& ints(const std::string& name) const { return rec.data(name); }
  const std::vector<double>& reals(const std::string& name) const { return rec.real_data(name); }
};

long total(const std::vector<std::int32_t>& v) {
  long s = 0;
  for (auto x : v) s += x;
  return s;
}

bool is_session(const Scenario& sc, int t) {
  const int m = sc.start.plus(t).month;
  return m == 1 || m == 7 || m == 8;
}

}  // namespace

TEST_CASE("holiday, sessions are in July, August and January only", "[holiday]") {
  for (int m = 1; m <= 12; ++m) {
    INFO("calendar month " << m);
    const HolidayWindow w = holiday_window(m);
    CHECK(w == (m == 7 || m == 8 ? HolidayWindow::summer
                : m == 1         ? HolidayWindow::winter
                                 : HolidayWindow::none));
  }
  const YearMonth jan{2024, 1};
  CHECK(holiday_window_first_month(0, jan) == 0);    // January: its own month
  CHECK(holiday_window_first_month(6, jan) == 6);    // July
  CHECK(holiday_window_first_month(7, jan) == 6);    // August keys on July
  CHECK(holiday_window_first_month(12, jan) == 12);  // next January
  CHECK(holiday_window_first_month(3, jan) == 3);    // outside: itself
  CHECK(holiday_window_first_month(0, YearMonth{2024, 8}) == -1);
}

TEST_CASE("holiday, allocation takes the nearest free class in order and never overfills",
          "[holiday]") {
  ServiceParams P;  // detour factor 1.3
  const std::vector<HolidayClass> classes = {
      {0, 0, 2},       // near, 2 places
      {0, 0, 0},       // as near but closed
      {1000, 0, 1},    // farther, 1 place
      {20000, 0, 50},  // beyond reach
      {1000, 0, 5},    // as far as class 2, listed later
  };
  const std::vector<double> x(10, 100.0), y(10, 0.0);
  const double max_m = 5000;
  const HolidayAllocation a = allocate_holiday_places(classes, x, y, P, max_m);
  REQUIRE(a.place.size() == 10);
  CHECK(a.place[0] == 0);
  CHECK(a.place[1] == 0);
  CHECK(a.place[2] == 2);  // the nearest is full; of two at equal distance, the first listed
  for (int k = 3; k < 8; ++k) CHECK(a.place[static_cast<std::size_t>(k)] == 4);
  CHECK(a.place[8] == -1);  // every class in reach is full
  CHECK(a.place[9] == -1);
  CHECK(a.walk_m[0] == Approx(130.0));
  CHECK(a.walk_m[2] == Approx(1.3 * 900.0));
  CHECK(a.walk_m[8] == 0.0);
  for (std::size_t j = 0; j < classes.size(); ++j)
    CHECK(a.filled[j] <= std::max(0, classes[j].capacity));
  CHECK(a.filled == std::vector<std::int32_t>{2, 0, 1, 0, 5});

  // No classes, or none in reach: everyone unmet.
  CHECK(allocate_holiday_places({}, x, y, P, max_m).place == std::vector<int>(10, -1));
  CHECK(allocate_holiday_places({{1e5, 0, 100}}, x, y, P, max_m).place == std::vector<int>(10, -1));
}

TEST_CASE(
    "holiday, allocation with the distances computed in parallel equals the plain one on the "
    "homes of a real population, at 1 and 3 threads",
    "[holiday][threads]") {
  // allocate_holiday_places_nearby (used by step_holiday) against the plain scan: every
  // household of a built population seeks, in an order by a hash of its row, the scenario's
  // holiday classes (a few closed, a few places each, so that classes fill and later seekers go
  // farther or are unmet). Same places, same distances to the bit, same fills.
  const Scenario sc = small(1);
  const Model m(sc);
  const State st = build_initial_state(sc, m.rates, m.counts, 0);
  const Households& h = st.households;
  const Facilities& F = sc.facilities;
  std::vector<HolidayClass> classes;
  std::vector<int> class_facility;
  for (std::size_t f = 0; f < F.size(); ++f)
    if (F.service_of(f) == Service::holiday) {
      classes.push_back({F.x_m[f], F.y_m[f], (static_cast<std::int32_t>(f % 7) - 1) * 40});
      class_facility.push_back(static_cast<int>(f));
    }
  REQUIRE(classes.size() > 5);
  std::vector<std::size_t> order(h.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [](std::size_t a, std::size_t b) { return mix64(a) < mix64(b); });
  std::vector<double> x, y;
  std::vector<std::int16_t> street;
  for (const std::size_t i : order) {
    x.push_back(h.x_m[i]);
    y.push_back(h.y_m[i]);
    street.push_back(h.street[i]);
  }
  const double max_m = m.services.max_distance_km * 1000.0;
  // The classes each street's homes may reach, as class indices (as step_holiday makes them).
  const auto reach_f = facilities_within_reach(sc.base, F, class_facility, m.services, max_m);
  std::vector<std::vector<int>> reach(reach_f.size());
  for (std::size_t s = 0; s < reach_f.size(); ++s)
    for (const int f : reach_f[s])
      for (std::size_t j = 0; j < class_facility.size(); ++j)
        if (class_facility[j] == f) reach[s].push_back(static_cast<int>(j));
  const HolidayAllocation plain = allocate_holiday_places(classes, x, y, m.services, max_m);
  int placed = 0, unmet = 0;
  for (const int j : plain.place) (j >= 0 ? placed : unmet) += 1;
  REQUIRE(placed > 20);
  REQUIRE(unmet > 20);
  const int saved = omp_get_max_threads();
  for (const int threads : {1, 3}) {
    omp_set_num_threads(threads);
    INFO(threads << " threads");
    const HolidayAllocation a =
        allocate_holiday_places_nearby(classes, x, y, street, reach, m.services, max_m);
    CHECK(a.place == plain.place);
    CHECK(a.filled == plain.filled);
    CHECK(
        (a.walk_m.size() == plain.walk_m.size() &&
         std::memcmp(a.walk_m.data(), plain.walk_m.data(), a.walk_m.size() * sizeof(double)) == 0));
  }
  omp_set_num_threads(saved);
  // The small cases of the plain allocation's test.
  ServiceParams P;
  const std::vector<double> x10(10, 100.0), y10(10, 0.0);
  const std::vector<HolidayClass> few = {
      {0, 0, 2}, {0, 0, 0}, {1000, 0, 1}, {20000, 0, 50}, {1000, 0, 5}};
  const std::vector<std::int16_t> street10(10, 0);
  const std::vector<std::vector<int>> all_five = {{0, 1, 2, 3, 4}};
  CHECK(allocate_holiday_places_nearby(few, x10, y10, street10, all_five, P, 5000).place ==
        allocate_holiday_places(few, x10, y10, P, 5000).place);
  CHECK(allocate_holiday_places_nearby({}, x10, y10, street10, {{}}, P, 5000).place ==
        std::vector<int>(10, -1));
}

TEST_CASE("holiday, capacity is respected, seekers are placed or unmet, nothing outside sessions",
          "[holiday]") {
  const Scenario sc = small();
  const Run run(sc, {});
  const Facilities& F = sc.facilities;
  const int R = sc.replicates, T = sc.n_months();
  const auto NF = static_cast<int>(F.size()), NS = sc.base.n_streets();
  const auto& eligible = run.ints("holiday_eligible");
  const auto& seekers = run.ints("holiday_seekers");
  const auto& placed = run.ints("holiday_placed");
  const auto& unmet = run.ints("holiday_unmet");
  const auto& enrolled = run.ints("holiday_enrolled");
  const auto& fill = run.reals("holiday_fill");
  const auto& walk = run.reals("holiday_walk_m");
  const int summer = F.kind_index("summer_class"), winter = F.kind_index("winter_class");
  REQUIRE(summer >= 0);
  REQUIRE(winter >= 0);
  long sessions_with_classes = 0;
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      INFO("replicate " << r << ", month " << sc.start.plus(t).to_string());
      const bool session = is_session(sc, t);
      const int kind = sc.start.plus(t).month == 1 ? winter : summer;
      long placed_total = 0, enrolled_total = 0, eligible_total = 0;
      for (int s = 0; s < NS; ++s) {
        const auto k = static_cast<std::size_t>((r * T + t) * NS + s);
        CHECK(seekers[k] == placed[k] + unmet[k]);
        CHECK(seekers[k] <= eligible[k]);
        CHECK(placed[k] >= 0);
        CHECK(unmet[k] >= 0);
        if (!session) CHECK(seekers[k] == 0);
        CHECK(std::isnan(walk[k]) == (placed[k] == 0));
        if (placed[k] > 0) CHECK(walk[k] > 0);
        placed_total += placed[k];
        eligible_total += eligible[k];
      }
      CHECK(eligible_total > 0);  // counted every month
      for (int f = 0; f < NF; ++f) {
        const auto k = static_cast<std::size_t>((r * T + t) * NF + f);
        const std::int32_t cap = F.capacity(static_cast<std::size_t>(f), t);
        const bool open = session && F.kind[static_cast<std::size_t>(f)] == kind && cap > 0;
        CHECK(enrolled[k] <= (open ? cap : 0));
        CHECK(enrolled[k] >= 0);
        CHECK(std::isnan(fill[k]) == !open);
        if (open) {
          CHECK(fill[k] == Approx(static_cast<double>(enrolled[k]) / cap));
          sessions_with_classes += 1;
        }
        enrolled_total += enrolled[k];
      }
      CHECK(enrolled_total == placed_total);
    }
  }
  CHECK(sessions_with_classes > 0);
  CHECK(total(placed) > 0);
}

TEST_CASE(
    "holiday, eligible pupils are 6-11 by the September rule with all parents working "
    "and no grandparent care",
    "[holiday]") {
  // Re-derive eligibility from the state after each month, independently of the model's
  // helpers. With take-up 1 every eligible pupil seeks; with capacity and reach unlimited
  // every seeker is placed: the placed pupils are exactly the eligible ones.
  Scenario sc = small(1);
  set_holiday_capacity(sc, 1000000);
  Model m(sc);
  m.services.holiday_take_up = 1.0;
  m.services.max_distance_km = 1000.0;
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  const int NS = sc.base.n_streets();
  long placed_all = 0;
  for (int t = 0; t < sc.n_months(); ++t) {
    st.month = t;
    step_month(m, st, rec);
    const YearMonth now = sc.start.plus(t);
    const YearMonth september{now.month >= 9 ? now.year : now.year - 1, 9};
    std::vector<std::int32_t> expect(static_cast<std::size_t>(NS), 0);
    const Households& h = st.households;
    const Children& c = st.children;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!c.present[i]) continue;
      const auto hh = static_cast<std::size_t>(c.household[i]);
      const int months_old = months_between(sc.start.plus(c.birth_month[i]), september);
      if (months_old < 6 * 12 || months_old >= 12 * 12) continue;
      const bool parent = h.has_mother[hh] || h.partnered[hh];
      const bool mother_ok = !h.has_mother[hh] || h.mother_works[hh];
      const bool partner_ok = !h.partnered[hh] || h.partner_works[hh];
      if (!(parent && mother_ok && partner_ok) || h.grandparent_care[hh]) continue;
      expect[static_cast<std::size_t>(h.street[hh])] += 1;
    }
    const std::int32_t* eligible = rec.block("holiday_eligible", 0, t);
    const std::int32_t* seekers = rec.block("holiday_seekers", 0, t);
    const std::int32_t* placed = rec.block("holiday_placed", 0, t);
    const std::int32_t* unmet = rec.block("holiday_unmet", 0, t);
    for (int s = 0; s < NS; ++s) {
      INFO("month " << now.to_string() << ", street " << s);
      CHECK(eligible[s] == expect[static_cast<std::size_t>(s)]);
      CHECK(seekers[s] == (is_session(sc, t) ? eligible[s] : 0));
      CHECK(placed[s] == seekers[s]);  // very large capacity: no one unmet
      CHECK(unmet[s] == 0);
      placed_all += placed[s];
    }
  }
  CHECK(placed_all > 0);
}

TEST_CASE("holiday, take-up and grandparent care move demand the right way", "[holiday]") {
  const Scenario sc = small(1);
  const Run none(sc, [](ServiceParams& p) { p.holiday_take_up = 0.0; });
  CHECK(total(none.ints("holiday_seekers")) == 0);
  CHECK(total(none.ints("holiday_enrolled")) == 0);
  CHECK(total(none.ints("holiday_eligible")) > 0);

  const Run half(sc, [](ServiceParams& p) { p.holiday_take_up = 0.5; });
  const Run all(sc, [](ServiceParams& p) { p.holiday_take_up = 1.0; });
  CHECK(total(half.ints("holiday_seekers")) < total(all.ints("holiday_seekers")));
  CHECK(total(half.ints("holiday_eligible")) == total(all.ints("holiday_eligible")));

  // Grandparent care at the bottom and top of its range (scenario overrides).
  const Parameter* gp = sc.base.parameters.find("household.grandparent_care");
  REQUIRE(gp);
  auto with_grandparents = [&](double v) {
    Scenario s = load_scenario_text(
        "extends: small.yaml\nparameters:\n  household.grandparent_care: " + std::to_string(v) +
            "\n",
        test::scenario("tests/data"));
    s.replicates = 1;
    s.end = YearMonth{2025, 1};
    return s;
  };
  const Scenario lo_sc = with_grandparents(gp->lo), hi_sc = with_grandparents(gp->hi);
  const Run lo(lo_sc, {}), hi(hi_sc, {});
  CHECK(total(hi.ints("holiday_eligible")) < total(lo.ints("holiday_eligible")));
  CHECK(total(hi.ints("holiday_seekers")) < total(lo.ints("holiday_seekers")));
}

TEST_CASE("holiday, zero capacity leaves every seeker unmet", "[holiday]") {
  Scenario sc = small(1);
  set_holiday_capacity(sc, 0);
  const Run run(sc, {});
  CHECK(total(run.ints("holiday_seekers")) > 0);
  CHECK(total(run.ints("holiday_placed")) == 0);
  CHECK(total(run.ints("holiday_enrolled")) == 0);
  CHECK(run.ints("holiday_unmet") == run.ints("holiday_seekers"));
  for (double x : run.reals("holiday_fill")) CHECK(std::isnan(x));
  for (double x : run.reals("holiday_walk_m")) CHECK(std::isnan(x));
}

TEST_CASE("holiday, very large capacity leaves no seeker unmet", "[holiday]") {
  // Reach is unlimited too: in the baseline some homes have no winter class within
  // nursery.max_distance_km (Jiangsulu and Chengjiaqiao have none), and those seekers stay
  // unmet whatever the capacity.
  Scenario sc = small(1);
  set_holiday_capacity(sc, 1000000);
  const Run run(sc, [](ServiceParams& p) { p.max_distance_km = 1000.0; });
  CHECK(total(run.ints("holiday_seekers")) > 0);
  CHECK(total(run.ints("holiday_unmet")) == 0);
  CHECK(run.ints("holiday_placed") == run.ints("holiday_seekers"));
}

TEST_CASE("holiday, outputs are identical for 1 and 3 threads", "[holiday][threads]") {
  const Scenario sc = small(2);
  RunOptions one, three;
  one.threads = 1;
  three.threads = 3;
  const io::Dataset a = run_scenario(sc, one);
  const io::Dataset b = run_scenario(sc, three);
  int compared = 0;
  for (const auto& v : a.variables) {
    if (v.name.rfind("holiday_", 0) != 0) continue;
    INFO(v.name);
    CHECK(test::identical(b.find_variable(v.name)->data, v.data));  // NaNs too
    compared += 1;
  }
  CHECK(compared == 7);
}
