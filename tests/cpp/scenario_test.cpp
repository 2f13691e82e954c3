// scenario_test: each class of bad scenario gives a message naming file, line, column and key.
#include "sim/scenario/scenario.hpp"   // load_scenario
#include "sim/config/config_tree.hpp"  // ConfigError
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>  // std::ofstream

using namespace childsim;

namespace {

// Write `text` as scenario file `name` in a fresh directory that can see the base data, and
// return the error message from loading it ("" if it loaded).
std::string error_of(const std::string& text, const std::string& name = "bad.yaml") {
  static const auto dir = test::fresh_dir("scenario");
  std::ofstream(dir / name) << text;
  try {
    load_scenario(dir / name);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string base_dir() {
  return (test::source_dir() / "scenarios/changning").string();
}

}  // namespace

TEST_CASE("scenario, the baseline and every ready-made scenario validate", "[scenario]") {
  for (const char* f : {"scenarios/baseline.yaml", "scenarios/low-fertility.yaml",
                        "scenarios/xinjing-housing.yaml"}) {
    INFO(f);
    const Scenario sc = load_scenario(test::scenario(f));
    CHECK(sc.n_months() == 144);
    CHECK(sc.base.n_streets() == 10);
  }
}

TEST_CASE("scenario, extends keeps the base and applies the differences", "[scenario]") {
  const Scenario base = load_scenario(test::scenario("scenarios/baseline.yaml"));
  const Scenario low = load_scenario(test::scenario("scenarios/low-fertility.yaml"));
  CHECK(low.seed == base.seed);
  CHECK(low.replicates == base.replicates);
  CHECK(low.fertility_variant == "low");
  CHECK(low.tfr.at(2030) < base.tfr.at(2030));
}

TEST_CASE("scenario, an unknown key is named with its line and a suggestion", "[scenario]") {
  const auto msg = error_of("base_data: " + base_dir() + "\nreplicats: 4\n");
  CHECK_THAT(msg, Catch::Contains("bad.yaml:2:1: key 'replicats': unknown key") &&
                      Catch::Contains("did you mean 'replicates'"));
}

TEST_CASE("scenario, a wrong type says what was expected", "[scenario]") {
  const auto msg = error_of("base_data: " + base_dir() + "\nseed: twelve\n");
  CHECK_THAT(msg, Catch::Contains("bad.yaml:2:7: key 'seed': expected an integer, got 'twelve'"));
}

TEST_CASE("scenario, an out-of-range value gives the allowed range", "[scenario]") {
  const auto msg = error_of("base_data: " + base_dir() + "\nreplicates: 0\n");
  CHECK_THAT(msg, Catch::Contains(
                      "bad.yaml:2:13: key 'replicates': expected a value in [1, 10000], got 0"));
  const auto p =
      error_of("base_data: " + base_dir() + "\nparameters:\n  migration.out_rate: 0.9\n");
  CHECK_THAT(p, Catch::Contains("bad.yaml:3:23: key 'parameters.migration.out_rate'") &&
                    Catch::Contains("expected a value in"));
}

TEST_CASE("scenario, an unknown street lists the streets", "[scenario]") {
  const auto msg = error_of("base_data: " + base_dir() +
                            "\ndemography:\n  new_housing:\n    - street: xinjingzhen\n"
                            "      start: 2027-01\n      households: 10\n");
  CHECK_THAT(msg, Catch::Contains("bad.yaml:4:15: key 'demography.new_housing[0].street': unknown "
                                  "street 'xinjingzhen'") &&
                      Catch::Contains("xinjing"));
}

TEST_CASE("scenario, a missing file or base data directory is named", "[scenario]") {
  CHECK_THAT(error_of("extends: nowhere.yaml\n"),
             Catch::Contains("bad.yaml:1:10: key 'extends': cannot read 'nowhere.yaml'"));
  CHECK_THAT(error_of("base_data: /no/such/place\n"),
             Catch::Contains("bad.yaml:1:12: key 'base_data': base data directory '/no/such/place' "
                             "does not exist"));
  CHECK_THROWS_WITH(load_scenario("/no/such/scenario.yaml"),
                    Catch::Contains("cannot read scenario file '/no/such/scenario.yaml'"));
}

TEST_CASE("scenario, circular extends lists the chain", "[scenario]") {
  error_of("extends: b.yaml\n", "a.yaml");
  const auto msg = error_of("extends: a.yaml\n", "b.yaml");
  CHECK_THAT(msg, Catch::Contains("circular 'extends'") && Catch::Contains("a.yaml") &&
                      Catch::Contains("b.yaml"));
}

TEST_CASE("scenario, a bad month and an unknown fertility path are explained", "[scenario]") {
  CHECK_THAT(error_of("base_data: " + base_dir() + "\nstart: 2024-13\n"),
             Catch::Contains("key 'start': expected a month as YYYY-MM, got '2024-13'"));
  CHECK_THAT(error_of("base_data: " + base_dir() + "\ndemography:\n  fertility: lowest\n"),
             Catch::Contains("bad.yaml:3:14: key 'demography.fertility': unknown fertility path "
                             "'lowest'"));
}
