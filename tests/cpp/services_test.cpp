// services_test: the helpers the service submodels share (services.hpp) — the passes that
// fetch households ahead call exactly what the plain loop calls, in the same order, the packed
// HomeRow of a child holds its household's values, list_young lists the rows of a plain loop,
// and a month's steps over the young children's rows with the households packed once equal
// steps over every row.
#include "sim/services/services.hpp"      // for_rows_fetched_ahead, make_homes, list_young
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model
#include "sim/services/holiday.hpp"       // holiday_min_age, holiday_max_age
#include "test_support.hpp"

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads
#include <catch2/catch.hpp>

#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t
#include <utility>  // std::pair
#include <vector>   // std::vector

using namespace childsim;

namespace {

// Keeps rows by a fixed hash of the row: `one_in` of them on average (1: every row).
bool kept(std::size_t i, std::uint64_t one_in) {
  std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 31;
  return x % one_in == 0;
}

}  // namespace

TEST_CASE("services, for_rows_fetched_ahead calls fn on the kept rows in row order", "[services]") {
  // Ranges with no kept row, fewer kept rows than the look-ahead, and many; sparse and dense.
  for (const std::uint64_t one_in : {1ull, 3ull, 50ull, 1000000ull}) {
    for (const auto& [begin, end] : std::vector<std::pair<std::size_t, std::size_t>>{
             {0, 0}, {5, 6}, {0, 7}, {3, 20}, {0, 5000}, {1234, 9876}}) {
      INFO("one in " << one_in << ", rows " << begin << ".." << end);
      std::vector<std::size_t> plain;
      for (std::size_t i = begin; i < end; ++i)
        if (kept(i, one_in)) plain.push_back(i);
      std::vector<std::size_t> calls, fetched;
      bool fetched_first = true;
      for_rows_fetched_ahead(
          begin, end, [&](std::size_t i) { return kept(i, one_in); },
          [&](std::size_t i) { fetched.push_back(i); },
          [&](std::size_t i) {
            // fn(i) comes after fetch(i), and only after the fetches of the next rows kept
            // (up to the look-ahead) when there are such rows.
            std::size_t at = 0;
            while (at < fetched.size() && fetched[at] != i) ++at;
            fetched_first = fetched_first && at < fetched.size();
            const std::size_t ahead = fetched.size() - 1 - at;
            const std::size_t left = plain.size() - 1 - calls.size();  // kept rows after i
            fetched_first = fetched_first && ahead == std::min<std::size_t>(32, left);
            calls.push_back(i);
          });
      CHECK(calls == plain);
      CHECK(fetched == plain);
      CHECK(fetched_first);
    }
  }
}

TEST_CASE("services, make_homes holds every present child's household's values", "[services]") {
  const Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  const Model m(sc);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  const Households& h = st.households;
  Children& c = st.children;
  REQUIRE(c.size() > 100);
  c.present[3] = 0;  // a child who left: its entry is left as it was
  // A buffer longer than the table keeps its length (it is reused from month to month).
  const HomeRow marker{-1.0f, -2.0f, -3.0f, -4, 5, 6};
  std::vector<HomeRow> homes(c.size() + 10, marker);
  make_homes(c, h, homes);
  CHECK(homes.size() == c.size() + 10);
  CHECK(homes[3].street == marker.street);
  int working = 0, local = 0, grand = 0, n = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c.present[i]) continue;
    const HomeRow& o = homes[i];
    const auto k = static_cast<std::size_t>(c.household[i]);
    INFO("child " << i << ", household " << k);
    CHECK(o.x_m == h.x_m[k]);
    CHECK(o.y_m == h.y_m[k]);
    CHECK(o.taste == h.taste[k]);
    CHECK(o.street == h.street[k]);
    CHECK(o.income_band == h.income_band[k]);
    CHECK(o.all_parents_work() == all_parents_work(h, k));
    CHECK(o.hukou_local() == (h.hukou_local[k] != 0));
    CHECK(o.grandparent_care() == (h.grandparent_care[k] != 0));
    working += o.all_parents_work();
    local += o.hukou_local();
    grand += o.grandparent_care();
    n += 1;
  }
  // Each flag takes both values somewhere, so that the checks above test the bits.
  CHECK((working > 0 && working < n));
  CHECK((local > 0 && local < n));
  CHECK((grand > 0 && grand < n));
  // A short buffer grows to the table.
  std::vector<HomeRow> fresh;
  make_homes(c, h, fresh);
  REQUIRE(fresh.size() == c.size());
  CHECK(fresh.back().street == h.street[static_cast<std::size_t>(c.household.back())]);
}

TEST_CASE(
    "services, list_young lists the young children and pupils of a plain pass and packs "
    "their homes",
    "[services]") {
  // Against a plain serial loop over every row, on a real state, at 1 and 3 threads: the
  // same rows in the same order, and the homes of those listed (of every present child with
  // every_child) equal to make_homes'.
  const Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  const Model m(sc);
  const State st = build_initial_state(sc, m.rates, m.counts, 0);
  const Children& c = st.children;
  const int month = 9, oldest = young_age_limit(sc.facilities);
  const int september = month - (sc.start.plus(month).month - 9 + 12) % 12;
  std::vector<std::uint32_t> young_ref, pupils_ref;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c.present[i]) continue;
    if (month - c.birth_month[i] < oldest || c.nursery[i] >= 0 || c.waiting[i] >= 0 ||
        c.kindergarten[i] >= 0)
      young_ref.push_back(static_cast<std::uint32_t>(i));
    const int age = age_at_last_september(month, c.birth_month[i], sc.start);
    if (age >= holiday_min_age && age <= holiday_max_age)
      pupils_ref.push_back(static_cast<std::uint32_t>(i));
  }
  std::vector<HomeRow> all;
  make_homes(c, st.households, all);
  auto same = [](const HomeRow& a, const HomeRow& b) {
    return a.x_m == b.x_m && a.y_m == b.y_m && a.taste == b.taste && a.street == b.street &&
           a.income_band == b.income_band && a.traits == b.traits;
  };
  const int saved = omp_get_max_threads();
  for (const int threads : {1, 3}) {
    omp_set_num_threads(threads);
    for (const bool every : {false, true}) {
      INFO(threads << " threads, every child " << every);
      std::vector<std::uint32_t> young, pupils;
      std::vector<HomeRow> homes(c.size(), HomeRow{-1.0f, -1.0f, -1.0f, -1, 0, 0});
      list_young(c, st.households, month, oldest, september, every, young, pupils, homes);
      CHECK(young == young_ref);
      CHECK(pupils == pupils_ref);
      CHECK((!young.empty() && !pupils.empty() && young.size() < c.size()));
      std::vector<std::uint8_t> listed(c.size(), every ? 1 : 0);
      for (const auto i : young) listed[i] = 1;
      for (const auto i : pupils) listed[i] = 1;
      int packed = 0, left = 0;
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (!c.present[i]) continue;
        if (listed[i]) {
          CHECK(same(homes[i], all[i]));
          ++packed;
        } else {
          CHECK(homes[i].street == -1);  // not listed: left as it was
          ++left;
        }
      }
      CHECK(packed > 0);
      CHECK((every ? left == 0 : left > 0));
    }
  }
  omp_set_num_threads(saved);
}

TEST_CASE(
    "services, a month's steps over the young children's rows with the households packed "
    "once give the state and records of steps over every row",
    "[services]") {
  // step_services lists the young children and packs the households once a month; the steps
  // called one by one with a plain context run every pass over every row and pack the
  // households themselves. Same month (no demography in between: the services change no
  // household), same results to the bit, at 1 and 3 threads.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.end = sc.start.plus(23);
  const Model m(sc);
  const int saved = omp_get_max_threads();
  for (const int threads : {1, 3}) {
    omp_set_num_threads(threads);
    State a = build_initial_state(sc, m.rates, m.counts, 0), b = a;
    io::Recorder ra(sc, 1), rb(sc, 1);
    const ServiceContext cx{m.scenario, m.services};
    int held = 0, young = 0;
    for (int t = 0; t < 8; ++t) {  // Jan–Aug: the September intake comes later, July has holidays
      a.month = b.month = t;
      step_services(cx, a, ra);
      step_kindergarten(cx, b, rb);
      step_nursery(cx, b, rb);
      step_babyroom(cx, b, rb);
      step_holiday(cx, b, rb);
      step_clinic(cx, b, rb);
      step_access(cx, b, rb);
    }
    const Children &x = a.children, &y = b.children;
    for (std::size_t i = 0; i < x.size(); ++i) {
      INFO(threads << " threads, child " << i);
      CHECK(x.nursery[i] == y.nursery[i]);
      CHECK(x.nursery_since[i] == y.nursery_since[i]);
      CHECK(x.waiting[i] == y.waiting[i]);
      CHECK(x.waiting_since[i] == y.waiting_since[i]);
      CHECK(x.kindergarten[i] == y.kindergarten[i]);
      CHECK(x.kindergarten_since[i] == y.kindergarten_since[i]);
      CHECK(x.babyroom_year[i] == y.babyroom_year[i]);
      held += x.nursery[i] >= 0 || x.kindergarten[i] >= 0;
      young += 7 - x.birth_month[i] < young_age_limit(sc.facilities);
    }
    CHECK(held > 0);
    CHECK((young > 0 && young < static_cast<int>(x.size())));  // some rows are left out
    const io::Dataset da = ra.to_dataset({}), db = rb.to_dataset({});
    for (const auto& v : da.variables) {
      INFO(threads << " threads, " << v.name);
      const io::Variable* w = db.find_variable(v.name);
      REQUIRE(w != nullptr);
      CHECK(test::identical(v.data, w->data));
    }
  }
  omp_set_num_threads(saved);
}
