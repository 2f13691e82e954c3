// migration_schedule_test: analytic properties of the Rogers–Castro labour-force component and
// of the schedules the model builds from it.
#include "sim/demography/migration_schedule.hpp"  // LabourPeak
#include "sim/model/rates.hpp"                    // out_probability, in_age_weight, make_rates
#include "sim/scenario/scenario.hpp"              // load_scenario
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>  // std::exp, std::log, std::tgamma

using namespace childsim;

TEST_CASE("migration schedule, the labour-force peak is at its stated mode", "[migration]") {
  for (const LabourPeak p :
       {LabourPeak{28.0, 0.4, 0.1}, LabourPeak{23.5, 0.5, 0.12}, LabourPeak{31.0, 0.25, 0.15}}) {
    INFO("mode " << p.mode << " rise " << p.rise << " fall " << p.fall);
    // The derivative of ln L, −α + λ exp(−λ (x − μ)), vanishes at x = μ + ln(λ/α)/λ.
    CHECK(p.location() == Approx(p.mode - std::log(p.rise / p.fall) / p.rise));
    CHECK(p.relative(p.mode) == Approx(1.0));
    for (double dx : {0.05, 0.5, 3.0, 10.0}) {
      CHECK(p.relative(p.mode - dx) < 1.0);
      CHECK(p.relative(p.mode + dx) < 1.0);
    }
    // Rising faster than falling: one year before the peak is lower than one year after.
    if (p.rise > p.fall) CHECK(p.relative(p.mode - 1) < p.relative(p.mode + 1));
  }
}

TEST_CASE("migration schedule, the integral is Gamma(alpha/lambda)/lambda", "[migration]") {
  for (const LabourPeak p : {LabourPeak{28.0, 0.4, 0.1}, LabourPeak{23.5, 0.5, 0.12}}) {
    // Trapezoid rule over a range wide enough for the tails (the left tail falls as a double
    // exponential, the right one as exp(−α x)).
    double sum = 0;
    const double h = 0.01;
    for (double x = p.mode - 60; x < p.mode + 400; x += h) sum += h * 0.5 * (p(x) + p(x + h));
    CHECK(sum == Approx(std::tgamma(p.fall / p.rise) / p.rise).epsilon(1e-6));
    CHECK(p.integral() == Approx(sum).epsilon(1e-6));
  }
}

TEST_CASE("migration schedule, children's leaving falls with their age at the parents' rate",
          "[migration]") {
  // Children move with their mothers, so a child's leaving probability at age x whose mother
  // was b at the birth is q(b + x). Past the peak the labour-force part decays as exp(−α x):
  // the Rogers–Castro childhood component with α1 = α2.
  const Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  const auto& P = sc.base.parameters;
  const double c = P["migration.out_base"], alpha = P["migration.out_fall"];
  const double b = 32.0;  // about the mean age at birth (fertility.yaml)
  for (double x : {6.0, 9.0, 12.0}) {
    const double ratio = (out_probability(P, b + x + 1) - c) / (out_probability(P, b + x) - c);
    // exp(−α − λ... ) → exp(−α) as the double exponential's inner term dies out.
    CHECK(ratio == Approx(std::exp(-alpha)).epsilon(0.01));
  }
  CHECK(out_probability(P, P["migration.out_peak_age"]) == Approx(P["migration.out_rate"]));
  CHECK(in_age_weight(P, P["migration.in_peak_age"]) == Approx(1.0));
}

TEST_CASE("migration schedule, the monthly rates are the documented schedules", "[migration]") {
  const Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  const auto& P = sc.base.parameters;
  const Rates r = make_rates(sc, initial_counts(sc));
  for (int a : {0, 18, 25, 28, 35, 49, 70, 99, 120}) {
    const int ac = a > 99 ? 99 : a;
    CHECK(1 - std::pow(1 - r.out_hazard(a), 12) == Approx(out_probability(P, ac + 0.5)));
  }
  // Arriving women's ages: the cdf steps are the schedule's relative weights.
  double total = 0;
  for (int a = 18; a < 50; ++a) total += in_age_weight(P, a + 0.5);
  for (int a = 18; a < 50; ++a) {
    const double step = r.in_age_cdf[a - 18] - (a == 18 ? 0.0 : r.in_age_cdf[a - 19]);
    CHECK(step == Approx(in_age_weight(P, a + 0.5) / total));
  }
}
