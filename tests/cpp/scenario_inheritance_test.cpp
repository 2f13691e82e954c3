// scenario_inheritance_test: a what-if keeps its base's commitments, edits them only by id,
// dates its policy levers, reports its changes, and every lever's public cost is recorded.
#include "sim/config/config_tree.hpp"       // ConfigError
#include "sim/run/ensemble.hpp"             // run_scenario
#include "sim/scenario/scenario.hpp"        // load_scenario, load_scenario_text
#include "sim/scenario/scenario_diff.hpp"   // scenario_changes
#include "sim/services/service_params.hpp"  // make_service_params
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>    // std::isinf
#include <fstream>  // std::ofstream

using namespace childsim;

namespace {

Scenario what_if(const std::string& text) {
  return load_scenario_text("extends: baseline.yaml\n" + text, test::source_dir() / "scenarios",
                            "what-if.yaml");
}

std::string error_of(const std::string& text) {
  try {
    what_if(text);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

const Scenario& baseline() {
  static const Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  return sc;
}

int month_index(const Scenario& sc, YearMonth m) {
  return months_between(sc.start, m);
}

}  // namespace

TEST_CASE("scenario inheritance, a what-if without investments keeps the baseline's",
          "[scenario]") {
  const Scenario housing = load_scenario(test::scenario("scenarios/beixinjing-estate.yaml"));
  const Scenario nursery =
      load_scenario(test::scenario("scenarios/xinjing-inclusive-nursery.yaml"));
  const auto& base = baseline().investments;
  REQUIRE(base.size() == 16);
  for (const Scenario* sc : {&housing, &nursery}) {
    REQUIRE(sc->investments.size() == base.size() + 1);
    for (std::size_t k = 0; k < base.size(); ++k) CHECK(sc->investments[k].id == base[k].id);
    // Every facility of the baseline has the same capacity in every month.
    for (std::size_t f = 0; f < baseline().facilities.size(); ++f)
      for (int t = 0; t < baseline().n_months(); ++t)
        REQUIRE(sc->facilities.capacity(f, t) == baseline().facilities.capacity(f, t));
  }
  const Scenario low = load_scenario(test::scenario("scenarios/low-fertility.yaml"));
  CHECK(low.investments.size() == base.size());
}

TEST_CASE("scenario inheritance, a copied base item is an error that says what to do",
          "[scenario]") {
  const auto msg = error_of(
      "investments:\n"
      "  - {name: summer class Jiangsulu 2, action: open, id: jiangsulu-summer-2, kind: "
      "summer_class, street: jiangsulu, capacity: 100, start: 2025-06}\n");
  CHECK_THAT(msg, Catch::Contains("what-if.yaml:3:5") &&
                      Catch::Contains("investment 'jiangsulu-summer-2' is already in the list") &&
                      Catch::Contains("baseline.yaml:") &&
                      Catch::Contains("replace: jiangsulu-summer-2"));
}

TEST_CASE("scenario inheritance, remove and replace act on the named item only", "[scenario]") {
  const Scenario cut = what_if("investments:\n  - remove: jiangsulu-summer-2\n");
  CHECK(cut.investments.size() == 15);
  const int f = cut.facilities.index("jiangsulu-summer-2");
  CHECK(f < 0);  // never opened
  const Scenario swapped = what_if(
      "investments:\n"
      "  - replace: xinjing-kg-3-nc-2024\n"
      "    id: xinjing-kg-3-nc-2026\n"
      "    action: add_capacity\n    facility: xinjing-kg-3-nc\n    amount: 5\n"
      "    start: 2026-09\n");
  REQUIRE(swapped.investments.size() == 16);
  const auto g = static_cast<std::size_t>(swapped.facilities.index("xinjing-kg-3-nc"));
  const auto& B = baseline().facilities;
  const int sep24 = month_index(swapped, {2024, 9}), sep26 = month_index(swapped, {2026, 9});
  // The baseline adds 20 from 2024-09; the replacement adds 5 from 2026-09 instead.
  CHECK(swapped.facilities.capacity(g, sep24) == B.capacity(g, sep24) - 20);
  CHECK(swapped.facilities.capacity(g, sep26) == B.capacity(g, sep26) - 15);
  // The item keeps its place in the list.
  CHECK(swapped.investments[11].id == "xinjing-kg-3-nc-2026");
  CHECK_THAT(error_of("investments:\n  - remove: no-such-item\n"),
             Catch::Contains("what-if.yaml:3:13") &&
                 Catch::Contains("no investment with id 'no-such-item' to remove") &&
                 Catch::Contains("jiangsulu-summer-2"));
  CHECK_THAT(error_of("investments:\n  - {remove: jiangsulu-summer-2, amount: 3}\n"),
             Catch::Contains("expected only 'remove: ID'"));
}

TEST_CASE("scenario inheritance, subsidy_start is a located error naming the new keys",
          "[scenario]") {
  const auto msg = error_of("policy:\n  subsidy_start: 2026-01\n");
  CHECK_THAT(msg, Catch::Contains("what-if.yaml:3:18: key 'policy.subsidy_start'") &&
                      Catch::Contains("subsidies:") && Catch::Contains("replace: national"));
}

TEST_CASE("scenario inheritance, subsidies add up by date and the price cap has dates",
          "[scenario]") {
  const Scenario sc = load_scenario(test::scenario("scenarios/subsidy-price-cap-2026.yaml"));
  const ServiceParams p = make_service_params(sc);
  const double national = sc.base.parameters["policy.childcare_subsidy_year"];
  auto at = [&](const std::vector<double>& v, YearMonth m) {
    return v[static_cast<std::size_t>(month_index(sc, m))];
  };
  CHECK(at(p.subsidy_every_child_month, {2024, 12}) == 0.0);
  CHECK(at(p.subsidy_every_child_month, {2025, 1}) == Approx(national / 12));
  CHECK(at(p.subsidy_every_child_month, {2025, 12}) == Approx(national / 12));
  CHECK(at(p.subsidy_every_child_month, {2026, 1}) == Approx((national + 2400) / 12));
  CHECK(at(p.subsidy_enrolled_month, {2030, 1}) == 0.0);
  CHECK(std::isinf(at(p.price_cap_month, {2025, 12})));
  CHECK(at(p.price_cap_month, {2026, 1}) == 1500.0);

  // A year path steps in January of each year given; `end` is exclusive; fee subsidies apart.
  const Scenario path = what_if(
      "policy:\n  subsidies:\n"
      "    - {id: fee, amount_year: {2026: 1200, 2028: 2400}, start: 2026-07, end: 2029-01, "
      "paid_to: enrolled}\n"
      "    - remove: national\n"
      "  inclusive_price_cap: {cap_month: {2027: 1800, 2029: 1600}, start: 2027-03, end: "
      "2030-01}\n");
  const ServiceParams q = make_service_params(path);
  auto at2 = [&](const std::vector<double>& v, YearMonth m) {
    return v[static_cast<std::size_t>(month_index(path, m))];
  };
  CHECK(at2(q.subsidy_every_child_month, {2026, 1}) == 0.0);  // national removed
  CHECK(at2(q.subsidy_enrolled_month, {2026, 6}) == 0.0);
  CHECK(at2(q.subsidy_enrolled_month, {2026, 7}) == Approx(100.0));
  CHECK(at2(q.subsidy_enrolled_month, {2028, 12}) == Approx(200.0));
  CHECK(at2(q.subsidy_enrolled_month, {2029, 1}) == 0.0);
  CHECK(std::isinf(at2(q.price_cap_month, {2027, 2})));
  CHECK(at2(q.price_cap_month, {2027, 3}) == 1800.0);
  CHECK(at2(q.price_cap_month, {2029, 12}) == 1600.0);
  CHECK(std::isinf(at2(q.price_cap_month, {2030, 1})));
}

TEST_CASE("scenario inheritance, validate's changes list additions and warn on removals",
          "[scenario]") {
  const auto cut = scenario_changes(test::scenario("scenarios/do-nothing-after-2024.yaml"));
  CHECK(cut.base == "baseline.yaml");
  CHECK(cut.lines.size() == 4);
  REQUIRE(cut.warnings.size() == 4);
  CHECK_THAT(cut.warnings[0], Catch::Contains("removes the base scenario's investment "
                                              "'jiangsulu-summer-2'") &&
                                  Catch::Contains("baseline.yaml:"));
  const auto add = scenario_changes(test::scenario("scenarios/subsidy-price-cap-2026.yaml"));
  CHECK(add.warnings.empty());
  CHECK_THAT(add.lines.at(0), Catch::Contains("added subsidy 'changning-top-up'"));
  const auto low = scenario_changes(test::scenario("scenarios/low-fertility.yaml"));
  REQUIRE(low.lines.size() == 1);
  CHECK_THAT(low.lines[0], Catch::Contains("overridden demography.fertility: medium -> low"));
  CHECK(scenario_changes(test::scenario("scenarios/baseline.yaml")).base.empty());
}

TEST_CASE("scenario inheritance, the cost of a subsidy and a price cap is recorded exactly",
          "[scenario]") {
  // Demography does not depend on services, so both runs have the same children under 3 each
  // month: an every-child subsidy's cost scales exactly with its amount. The price cap's cost
  // is the list price above the cap for every enrolled child-month.
  const std::string run = "start: 2025-07\nend: 2026-06\npopulation_scale: 0.05\nreplicates: 1\n";
  const Scenario base = what_if(run);
  const Scenario more = what_if(run +
                                "policy:\n  subsidies:\n    - {id: top-up, amount_year: 2400, "
                                "start: 2025-07}\n  inclusive_price_cap: 1500\n");
  const auto a = run_scenario(base), b = run_scenario(more);
  const auto& sa = test::reals(a, "policy_subsidy_cost");
  const auto& sb = test::reals(b, "policy_subsidy_cost");
  REQUIRE(sa.size() == 2);  // 2025, 2026
  const double national = base.base.parameters["policy.childcare_subsidy_year"];
  for (std::size_t y = 0; y < 2; ++y) {
    CHECK(sa[y] > 0);
    CHECK(sb[y] == Approx(sa[y] * (national + 2400) / national).epsilon(1e-12));
  }
  CHECK(test::reals(a, "policy_price_cap_cost")[0] == 0.0);

  const auto& enrolled = test::ints(b, "nursery_enrolled");
  const auto& F = more.facilities;
  const std::size_t nf = F.size();
  double cap_cost = 0, fees = 0;
  for (int t = 0; t < more.n_months(); ++t)
    for (std::size_t f = 0; f < nf; ++f) {
      const double n = enrolled[static_cast<std::size_t>(t) * nf + f];
      const double price = F.inclusive[f] ? std::min(F.price[f], 1500.0) : F.price[f];
      cap_cost += n * (F.price[f] - price);
      fees += n * price;
    }
  const auto& cb = test::reals(b, "policy_price_cap_cost");
  const auto& fb = test::reals(b, "family_nursery_fees");
  CHECK(cb[0] + cb[1] == Approx(cap_cost));
  CHECK(cap_cost > 0);
  CHECK(fb[0] + fb[1] == Approx(fees));
}

TEST_CASE("scenario inheritance, streets by id, Chinese or English name; facility typos suggested",
          "[scenario]") {
  const Scenario sc = what_if(
      "demography:\n  new_housing:\n"
      "    - {name: a, street: 新泾镇, start: 2027-01, households: 10}\n"
      "    - {name: b, street: 新泾, start: 2027-01, households: 10}\n"
      "    - {name: c, street: xinjing town, start: 2027-01, households: 10}\n"
      "    - {name: d, street: xinjing, start: 2027-01, households: 10}\n");
  REQUIRE(sc.housing.size() == 4);
  for (const auto& h : sc.housing) CHECK(h.street == sc.base.street_index("xinjing"));
  CHECK_THAT(error_of("demography:\n  new_housing:\n    - {street: 新泾路, start: 2027-01, "
                      "households: 10}\n"),
             Catch::Contains("unknown street '新泾路'") && Catch::Contains("xinjing (新泾镇"));
  CHECK_THAT(
      error_of("investments:\n  - {action: add_capacity, facility: xinjing-kg-3-n, amount: "
               "5, start: 2026-01}\n"),
      Catch::Contains("what-if.yaml:3:38") && Catch::Contains("did you mean 'xinjing-kg-3-nc'?"));
}
