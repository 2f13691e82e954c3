// warm_start_test: the services' spin-up — no start-up trend in a stationary what-if (a slope
// test whose tolerance is the replicate noise), a cold start's ramp as the positive control,
// the spin-up's facts (ages, capacity, population untouched), identical results at 1 and 3
// threads.
#include "sim/services/warm_start.hpp"    // make_warm_start, warm_start_services
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model
#include "sim/run/ensemble.hpp"           // run_scenario
#include "sim/services/services.hpp"      // step_kindergarten, step_nursery
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>   // std::sqrt, std::abs, std::lround
#include <vector>  // std::vector

using namespace childsim;

namespace {

// The small test scenario (a fifth of the district) with every facility's capacity held at
// its January-2024 value (no investments), a stationary what-if as far as the services are
// concerned. Nursery and kindergarten capacities are scaled like the population, so that
// places are as scarce as in the full district and waiting lists form.
Scenario stationary(int months, int replicates, int spin_up) {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = replicates;
  sc.end = sc.start.plus(months - 1);
  Facilities& F = sc.facilities;
  for (std::size_t f = 0; f < F.size(); ++f) {
    const bool scaled =
        F.service_of(f) == Service::nursery || F.service_of(f) == Service::kindergarten;
    const auto jan = static_cast<std::int32_t>(
        std::lround(F.capacity(f, 0) * (scaled ? sc.population_scale : 1.0)));
    for (int t = 0; t < F.n_months; ++t) F.capacity_schedule[F.at(f, t)] = jan;
  }
  sc.base.parameters.set("services.spin_up_months", spin_up, config::ConfigNode{});
  return sc;
}

// Per replicate: the least-squares slope over months 0..n−1 of a facility-summed output.
std::vector<double> slopes(const io::Dataset& ds, const std::string& name, int R, int T, int NF,
                           int n) {
  const auto& v = test::ints(ds, name);
  std::vector<double> out;
  const double tbar = (n - 1) / 2.0;
  for (int r = 0; r < R; ++r) {
    std::vector<double> y(static_cast<std::size_t>(n), 0.0);
    for (int t = 0; t < n; ++t)
      for (int f = 0; f < NF; ++f) y[static_cast<std::size_t>(t)] += v[(r * T + t) * NF + f];
    double ybar = 0;
    for (double x : y) ybar += x / n;
    double sxy = 0, sxx = 0;
    for (int t = 0; t < n; ++t) {
      sxy += (t - tbar) * (y[static_cast<std::size_t>(t)] - ybar);
      sxx += (t - tbar) * (t - tbar);
    }
    out.push_back(sxy / sxx);
  }
  return out;
}

struct MeanSe {
  double mean = 0, se = 0;
};
MeanSe mean_se(const std::vector<double>& x) {
  MeanSe m;
  for (double v : x) m.mean += v / static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - m.mean) * (v - m.mean);
  m.se = std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));
  return m;
}

}  // namespace

TEST_CASE("warm_start, no start-up trend in the first 12 months of a stationary what-if",
          "[warm_start]") {
  const int R = 12, T = 12;
  const Scenario warm = stationary(T, R, 36), cold = stationary(T, R, 0);
  const auto dw = run_scenario(warm), dc = run_scenario(cold);
  const int NF = static_cast<int>(warm.facilities.size());
  // Waiting lists: the cold start's ramp is the positive control, far outside the noise.
  const MeanSe cold_wait = mean_se(slopes(dc, "nursery_waiting", R, T, NF, T));
  const MeanSe warm_wait = mean_se(slopes(dw, "nursery_waiting", R, T, NF, T));
  INFO("waiting-list slope, children a month: cold " << cold_wait.mean << " ± " << cold_wait.se
                                                     << ", warm " << warm_wait.mean << " ± "
                                                     << warm_wait.se);
  CHECK(cold_wait.mean > 3 * cold_wait.se);
  // No trend: the mean slope within 3 standard errors of zero (the replicate noise), and
  // small beside the cold start's ramp.
  CHECK(std::abs(warm_wait.mean) <= 3 * warm_wait.se);
  CHECK(std::abs(warm_wait.mean) < 0.25 * cold_wait.mean);
  // Enrolment likewise.
  const MeanSe warm_enr = mean_se(slopes(dw, "nursery_enrolled", R, T, NF, T));
  INFO("enrolment slope, warm " << warm_enr.mean << " ± " << warm_enr.se);
  CHECK(std::abs(warm_enr.mean) <= 3 * warm_enr.se);
  // Waiting lists are in place from the first month.
  const auto& wait = test::ints(dw, "nursery_waiting");
  for (int r = 0; r < R; ++r) {
    int first = 0;
    for (int f = 0; f < NF; ++f) first += wait[(r * T + 0) * NF + f];
    CHECK(first > 0);
  }
}

TEST_CASE(
    "warm_start, the spin-up places children within capacity and leaves the people as "
    "they were",
    "[warm_start]") {
  const Scenario sc = stationary(12, 1, 36);
  const Model m(sc);
  REQUIRE(m.warm != nullptr);
  CHECK(m.warm->months == 36);
  CHECK(m.warm->scenario.start == sc.start.plus(-36));
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  const State before = st;
  warm_start_services(*m.warm, st);
  const Children &a = before.children, &b = st.children;
  REQUIRE(a.size() == b.size());
  CHECK(st.month == 0);
  std::vector<int> enrolled(sc.facilities.size(), 0), kg(sc.facilities.size(), 0);
  int waiting = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    CHECK(a.birth_month[i] == b.birth_month[i]);  // ages restored exactly
    CHECK(a.present[i] == b.present[i]);
    if (b.nursery[i] >= 0) {
      enrolled[static_cast<std::size_t>(b.nursery[i])] += 1;
      CHECK(b.nursery_since[i] < 0);  // taken in the months before the start
      CHECK(b.nursery_since[i] >= -36);
      CHECK(b.nursery_since[i] >= b.birth_month[i]);
    }
    if (b.waiting[i] >= 0) {
      waiting += 1;
      CHECK(b.waiting_since[i] < 0);
      CHECK(b.nursery[i] < 0);
    }
    if (b.kindergarten[i] >= 0) kg[static_cast<std::size_t>(b.kindergarten[i])] += 1;
  }
  CHECK(waiting > 0);
  for (std::size_t f = 0; f < sc.facilities.size(); ++f) {
    CHECK(enrolled[f] <= sc.facilities.capacity(f, 0));
    CHECK(kg[f] <= sc.facilities.capacity(f, 0));
  }
  // A cold start has no spin-up.
  const Scenario cold = stationary(12, 1, 0);
  CHECK(make_warm_start(cold) == nullptr);
}

TEST_CASE("warm_start, identical results at 1 and 3 threads", "[warm_start][threads]") {
  const Scenario sc = stationary(6, 2, 36);
  RunOptions one, three;
  one.threads = 1;
  three.threads = 3;
  const auto a = run_scenario(sc, one), b = run_scenario(sc, three);
  for (const auto& v : a.variables) {
    INFO(v.name);
    const io::Variable* w = b.find_variable(v.name);
    REQUIRE(w != nullptr);
    CHECK(test::identical(v.data, w->data));
  }
}

TEST_CASE(
    "warm_start, the spin-up gives every child the places of a spin-up that steps every child "
    "and records everything",
    "[warm_start]") {
  // The reference: the spin-up as first written — every child's months shifted, the two
  // steps run on the whole state with every pass (recording included), each step packing the
  // households itself — against warm_start_services, which runs on the children of the ages
  // that matter only, skips the recording passes and packs the households once.
  const Scenario sc = stationary(12, 1, 36);
  const Model m(sc);
  REQUIRE(m.warm != nullptr);
  for (const int replicate : {0, 3}) {
    State fast = build_initial_state(sc, m.rates, m.counts, replicate);
    State ref = fast;
    warm_start_services(*m.warm, fast);
    const int n = m.warm->months;
    Children& c = ref.children;
    for (std::size_t i = 0; i < c.size(); ++i) {
      c.birth_month[i] += n;
      c.nursery_since[i] += n;
      c.waiting_since[i] += n;
      c.kindergarten_since[i] += n;
    }
    io::Recorder scratch(m.warm->scenario, 1, replicate);
    ServiceContext cx{m.warm->scenario, m.warm->params};
    cx.rng_month_shift = -n;
    for (int t = 0; t < n; ++t) {
      ref.month = t;
      step_kindergarten(cx, ref, scratch);
      step_nursery(cx, ref, scratch);
    }
    for (std::size_t i = 0; i < c.size(); ++i) {
      c.birth_month[i] -= n;
      c.nursery_since[i] -= n;
      c.waiting_since[i] -= n;
      c.kindergarten_since[i] -= n;
    }
    const Children& a = fast.children;
    REQUIRE(a.size() == c.size());
    int placed = 0, waiting = 0, kg = 0, older = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      INFO("replicate " << replicate << ", child " << i);
      CHECK(a.nursery[i] == c.nursery[i]);
      CHECK(a.waiting[i] == c.waiting[i]);
      CHECK(a.kindergarten[i] == c.kindergarten[i]);
      if (c.nursery[i] >= 0) CHECK(a.nursery_since[i] == c.nursery_since[i]);
      if (c.waiting[i] >= 0) CHECK(a.waiting_since[i] == c.waiting_since[i]);
      if (c.kindergarten[i] >= 0) CHECK(a.kindergarten_since[i] == c.kindergarten_since[i]);
      placed += c.nursery[i] >= 0;
      waiting += c.waiting[i] >= 0;
      kg += c.kindergarten[i] >= 0;
      older += -c.birth_month[i] >= 96 + n;  // left out of the fast spin-up
    }
    // The comparison means something: places, lists and children left out all exist.
    CHECK(placed > 0);
    CHECK(waiting > 0);
    CHECK(kg > 0);
    CHECK(older > 0);
  }
}
