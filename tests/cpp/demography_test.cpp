// demography_test: the simulated population against an independent cohort-component
// projection, conservation of children, and reproducibility across threads and seeds.
#include "sim/model/rates.hpp"        // initial_counts (the starting counts are inputs)
#include "sim/run/ensemble.hpp"       // run_scenario
#include "sim/scenario/scenario.hpp"  // load_scenario
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>  // std::equal, std::copy_backward, std::fill
#include <cmath>      // std::pow, std::sqrt, std::exp, std::log
#include <cstdio>     // std::printf
#include <cstdlib>    // std::getenv
#include <cstring>    // std::memcmp
#include <numeric>    // std::accumulate

using namespace childsim;

namespace {

// A deterministic cohort-component projection by street and month of age, written from the
// model description (docs/model.md) and the base data alone: it shares no code with the
// simulation except the file readers and the starting counts. Expected values propagate
// exactly because every event probability depends only on age, the mother's age, street and
// month: children are held by their age in months and by the gap G between their mother's
// age and theirs (months), since a family leaves at the rate of the mother's age.
constexpr int n_child_months = 216, n_women_months = 384, n_gap = 640;

struct Projection {
  int ns = 0;
  std::vector<std::vector<double>> child;             // [street][age months × n_gap + G]
  std::vector<std::vector<double>> women;             // [street][age in months 216..599]
  std::vector<std::vector<double>> births_by_month;   // [month][street]
  std::vector<std::vector<std::vector<double>>> pop;  // [month][street][age 0..17]
};

double hazard(double q) {
  return 1.0 - std::pow(1.0 - q, 1.0 / 12.0);
}

// The Rogers–Castro labour-force curve relative to its peak, written out again here from the
// documented formula (docs/model.md, "Migration") rather than taken from the simulation.
double rc_relative(double x, double mode, double lambda, double alpha) {
  const double mu = mode - std::log(lambda / alpha) / lambda;
  auto L = [&](double z) { return std::exp(-alpha * (z - mu) - std::exp(-lambda * (z - mu))); };
  return L(x) / L(mode);
}

// Monthly leaving hazard of a family whose mother is `months` old.
struct OutSchedule {
  std::vector<double> by_year;
  explicit OutSchedule(const ParameterTable& P) {
    const double c = P["migration.out_base"], peak = P["migration.out_rate"];
    for (int a = 0; a < 100; ++a)
      by_year.push_back(
          hazard(c + std::max(0.0, peak - c) * rc_relative(a + 0.5, P["migration.out_peak_age"],
                                                           P["migration.out_rise"],
                                                           P["migration.out_fall"])));
  }
  double operator()(int months) const { return by_year[std::min(99, std::max(0, months / 12))]; }
};

Projection project(const Scenario& sc) {
  const BaseData& b = sc.base;
  const auto& P = b.parameters;
  const InitialCounts c = initial_counts(sc);
  Projection pr;
  const int ns = pr.ns = b.n_streets();
  auto cell = [](int m, int g) { return static_cast<std::size_t>(m) * n_gap + g; };
  pr.child.assign(ns, std::vector<double>(n_child_months * n_gap, 0.0));
  pr.women.assign(ns, std::vector<double>(n_women_months, 0.0));
  double shape_sum = 0;
  for (double x : b.asfr_shape) shape_sum += x;
  for (int s = 0; s < ns; ++s) {
    // A child aged a years + v months with a mother who was y at the birth (fertility shape)
    // and is now y + a years + u months old: G = 12 y + u − v, u and v uniform 0..11.
    for (int a = 0; a < 18; ++a)
      for (int y = 0; y < 32; ++y)
        for (int v = 0; v < 12; ++v)
          for (int u = 0; u < 12; ++u)
            pr.child[s][cell(12 * a + v, 12 * (y + 18) + u - v)] +=
                c.children[s][a] * b.asfr_shape[y] / shape_sum / 144.0;
    for (int a = 0; a < 32; ++a)
      for (int v = 0; v < 12; ++v) pr.women[s][12 * a + v] = c.women[s][a] / 12.0;
  }
  const double srb = P["fertility.sex_ratio_at_birth"], p_girl = 1.0 / (1.0 + srb);
  const OutSchedule h_out(P);
  const double h_b = hazard(P["migration.between_rate"]);
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
  // One arriving family: a woman of A years (arrival schedule) + u months, who had a child in
  // each completed year y < A with probability in_fertility × shape(y), at month w of it.
  std::vector<double> arr_women(n_women_months, 0.0), arr_child(n_child_months * n_gap, 0.0);
  {
    std::vector<double> pA(32);
    double sum = 0;
    for (int a = 0; a < 32; ++a)
      sum += pA[a] = rc_relative(a + 18.5, P["migration.in_peak_age"], P["migration.in_rise"],
                                 P["migration.in_fall"]);
    for (int a = 0; a < 32; ++a) {
      const double p = pA[a] / sum;
      for (int u = 0; u < 12; ++u) {
        arr_women[12 * a + u] += p / 12.0;
        for (int y = 18; y < a + 18; ++y)
          for (int w = 0; w < 12; ++w) {
            const int age = 12 * (a + 18) + u - 12 * y - w;
            if (age >= n_child_months) continue;
            arr_child[cell(age, 12 * y + w)] +=
                p / 144.0 * P["migration.in_fertility"] * b.asfr_shape[y - 18] / shape_sum;
          }
      }
    }
  }
  std::vector<double> inflow(ns);
  for (int s = 0; s < ns; ++s) {
    double dep = 0;
    for (int a = 0; a < 32; ++a) dep += c.women[s][a] * h_out(12 * (a + 18));
    inflow[s] = P["migration.inflow_ratio"] * dep;
  }

  for (int t = 0; t < sc.n_months(); ++t) {
    if (t > 0) {  // everyone is a month older
      for (int s = 0; s < ns; ++s) {
        double aged = 0;
        for (int g = 0; g < n_gap; ++g) aged += pr.child[s][cell(n_child_months - 1, g)];
        auto& ch = pr.child[s];
        std::copy_backward(ch.begin(), ch.end() - n_gap, ch.end());
        std::fill(ch.begin(), ch.begin() + n_gap, 0.0);
        for (int m = n_women_months - 1; m > 0; --m) pr.women[s][m] = pr.women[s][m - 1];
        pr.women[s][0] = p_girl * aged;
      }
    }
    const int year = sc.start.plus(t).year;
    // The age-specific rate the births keep whatever the parity mix (births.hpp): children
    // per woman of each age, with twins, are district level × TFR × shape / 12.
    const double tfr =
        sc.tfr.at(year) * P["fertility.district_level"] * P["fertility.tfr_multiplier"];
    std::vector<double> births(ns, 0.0);
    for (int s = 0; s < ns; ++s) {
      for (int m = 0; m < n_women_months; ++m) {
        const double bm = pr.women[s][m] * tfr * b.asfr_shape[m / 12] / shape_sum / 12;
        births[s] += bm;
        pr.child[s][cell(0, m + 216)] += bm;
      }
      for (int m = 0; m < n_child_months; ++m) {
        const double q = hazard(b.child_death_probability[m / 12]);
        for (int g = 0; g < n_gap; ++g) pr.child[s][cell(m, g)] *= (1 - q) * (1 - h_out(m + g));
      }
      for (int m = 0; m < n_women_months; ++m) pr.women[s][m] *= (1 - h_w) * (1 - h_out(m + 216));
    }
    auto between = [&](std::vector<std::vector<double>>& X) {
      auto Y = X;
      for (int s = 0; s < ns; ++s)
        for (std::size_t m = 0; m < X[s].size(); ++m) {
          const double x = X[s][m];
          if (x == 0) continue;
          Y[s][m] -= h_b * x;
          for (int d = 0; d < ns; ++d) Y[d][m] += h_b * x * D[s][d];
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
      for (std::size_t i = 0; i < arr_child.size(); ++i) pr.child[s][i] += n * arr_child[i];
      for (int m = 0; m < n_women_months; ++m) pr.women[s][m] += n * arr_women[m];
    }
    pr.births_by_month.push_back(births);
    std::vector<std::vector<double>> pop(ns, std::vector<double>(18, 0.0));
    for (int s = 0; s < ns; ++s)
      for (int m = 0; m < n_child_months; ++m)
        for (int g = 0; g < n_gap; ++g) pop[s][m / 12] += pr.child[s][cell(m, g)];
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

// Retention of a birth cohort: children aged `age` in December of Y + age per birth of year Y,
// averaged over the cohorts that reach that age within the run (as the calibration target
// retention_age3/5 defines it).
template <class Pop, class Births>
double retention(int age, int years, Pop pop_at, Births births_in) {
  double sum = 0;
  int n = 0;
  for (int y = 0; y + age < years; ++y, ++n) sum += pop_at(12 * (y + age) + 11, age) / births_in(y);
  return sum / n;
}

TEST_CASE("demography, a birth cohort's retention to ages 3 and 5 is what the schedule implies",
          "[demography][statistical][migration]") {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 16;
  sc.services = false;
  const auto ds = run_scenario(sc);
  const Projection pr = project(sc);
  const auto& pop = test::ints(ds, "population");
  const auto& births = test::ints(ds, "births");
  const int R = sc.replicates, T = sc.n_months(), S = sc.base.n_streets(), A = 18;
  for (int age : {3, 5}) {
    const double expected = retention(
        age, T / 12,
        [&](int t, int a) {
          double x = 0;
          for (int s = 0; s < S; ++s) x += pr.pop[t][s][a];
          return x;
        },
        [&](int y) {
          double x = 0;
          for (int t = 12 * y; t < 12 * y + 12; ++t)
            for (int s = 0; s < S; ++s) x += pr.births_by_month[t][s];
          return x;
        });
    const Moments m = moments(R, [&](int r) {
      return retention(
          age, T / 12,
          [&](int t, int a) {
            double x = 0;
            for (int s = 0; s < S; ++s) x += pop[((r * T + t) * S + s) * A + a];
            return x;
          },
          [&](int y) {
            double x = 0;
            for (int t = 12 * y; t < 12 * y + 12; ++t)
              for (int s = 0; s < S; ++s) x += births[(r * T + t) * S + s];
            return x;
          });
    });
    INFO("age " << age << ": simulated " << m.mean << " ± " << m.se << ", projected " << expected);
    // The ratio of means differs from the mean of ratios by O(1/births) (< 0.002 here).
    CHECK(std::abs(m.mean - expected) < 3 * m.se + 0.003);
    // Migration must not inflate a cohort (main before the schedule gave 1.32 and 1.40).
    CHECK(m.mean < 1.0);
  }
}

TEST_CASE("demography, the documented schedule gives the census-derived retention",
          "[demography][migration]") {
  // parameters.yaml says the migration.* values were chosen so that retention to ages 3 and 5
  // is 0.960 and 0.938 (docs/validation.md, Derivations); the projection of the baseline
  // checks that claim to within the calibration target's tolerance of 0.02.
  const Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  const Projection pr = project(sc);
  const int T = sc.n_months(), S = sc.base.n_streets();
  auto pop_at = [&](int t, int a) {
    double x = 0;
    for (int s = 0; s < S; ++s) x += pr.pop[t][s][a];
    return x;
  };
  auto births_in = [&](int y) {
    double x = 0;
    for (int t = 12 * y; t < 12 * y + 12; ++t)
      for (int s = 0; s < S; ++s) x += pr.births_by_month[t][s];
    return x;
  };
  const double r3 = retention(3, T / 12, pop_at, births_in);
  const double r5 = retention(5, T / 12, pop_at, births_in);
  INFO("retention to 3: " << r3 << ", to 5: " << r5);
  CHECK(std::abs(r3 - 0.960) < 0.02);
  CHECK(std::abs(r5 - 0.938) < 0.02);
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
