// services_test: the helpers the service submodels share (services.hpp) — the passes that
// fetch households ahead (or draw the children's first words a group at a time) call exactly
// what the plain loop calls, in the same order, the packed HomeRow of a household holds the
// household table's values, and a month's steps over the young children's rows with the
// households packed once equal steps over every row.
#include "sim/services/services.hpp"      // for_rows_fetched_ahead, make_homes, home_row
#include "sim/core/philox_batch.hpp"      // FirstBlocks
#include "sim/core/rng.hpp"               // Stream, mix64
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model, step_month
#include "sim/services/holiday.hpp"       // holiday_min_age, holiday_max_age
#include "sim/services/reach.hpp"         // facilities_within_reach
#include "sim/services/warm_start.hpp"    // warm_start_services
#include "test_support.hpp"

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads
#include <catch2/catch.hpp>

#include <algorithm>  // std::sort
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint64_t
#include <limits>     // std::numeric_limits
#include <utility>    // std::pair
#include <vector>     // std::vector

using namespace childsim;

namespace {

// Keeps rows by a fixed hash of the row: `one_in` of them on average (1: every row).
bool kept(std::size_t i, std::uint64_t one_in) {
  std::uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 31;
  return x % one_in == 0;
}

// The rows of st.homes that differ from a HomeRow made afresh from the household table.
std::size_t rows_unlike_fresh(const State& st) {
  const Households& h = st.households;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const HomeRow a = st.homes.rows[i], b = home_row(h, i);
    differ += a.x_m != b.x_m || a.y_m != b.y_m || a.taste != b.taste || a.street != b.street ||
              a.income_band != b.income_band || a.traits != b.traits;
  }
  return differ;
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

TEST_CASE(
    "services, for_rows_with_first_words calls fn on the kept rows in row order with each "
    "child's Stream words",
    "[services]") {
  // Against the plain loop with one Stream per kept row: the same rows in the same order, the
  // first four words of each row's Stream, and fetch(i) before fn(i); over a list of rows and
  // over every row, with ranges of no kept row, fewer than a group and several groups.
  Children c;
  const std::size_t n = 3000;
  for (std::size_t i = 0; i < n; ++i) c.id.push_back(mix64(i + 17));
  std::vector<std::uint32_t> list;
  for (std::size_t i = 0; i < n; i += 2) list.push_back(static_cast<std::uint32_t>(i));
  const std::uint64_t seed = 12345;
  const std::uint32_t replicate = 3, month = 7;
  for (const std::uint64_t one_in : {1ull, 3ull, 1000000ull}) {
    for (const RowSet rows : {RowSet{nullptr, n}, RowSet{list.data(), list.size()}}) {
      for (const auto& [begin, end] :
           std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {5, 6}, {0, 70}, {100, 1400}}) {
        INFO("one in " << one_in << ", list " << (rows.list != nullptr) << ", " << begin << ".."
                       << end);
        std::vector<std::size_t> plain;
        for (std::size_t k = begin; k < end; ++k)
          if (kept(rows[k], one_in)) plain.push_back(rows[k]);
        std::vector<std::size_t> calls;
        std::vector<std::uint8_t> fetched(n, 0);
        bool words_same = true, fetched_first = true;
        for_rows_with_first_words(
            rows, begin, end, c, seed, replicate, month, Purpose::nursery,
            [&](std::size_t i) { return kept(i, one_in); },
            [&](std::size_t i, const FirstBlocks&, std::size_t) { fetched[i] = 1; },
            [&](std::size_t i, const FirstBlocks& words, std::size_t g) {
              fetched_first = fetched_first && fetched[i];
              Stream s(seed, replicate, c.id[i], month, Purpose::nursery);
              for (int j = 0; j < 4; ++j) {
                const std::uint32_t w = s();
                words_same = words_same && words.word(g, j) == w;
              }
              calls.push_back(i);
            });
        CHECK(calls == plain);
        CHECK(words_same);
        CHECK(fetched_first);
      }
    }
  }
}

TEST_CASE("services, the households' rows kept from month to month equal rows made afresh",
          "[services]") {
  // step_services brings st.homes up to date from the rows the month's household events
  // touched and the new rows (update_homes); compaction compacts it with the table. Over 26
  // months (two compactions) with moves, deaths, couples, births and new housing, every row
  // must equal one made afresh from the table (retire_households, after the services, changes
  // no value a HomeRow copies), and every month but the first must have been brought up to
  // date row by row.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(26);
  const Model m(sc);
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  int by_rows = 0, whole = 0;
  std::size_t changed = 0, added = 0;
  for (int t = 0; t < m.rates.n_months; ++t) {
    st.month = t;
    const std::size_t before = st.households.size();
    step_month(m, st, rec);
    (st.homes.made_whole ? whole : by_rows) += 1;
    if (!st.homes.made_whole) {
      changed += st.homes.changed.size();
      // (A month that ends in a compaction may leave fewer rows than it started with.)
      if (st.homes.rows.size() > before) added += st.homes.rows.size() - before;
    }
    const Households& h = st.households;
    REQUIRE(st.homes.rows.size() == h.size());
    const std::size_t differ = rows_unlike_fresh(st);
    INFO("month " << t);
    CHECK(differ == 0);
  }
  CHECK(whole == 1);  // the first month
  CHECK(by_rows == m.rates.n_months - 1);
  CHECK(changed > 1000);  // the months' events did change rows
  CHECK(added > 1000);    // and new households came (the new housing among them)
}

TEST_CASE(
    "services, after the spin-up the first month's households' rows are kept, not made "
    "whole, and equal rows made afresh",
    "[services]") {
  // The warm start makes the HomeRows (it changes no household); the first month's services
  // bring them up to date from that month's events, as in every later month.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(2);
  const Model m(sc);
  REQUIRE(m.warm != nullptr);
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  warm_start_services(*m.warm, st);
  REQUIRE(st.homes.rows.size() == st.households.size());
  for (int t = 0; t < m.rates.n_months; ++t) {
    st.month = t;
    step_month(m, st, rec);
    INFO("month " << t);
    CHECK_FALSE(st.homes.made_whole);
    CHECK(!st.homes.changed.empty());  // rows the month's events touched were made again
    const Households& h = st.households;
    REQUIRE(st.homes.rows.size() == h.size());
    const std::size_t differ = rows_unlike_fresh(st);
    CHECK(differ == 0);
  }
}

TEST_CASE("services, make_homes holds every household's values", "[services]") {
  const Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  const Model m(sc);
  const State st = build_initial_state(sc, m.rates, m.counts, 0);
  const Households& h = st.households;
  REQUIRE(h.size() > 100);
  // A buffer longer than the table keeps its length (it is reused from month to month).
  std::vector<HomeRow> homes(h.size() + 10);
  make_homes(h, homes);
  CHECK(homes.size() == h.size() + 10);
  int working = 0, local = 0, grand = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const HomeRow& o = homes[i];
    INFO("household " << i);
    CHECK(o.x_m == h.x_m[i]);
    CHECK(o.y_m == h.y_m[i]);
    CHECK(o.taste == h.taste[i]);
    CHECK(o.street == h.street[i]);
    CHECK(o.income_band == h.income_band[i]);
    CHECK(o.all_parents_work() == all_parents_work(h, i));
    CHECK(o.hukou_local() == (h.hukou_local[i] != 0));
    CHECK(o.grandparent_care() == (h.grandparent_care[i] != 0));
    working += o.all_parents_work();
    local += o.hukou_local();
    grand += o.grandparent_care();
  }
  // Each flag takes both values somewhere, so that the checks above test the bits.
  const auto n = static_cast<int>(h.size());
  CHECK((working > 0 && working < n));
  CHECK((local > 0 && local < n));
  CHECK((grand > 0 && grand < n));
  // A short buffer grows to the table.
  std::vector<HomeRow> fresh;
  make_homes(h, fresh);
  REQUIRE(fresh.size() == h.size());
  CHECK(fresh.back().street == h.street.back());
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

TEST_CASE(
    "services, NearbyFacilities gives the allocation of the plain scan on a real population, at "
    "1 and 3 threads",
    "[services][threads]") {
  // The kindergarten's placement: seekers in priority order each take the nearest facility of
  // their street's list with a free place within the walking limit. Every third household of a
  // built population seeks (those of one street not at all: a null list), in an order by a hash
  // of its row, among the kindergartens within reach of its street, with a few places each
  // (some none), so that kindergartens fill and later seekers go farther or find none. The
  // allocation with NearbyFacilities equals the plain scan's: same facility, same distance to
  // the bit.
  const Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  const Model m(sc);
  const State st = build_initial_state(sc, m.rates, m.counts, 0);
  const Households& h = st.households;
  const Facilities& F = sc.facilities;
  const ServiceParams& P = m.services;
  const double max_m = P.max_distance_km * 1000.0;
  const std::vector<int> kgs = F.of_service(Service::kindergarten);
  const auto reach = facilities_within_reach(sc.base, F, kgs, P, max_m);
  std::vector<std::int32_t> capacity(F.size());
  for (std::size_t f = 0; f < F.size(); ++f) capacity[f] = static_cast<std::int32_t>(f % 5) * 30;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < h.size(); ++i)
    if (kept(i, 3)) order.push_back(i);
  std::sort(order.begin(), order.end(),
            [](std::size_t a, std::size_t b) { return mix64(a) < mix64(b); });
  auto list_of = [&](std::size_t k) -> const std::vector<int>* {
    const auto s = static_cast<std::size_t>(h.street[order[k]]);
    return s == 1 ? nullptr : &reach[s];
  };
  // The plain scan.
  std::vector<std::int32_t> filled(F.size(), 0);
  std::vector<int> plain(order.size(), -1);
  std::vector<double> plain_d(order.size(), 0.0);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::vector<int>* list = list_of(k);
    if (list == nullptr) continue;
    double best_d = std::numeric_limits<double>::infinity();
    for (const int f : *list) {
      const auto fu = static_cast<std::size_t>(f);
      if (filled[fu] >= capacity[fu]) continue;
      const double d = P.walk_m(h.x_m[order[k]], h.y_m[order[k]], F.x_m[fu], F.y_m[fu]);
      if (d <= max_m && d < best_d) {
        plain[k] = f;
        best_d = d;
      }
    }
    if (plain[k] < 0) continue;
    plain_d[k] = best_d;
    filled[static_cast<std::size_t>(plain[k])] += 1;
  }
  int placed = 0, none = 0;
  for (const int f : plain) (f >= 0 ? placed : none) += 1;
  REQUIRE(placed > 20);
  REQUIRE(none > 20);
  const int saved = omp_get_max_threads();
  for (const int threads : {1, 3}) {
    omp_set_num_threads(threads);
    NearbyFacilities nearby;
    nearby.compute(
        order.size(), list_of,
        [&](std::size_t k) { return std::pair<double, double>(h.x_m[order[k]], h.y_m[order[k]]); },
        [&](int f) {
          return std::pair<double, double>(F.x_m[static_cast<std::size_t>(f)],
                                           F.y_m[static_cast<std::size_t>(f)]);
        },
        P, max_m);
    std::vector<std::int32_t> taken(F.size(), 0);
    auto has_room = [&](int f) {
      return taken[static_cast<std::size_t>(f)] < capacity[static_cast<std::size_t>(f)];
    };
    int differ = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
      double d = 0;
      const int f = nearby.nearest(k, has_room, d);
      if (f >= 0) taken[static_cast<std::size_t>(f)] += 1;
      differ += f != plain[k] || (f >= 0 && d != plain_d[k]);
    }
    CHECK(differ == 0);
    CHECK(taken == filled);
  }
  omp_set_num_threads(saved);
}

TEST_CASE("services, sort_concatenated gives the order of concatenating and sorting",
          "[services][threads]") {
  // (key, row) pairs as the services sort them: keys from a hash, a few repeated (so that rows
  // break ties), rows distinct; some chunks empty; `out` holding a few
  // elements first (the kindergarten's displaced children). Short and long lists (the long
  // ones take the parallel sort and merges), at 1 and 3 threads.
  const int saved = omp_get_max_threads();
  for (const std::size_t n :
       {std::size_t{10}, std::size_t{900}, std::size_t{5000}, std::size_t{30000}}) {
    std::vector<std::vector<std::pair<std::uint64_t, std::size_t>>> parts(13);
    std::vector<std::pair<std::uint64_t, std::size_t>> first, all;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t key = mix64(i % 7 == 3 ? 5 : i) >> (i % 3 == 0 ? 40 : 0);
      auto& to = i < 5 ? first : parts[(i * 13 / n) % 13 == 4 ? 5 : (i * 13 / n) % 13];
      to.emplace_back(key, n - i);
    }
    all = first;
    for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
    std::sort(all.begin(), all.end());
    for (const int threads : {1, 3}) {
      omp_set_num_threads(threads);
      INFO(n << " elements, " << threads << " threads");
      auto p = parts;
      auto out = first;
      sort_concatenated(p, out);
      CHECK(out == all);
    }
  }
  omp_set_num_threads(saved);
}

TEST_CASE("services, list_young lists exactly the rows of its definition, in row order",
          "[services]") {
  // Rows of every kind: absent, of each age around the limits (young, holiday-class age at the
  // last 1 September, both, neither, not yet born by September), holding a place or on a list
  // while old; enough of them for several chunks and blocks, at 1 and 3 threads.
  const int month = 30, september = 26, oldest = 96;
  Children c;
  const std::size_t n = 40000;
  for_each_column([&](auto& col) { col.assign(n, {}); }, c);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t h = mix64(i + 1);
    c.present[i] = (h & 7) != 0;
    c.birth_month[i] = month - static_cast<std::int32_t>((h >> 3) % 230);  // ages 0–229 months
    c.nursery[i] = ((h >> 11) % 13 == 0) ? 2 : -1;
    c.waiting[i] = ((h >> 17) % 17 == 0) ? 1 : -1;
    c.kindergarten[i] = ((h >> 23) % 11 == 0) ? 0 : -1;
  }
  std::vector<std::uint32_t> want_young, want_pupils;
  for (std::size_t i = 0; i < n; ++i) {
    if (!c.present[i]) continue;
    if (month - c.birth_month[i] < oldest || c.nursery[i] >= 0 || c.waiting[i] >= 0 ||
        c.kindergarten[i] >= 0)
      want_young.push_back(static_cast<std::uint32_t>(i));
    const int months = september - c.birth_month[i];
    const int age = months < 0 ? -1 : months / 12;
    if (age >= holiday_min_age && age <= holiday_max_age)
      want_pupils.push_back(static_cast<std::uint32_t>(i));
  }
  REQUIRE(!want_young.empty());
  REQUIRE(!want_pupils.empty());
  REQUIRE(want_young.size() + want_pupils.size() < n);  // some rows are left out
  const int saved = omp_get_max_threads();
  for (const int threads : {1, 3}) {
    omp_set_num_threads(threads);
    std::vector<std::uint32_t> young, pupils;
    list_young(c, month, oldest, september, young, pupils);
    INFO(threads << " threads");
    CHECK(young == want_young);
    CHECK(pupils == want_pupils);
  }
  omp_set_num_threads(saved);
}
