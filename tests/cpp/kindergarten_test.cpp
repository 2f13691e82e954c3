// kindergarten_test: admission by residence catchment (对口) — catchment children take their
// catchment kindergarten first (at any distance), others and the overflow the nearest with
// room; nobody is placed outside a catchment that had room; capacity is kept; no catchment
// leaves admission as it was; bad catchments are located errors.
#include "sim/run/ensemble.hpp"  // run_scenario
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>  // std::abs
#include <fstream>  // std::ofstream
#include <string>   // std::string

using namespace childsim;

namespace {

// A scenario extending the small test scenario (a fifth of the district) to June 2025, with
// `extra` appended; kindergarten capacities scaled by `scale` so that places are scarce.
Scenario with(const std::string& extra, const std::string& tag, double scale = 1.0) {
  const auto dir = test::fresh_dir("kg-" + tag);
  std::ofstream(dir / "s.yaml") << "extends: " << test::scenario("tests/data/small.yaml").string()
                                << "\nreplicates: 2\nend: 2025-06\n"
                                << extra;
  Scenario sc = load_scenario(dir / "s.yaml");
  Facilities& F = sc.facilities;
  for (std::size_t f = 0; f < F.size(); ++f)
    if (F.service_of(f) == Service::kindergarten)
      for (int t = 0; t < F.n_months; ++t)
        F.capacity_schedule[F.at(f, t)] =
            static_cast<std::int32_t>(F.capacity_schedule[F.at(f, t)] * scale);
  return sc;
}

std::string error_of(const std::string& extra) {
  try {
    with(extra, "bad");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("kindergarten, catchment by street keeps children in their street while it has room",
          "[kindergarten]") {
  // Places scarce (a fifth of the district's capacity at a fifth of its children, less 30 %).
  const Scenario sc = with("policy:\n  kindergarten_catchment: street\n", "street", 0.14);
  const Scenario free = with("", "free", 0.14);
  REQUIRE(!sc.facilities.catchment.empty());
  REQUIRE(free.facilities.catchment.empty());
  const auto ds = run_scenario(sc), dfree = run_scenario(free);
  const Facilities& F = sc.facilities;
  const int R = sc.replicates, T = sc.n_months();
  const int NF = static_cast<int>(F.size()), S = static_cast<int>(sc.base.streets.size());
  const auto& enr = test::ints(ds, "kindergarten_enrolled");
  const auto& outside = test::ints(ds, "kindergarten_outside_catchment");
  const auto& outside_free = test::ints(dfree, "kindergarten_outside_catchment");
  int placed_outside = 0;
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      std::vector<int> free_in_street(static_cast<std::size_t>(S), 0);
      for (int f = 0; f < NF; ++f) {
        const auto fu = static_cast<std::size_t>(f);
        if (F.service_of(fu) != Service::kindergarten) continue;
        const int e = enr[(r * T + t) * NF + f];
        CHECK(e <= F.capacity(fu, t));  // capacity is never exceeded
        if (F.street[fu] >= 0)
          free_in_street[static_cast<std::size_t>(F.street[fu])] += F.capacity(fu, t) - e;
      }
      for (int s = 0; s < S; ++s) {
        const int out = outside[(r * T + t) * S + s];
        placed_outside += out;
        // A child placed outside its street's kindergartens this month: they were all full,
        // and stay full (places are not freed after placement within a month).
        if (out > 0) CHECK(free_in_street[static_cast<std::size_t>(s)] == 0);
        CHECK(outside_free[(r * T + t) * S + s] == 0);  // no catchments: never counted
      }
    }
  CHECK(placed_outside > 0);  // scarce places: the overflow exists and is counted

  // Without catchments the same places go to the nearest children: the capacity used is
  // within a few places of the catchment run's (children assigned to a kindergarten outside
  // the walking radius of others can leave a few of those others unplaced in a month).
  const auto& by_street = test::ints(ds, "kindergarten_children_enrolled");
  const auto& by_street_free = test::ints(dfree, "kindergarten_children_enrolled");
  long total = 0, total_free = 0;
  for (std::size_t k = 0; k < by_street.size(); ++k) {
    total += by_street[k];
    total_free += by_street_free[k];
  }
  CHECK(std::abs(total - total_free) < 0.01 * total_free);
}

TEST_CASE(
    "kindergarten, an explicit catchment sends a street's children to its kindergarten at "
    "any distance",
    "[kindergarten]") {
  // Xinjing's children are assigned to a Jiangsulu kindergarten across the district.
  const Scenario sc = with(
      "policy:\n  kindergarten_catchment:\n"
      "    - {kindergarten: jiangsulu-kg-1, streets: [xinjing]}\n",
      "list");
  const Facilities& F = sc.facilities;
  const int kg = F.index("jiangsulu-kg-1"), xinjing = sc.base.street_index("xinjing");
  REQUIRE(F.in_catchment(static_cast<std::size_t>(kg), xinjing));
  CHECK(!F.in_catchment(static_cast<std::size_t>(kg), sc.base.street_index("jiangsulu")));
  const auto ds = run_scenario(sc);
  const int R = sc.replicates, T = sc.n_months(), NF = static_cast<int>(F.size());
  const int S = static_cast<int>(sc.base.streets.size());
  const auto& enr = test::ints(ds, "kindergarten_enrolled");
  const auto& outside = test::ints(ds, "kindergarten_outside_catchment");
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      const int e = enr[(r * T + t) * NF + kg];
      CHECK(e <= F.capacity(static_cast<std::size_t>(kg), t));
      // Xinjing children go elsewhere only when the assigned kindergarten is full.
      if (outside[(r * T + t) * S + xinjing] > 0)
        CHECK(e == F.capacity(static_cast<std::size_t>(kg), t));
    }
  // The assigned kindergarten is far from Xinjing: its children walk farther than without
  // the catchment (the same run without it: common random numbers).
  const auto dfree = run_scenario(with("", "list-free"));
  const auto& walk = test::reals(ds, "kindergarten_walk_m");
  const auto& walk_free = test::reals(dfree, "kindergarten_walk_m");
  CHECK(walk[(0 * T + 0) * S + xinjing] > walk_free[(0 * T + 0) * S + xinjing] + 500);
  CHECK(enr[(0 * T + 0) * NF + kg] > 0);
}

TEST_CASE("kindergarten, bad catchments are located errors", "[kindergarten]") {
  CHECK_THAT(error_of("policy:\n  kindergarten_catchment: nearest\n"),
             Catch::Contains("s.yaml:5:27") && Catch::Contains("expected 'street'"));
  CHECK_THAT(error_of("policy:\n  kindergarten_catchment:\n"
                      "    - {kindergarten: no-such-kg, streets: [xinjing]}\n"),
             Catch::Contains("unknown facility 'no-such-kg'"));
  CHECK_THAT(error_of("policy:\n  kindergarten_catchment:\n"
                      "    - {kindergarten: mch-hospital, streets: [xinjing]}\n"),
             Catch::Contains("expected the id of a kindergarten"));
  CHECK_THAT(error_of("policy:\n  kindergarten_catchment:\n"
                      "    - {kindergarten: jiangsulu-kg-1, streets: [atlantis]}\n"),
             Catch::Contains("atlantis"));
}
