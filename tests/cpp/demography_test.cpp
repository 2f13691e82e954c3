// demography_test: the simulated population against an independent cohort-component
// projection, conservation of children, and reproducibility across threads and seeds.
#include "sim/model/rates.hpp"        // initial_counts (the starting counts are inputs)
#include "sim/run/ensemble.hpp"       // run_scenario
#include "sim/scenario/scenario.hpp"  // load_scenario
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>  // std::equal
#include <cmath>      // std::pow, std::sqrt
#include <cstdio>     // std::printf
#include <cstdlib>    // std::getenv
#include <cstring>    // std::memcmp
#include <numeric>    // std::accumulate

using namespace childsim;

namespace {

// A deterministic cohort-component projection by street and month of age, written from the
// model description (docs/model.md) and the base data alone: it shares no code with the
// simulation except the file readers and the starting counts. Expected values propagate
// exactly because every event probability depends only on age, street and month.
struct Projection {
  int ns = 0;
  std::vector<std::vector<double>> child;             // [street][age in months 0..215]
  std::vector<std::vector<double>> women;             // [street][age in months 216..599]
  std::vector<std::vector<double>> births_by_month;   // [month][street]
  std::vector<std::vector<std::vector<double>>> pop;  // [month][street][age 0..17]
};

double hazard(double q) {
  return 1.0 - std::pow(1.0 - q, 1.0 / 12.0);
}

Projection project(const Scenario& sc) {
  const BaseData& b = sc.base;
  const auto& P = b.parameters;
  const InitialCounts c = initial_counts(sc);
  Projection pr;
  const int ns = pr.ns = b.n_streets();
  pr.child.assign(ns, std::vector<double>(216, 0.0));
  pr.women.assign(ns, std::vector<double>(384, 0.0));
  for (int s = 0; s < ns; ++s) {
    for (int a = 0; a < 18; ++a)
      for (int v = 0; v < 12; ++v) pr.child[s][12 * a + v] = c.children[s][a] / 12.0;
    for (int a = 0; a < 32; ++a)
      for (int v = 0; v < 12; ++v) pr.women[s][12 * a + v] = c.women[s][a] / 12.0;
  }
  const double srb = P["fertility.sex_ratio_at_birth"], p_girl = 1.0 / (1.0 + srb);
  const double h_out = hazard(P["migration.out_rate"]), h_b = hazard(P["migration.between_rate"]);
  const double h_w = hazard(P["mortality.women_annual"]);
  // Between-street destinations.
  std::vector<std::vector<double>> D(ns, std::vector<double>(ns, 0.0));
  for (int s = 0; s < ns; ++s) {
    std::vector<int> nb;
    for (auto [x, y] : b.neighbours) {
      if (x == s) nb.push_back(y);
      if (y == s) nb.push_back(x);
    }
    double other = 0;
    for (int d = 0; d < ns; ++d) other += d == s ? 0 : b.streets[d].population_2020;
    const double share = nb.empty() ? 0 : P["migration.neighbour_share"];
    for (int d = 0; d < ns; ++d)
      if (d != s) D[s][d] = (1 - share) * b.streets[d].population_2020 / other;
    for (int d : nb) D[s][d] += share / nb.size();
  }
  // Arriving family template: expected women by month of age, children by month of age.
  std::vector<double> arr_women(384, 0.0), arr_child(216, 0.0);
  double mean_k = 0;
  for (std::size_t k = 0; k < b.in_children_count_probabilities.size(); ++k)
    mean_k += k * b.in_children_count_probabilities[k];
  for (std::size_t i = 0; i < b.in_mother_age_weights.size(); ++i) {
    const int m = b.in_mother_age_from + static_cast<int>(i);
    const double pm = b.in_mother_age_weights[i];
    for (int v = 0; v < 12; ++v) arr_women[12 * (m - 18) + v] += pm / 12.0;
    const int amax = std::min(17, std::max(0, m - 20));
    for (int a = 0; a <= amax; ++a)
      for (int v = 0; v < 12; ++v) arr_child[12 * a + v] += pm * mean_k / (amax + 1) / 12.0;
  }
  std::vector<double> inflow(ns);
  for (int s = 0; s < ns; ++s)
    inflow[s] = P["migration.inflow_ratio"] * h_out *
                std::accumulate(c.women[s].begin(), c.women[s].end(), 0.0);

  for (int t = 0; t < sc.n_months(); ++t) {
    if (t > 0) {  // everyone is a month older
      for (int s = 0; s < ns; ++s) {
        const double aged = pr.child[s][215];
        for (int m = 215; m > 0; --m) pr.child[s][m] = pr.child[s][m - 1];
        pr.child[s][0] = 0;
        for (int m = 383; m > 0; --m) pr.women[s][m] = pr.women[s][m - 1];
        pr.women[s][0] = p_girl * aged;
      }
    }
    const int year = sc.start.plus(t).year;
    const double tfr = sc.tfr.at(year) * P["fertility.tfr_multiplier"];
    std::vector<double> births(ns, 0.0);
    for (int s = 0; s < ns; ++s) {
      for (int m = 0; m < 384; ++m) births[s] += pr.women[s][m] * tfr * b.asfr_shape[m / 12] / 12;
      pr.child[s][0] += births[s];
      for (int m = 0; m < 216; ++m) pr.child[s][m] *= 1 - hazard(b.child_death_probability[m / 12]);
      for (double& w : pr.women[s]) w *= 1 - h_w;
      for (double& x : pr.child[s]) x *= 1 - h_out;
      for (double& w : pr.women[s]) w *= 1 - h_out;
    }
    auto between = [&](std::vector<std::vector<double>>& X) {
      auto Y = X;
      for (int s = 0; s < ns; ++s)
        for (std::size_t m = 0; m < X[s].size(); ++m) {
          Y[s][m] -= h_b * X[s][m];
          for (int d = 0; d < ns; ++d) Y[d][m] += h_b * X[s][m] * D[s][d];
        }
      X = Y;
    };
    between(pr.child);
    between(pr.women);
    for (int s = 0; s < ns; ++s) {
      double n = inflow[s];
      for (const auto& h : sc.housing) {
        const int k = months_between(h.start, sc.start.plus(t));
        if (h.street == s && k >= 0 && k < h.months)
          n += std::lround((h.households / h.months + (k < h.households % h.months)) *
                           sc.population_scale);
      }
      for (int m = 0; m < 216; ++m) pr.child[s][m] += n * arr_child[m];
      for (int m = 0; m < 384; ++m) pr.women[s][m] += n * arr_women[m];
    }
    pr.births_by_month.push_back(births);
    std::vector<std::vector<double>> pop(ns, std::vector<double>(18, 0.0));
    for (int s = 0; s < ns; ++s)
      for (int m = 0; m < 216; ++m) pop[s][m / 12] += pr.child[s][m];
    pr.pop.push_back(pop);
  }
  return pr;
}

struct Moments {
  double mean = 0, se = 0;
};

template <class F>
Moments moments(int R, F value) {
  double s = 0, s2 = 0;
  for (int r = 0; r < R; ++r) {
    const double x = value(r);
    s += x;
    s2 += x * x;
  }
  const double mean = s / R, var = (s2 - R * mean * mean) / (R - 1);
  return {mean, std::sqrt(std::max(var, 0.0) / R)};
}

}  // namespace

TEST_CASE("demography, ensemble mean matches an independent cohort-component projection",
          "[demography][statistical]") {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 24;
  sc.services = false;  // the projection is about demography; services do not feed back
  const auto ds = run_scenario(sc);
  const Projection pr = project(sc);
  const auto& pop = test::ints(ds, "population");
  const auto& births = test::ints(ds, "births");
  const int R = sc.replicates, T = sc.n_months(), S = sc.base.n_streets(), A = 18;
  auto at = [&](int r, int t, int s, int a) { return pop[((r * T + t) * S + s) * A + a]; };

  int checks = 0, outside = 0;
  double worst = 0;
  auto check = [&](double expected, Moments m, const std::string& what) {
    // The Monte Carlo standard error, floored at 0.5 children for cells that are almost
    // deterministic (e.g. 17-year-olds in the first year).
    const double z = (m.mean - expected) / std::max(m.se, 0.5);
    ++checks;
    worst = std::max(worst, std::abs(z));
    if (std::getenv("CHILDSIM_VERBOSE"))
      std::printf("%s z=%.2f sim=%.1f proj=%.1f\n", what.c_str(), z, m.mean, expected);
    if (std::abs(z) > 3) {
      ++outside;
      UNSCOPED_INFO(what << ": simulated " << m.mean << " ± " << m.se << ", projected " << expected
                         << " (z = " << z << ")");
    }
  };
  for (int t : {11, 47, 95, T - 1}) {
    for (int a = 0; a < A; ++a) {
      double expected = 0;
      for (int s = 0; s < S; ++s) expected += pr.pop[t][s][a];
      check(expected,
            moments(R,
                    [&](int r) {
                      double x = 0;
                      for (int s = 0; s < S; ++s) x += at(r, t, s, a);
                      return x;
                    }),
            "month " + std::to_string(t) + " age " + std::to_string(a));
    }
    for (int s = 0; s < S; ++s) {
      double expected = 0;
      for (int a = 0; a < A; ++a) expected += pr.pop[t][s][a];
      check(expected,
            moments(R,
                    [&](int r) {
                      double x = 0;
                      for (int a = 0; a < A; ++a) x += at(r, t, s, a);
                      return x;
                    }),
            "month " + std::to_string(t) + " street " + std::to_string(s));
    }
  }
  for (int y = 0; y < T / 12; ++y) {
    double expected = 0;
    for (int t = 12 * y; t < 12 * y + 12; ++t)
      for (int s = 0; s < S; ++s) expected += pr.births_by_month[t][s];
    check(expected,
          moments(R,
                  [&](int r) {
                    double x = 0;
                    for (int t = 12 * y; t < 12 * y + 12; ++t)
                      for (int s = 0; s < S; ++s) x += births[(r * T + t) * S + s];
                    return x;
                  }),
          "births in year " + std::to_string(y));
  }
  // With ~100 comparisons at 3 standard errors, about 0.3 fall outside by chance.
  INFO(checks << " comparisons, worst |z| = " << worst);
  // When the model is right, P(3 or more of ~124 outside 3 SE) is about 0.5 %; a biased
  // rate puts many cells outside.
  CHECK(outside <= 2);
  CHECK(worst < 4.5);
}

TEST_CASE("demography, every child is born, present, moved, aged out or dead", "[demography]") {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 2;
  const auto ds = run_scenario(sc);
  const auto& pop = test::ints(ds, "population");
  const auto& start = test::ints(ds, "population_start");
  const auto& B = test::ints(ds, "births");
  const auto& D = test::ints(ds, "deaths");
  const auto& I = test::ints(ds, "moves_in");
  const auto& O = test::ints(ds, "moves_out");
  const auto& G = test::ints(ds, "aged_out");
  const int R = sc.replicates, T = sc.n_months(), S = sc.base.n_streets(), A = 18;
  long total_births = 0, total_in = 0;
  int violations = 0;
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) {
      long prev = 0;
      for (int a = 0; a < A; ++a) prev += start[(r * S + s) * A + a];
      for (int t = 0; t < T; ++t) {
        long now = 0;
        for (int a = 0; a < A; ++a) now += pop[((r * T + t) * S + s) * A + a];
        const int k = (r * T + t) * S + s;
        if (now != prev + B[k] + I[k] - D[k] - O[k] - G[k]) ++violations;
        total_births += B[k];
        total_in += I[k];
        prev = now;
      }
    }
  CHECK(violations == 0);
  CHECK(total_births > 0);  // the identity is not satisfied vacuously
  CHECK(total_in > 0);
}

TEST_CASE("demography, outputs are identical for 1, 2, 3 and 4 threads", "[demography][threads]") {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 2;
  sc.end = sc.start.plus(35);
  RunOptions one;
  one.threads = 1;
  const auto reference = run_scenario(sc, one);
  for (int threads : {2, 3, 4}) {
    RunOptions opt;
    opt.threads = threads;
    const auto ds = run_scenario(sc, opt);
    for (const auto& v : reference.variables) {
      INFO("variable " << v.name << " with " << threads << " threads");
      CHECK(test::identical(ds.find_variable(v.name)->data, v.data));  // NaNs too
    }
  }
}

TEST_CASE("demography, different seeds give different populations", "[demography]") {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(11);
  const auto a = run_scenario(sc);
  sc.seed += 1;
  const auto b = run_scenario(sc);
  CHECK(test::ints(a, "births") != test::ints(b, "births"));
  CHECK(test::ints(a, "population") != test::ints(b, "population"));
}

TEST_CASE("demography, new housing adds families only from its start month", "[demography]") {
  Scenario with = load_scenario(test::scenario("tests/data/small.yaml"));
  with.replicates = 1;
  Scenario without = with;
  without.housing.clear();
  const auto a = run_scenario(with), b = run_scenario(without);
  const int T = with.n_months(), S = with.base.n_streets();
  const int first = months_between(with.start, with.housing.at(0).start);
  const int street = with.housing.at(0).street;
  const auto& in_a = test::ints(a, "moves_in");
  const auto& in_b = test::ints(b, "moves_in");
  // Common random numbers: identical until the first housing month, different from then on.
  for (int t = 0; t < first; ++t)
    for (int s = 0; s < S; ++s) REQUIRE(in_a[t * S + s] == in_b[t * S + s]);
  long extra = 0;
  for (int t = first; t < T; ++t) extra += in_a[t * S + street] - in_b[t * S + street];
  CHECK(extra > 0);
}

TEST_CASE("demography, services do not change the demographic outputs", "[demography]") {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(23);
  const auto with = run_scenario(sc);
  sc.services = false;
  const auto without = run_scenario(sc);
  for (const char* v : {"population", "births", "deaths", "moves_in", "moves_out", "aged_out",
                        "women", "residents"}) {
    INFO(v);
    CHECK(test::ints(with, v) == test::ints(without, v));
  }
  std::int64_t places = 0;
  for (auto x : test::ints(with, "nursery_enrolled")) places += x;
  CHECK(places > 0);  // the services did run in the first case
  for (auto x : test::ints(without, "nursery_enrolled")) REQUIRE(x == 0);
}

TEST_CASE("demography, a replicate run alone equals its slice of the whole ensemble",
          "[demography][mpi]") {
  // What lets MPI ranks take whole replicates: no replicate reads what another one recorded.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 3;
  sc.end = sc.start.plus(23);
  io::Recorder all(sc, sc.replicates), alone(sc, sc.replicates);
  run_replicates(sc, {}, 0, 1, all);
  run_replicates(sc, {}, 1, 2, alone);  // replicate 1 only, as rank 1 of 2 would
  int compared = 0;
  for (const auto& o : io::output_catalog()) {
    if (o.dims.empty() || o.dims[0] != "replicate") continue;
    std::size_t per_rep = 1;
    for (std::size_t d = 1; d < o.dims.size(); ++d) per_rep *= all.dim_size(o.dims[d]);
    INFO(o.name);
    if (o.real) {
      const auto& a = all.real_data(o.name);
      const auto& b = alone.real_data(o.name);
      REQUIRE(std::memcmp(a.data() + per_rep, b.data() + per_rep, per_rep * sizeof(double)) == 0);
    } else {
      const auto& a = all.data(o.name);
      const auto& b = alone.data(o.name);
      REQUIRE(std::equal(a.begin() + per_rep, a.begin() + 2 * per_rep, b.begin() + per_rep));
    }
    ++compared;
  }
  CHECK(compared > 20);
}
