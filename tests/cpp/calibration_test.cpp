// calibration_test: ABC-SMC against exact posteriors, coverage, threads, resume, the model
// end to end, and posteriors used in scenarios.
#include "sim/calibration/abc_smc.hpp"    // abc_smc
#include "sim/calibration/calibrate.hpp"  // run_calibration
#include "sim/calibration/posterior.hpp"  // read_posterior
#include "sim/config/config_tree.hpp"     // ConfigError
#include "sim/core/rng.hpp"               // Stream
#include "sim/io/dataset.hpp"             // write_dataset
#include "sim/run/ensemble.hpp"           // run_scenario
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "test_support.hpp"

#include <boost/random/chi_squared_distribution.hpp>  // boost::random::chi_squared_distribution
#include <boost/random/normal_distribution.hpp>       // boost::random::normal_distribution
#include <catch2/catch.hpp>

#include <algorithm>  // std::find
#include <chrono>     // std::chrono::steady_clock
#include <cmath>      // std::erf, std::exp, std::sqrt
#include <fstream>    // std::ifstream, std::ofstream
#include <set>        // std::set

using namespace childsim;
using namespace childsim::calibration;

namespace {

// --- toy problems --------------------------------------------------------------------------

// The mean and standard deviation of n draws from N(mu, sigma²), drawn through the
// sufficient statistics (ȳ ~ N(mu, sigma²/n), (n−1)s²/sigma² ~ χ²(n−1)) from the particle's
// own stream: two draws instead of n.
struct NormalSample {
  double mean = 0, sd = 0;
};
NormalSample simulate_normal(double mu, double sigma, int n, std::uint64_t seed) {
  Stream rng(seed, 0, 0, 0, Purpose::calibration);
  boost::random::normal_distribution<double> normal(mu, sigma / std::sqrt(double(n)));
  boost::random::chi_squared_distribution<double> chi2(n - 1);
  const double mean = normal(rng);
  return {mean, sigma * std::sqrt(chi2(rng) / (n - 1))};
}

Prior box(std::vector<std::string> names, std::vector<double> lo, std::vector<double> hi) {
  Prior p;
  p.names = std::move(names);
  p.lo = Eigen::Map<Eigen::VectorXd>(lo.data(), static_cast<Eigen::Index>(lo.size()));
  p.hi = Eigen::Map<Eigen::VectorXd>(hi.data(), static_cast<Eigen::Index>(hi.size()));
  return p;
}

double weighted_mean(const Generation& g, int k = 0) {
  return g.weights.dot(g.particles.col(k));
}
double weighted_sd(const Generation& g, int k = 0) {
  const double m = weighted_mean(g, k);
  return std::sqrt(g.weights.dot((g.particles.col(k).array() - m).square().matrix()));
}

// Problem (a): y_1..y_n ~ N(mu, 1), uniform prior on mu in [0, 1], distance |ȳ_sim − ȳ_obs|.
constexpr int kN = 10;
constexpr double kYbar = 0.2;
const DistanceFn kNormalMeanDistance = [](const Eigen::VectorXd& theta, std::uint64_t seed) {
  return std::abs(simulate_normal(theta[0], 1.0, kN, seed).mean - kYbar);
};

AbcSettings toy_settings(int particles, int generations, std::uint64_t seed) {
  AbcSettings s;
  s.particles = particles;
  s.max_generations = generations;
  s.tolerance_quantile = 0.5;
  s.min_acceptance_rate = 0.0;
  s.seed = seed;
  // The toy simulations take microseconds: one thread avoids OpenMP's barrier spinning, which
  // would cost more than the work on a busy machine. The thread test sets 1 and 2.
  s.threads = 1;
  return s;
}

void require_identical(const AbcResult& a, const AbcResult& b) {
  REQUIRE(a.generations.size() == b.generations.size());
  for (std::size_t g = 0; g < a.generations.size(); ++g) {
    INFO("generation " << g);
    const auto &x = a.generations[g], &y = b.generations[g];
    CHECK(x.tolerance == y.tolerance);  // inf == inf for generation 0
    CHECK(x.simulations == y.simulations);
    CHECK(x.particles == y.particles);  // exact: Eigen's == compares every coefficient
    CHECK(x.weights == y.weights);
    CHECK(x.distances == y.distances);
    CHECK(x.statistics == y.statistics);
  }
  CHECK(a.stop_reason == b.stop_reason);
}

// Standard normal density and distribution function.
double phi(double x) {
  return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}
double Phi(double x) {
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0)));
}

std::filesystem::path write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p;
}

// A small calibration of the model (2 parameters, 2 fitted targets, tiny population).
std::string small_calibration(int particles, int generations) {
  return "scenario: " + (test::source_dir() / "scenarios/baseline.yaml").string() + "\n" +
         "population_scale: 0.02\nreplicates: 1\nseed: 11\n"
         "parameters:\n"
         "  - name: nursery.seek_intercept\n"
         "  - name: kindergarten.take_up\n"
         "    prior: {lo: 0.92, hi: 0.99}\n"
         "abc: {particles: " +
         std::to_string(particles) + ", max_generations: " + std::to_string(generations) +
         ", tolerance_quantile: 0.5, min_acceptance_rate: 0.0}\n"
         "targets:\n"
         "  - id: formal_care\n    description: d\n    value: 0.14\n    sd: 0.04\n"
         "    year: 2024\n    basis: assumed\n    scaled_from_shanghai: true\n    source: s\n"
         "    output: nursery_children_enrolled\n    aggregate: ratio\n"
         "    denominator: {output: population, select: {age: [0, 1, 2]}}\n"
         "  - id: kindergarten\n    description: d\n    value: 0.97\n    sd: 0.02\n"
         "    year: 2024\n    basis: derived\n    scaled_from_shanghai: true\n    source: s\n"
         "    output: kindergarten_children_enrolled\n    aggregate: ratio\n"
         "    denominator: kindergarten_eligible\n"
         "  - id: births\n    description: d\n    value: 3300\n    sd: 500\n    year: 2024\n"
         "    basis: derived\n    scaled_from_shanghai: true\n    source: s\n    fit: false\n"
         "    output: births\n    aggregate: sum\n    scale: true\n";
}

std::string calibration_error(const std::string& text) {
  static const auto dir = test::fresh_dir("calibration-errors");
  const auto file = write_file(dir / "bad.yaml", text);
  try {
    load_calibration(file);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("calibration, toy normal mean matches the exact truncated-normal posterior",
          "[calibration]") {
  // Exact posterior: N(ȳ, 1/n) truncated to the prior [0, 1].
  const double s = 1 / std::sqrt(double(kN));
  const double a = (0 - kYbar) / s, b = (1 - kYbar) / s, z = Phi(b) - Phi(a);
  const double exact_mean = kYbar + s * (phi(a) - phi(b)) / z;
  const double exact_sd =
      s * std::sqrt(1 + (a * phi(a) - b * phi(b)) / z - std::pow((phi(a) - phi(b)) / z, 2));

  const AbcResult res =
      abc_smc(box({"mu"}, {0}, {1}), toy_settings(2000, 9, 42), kNormalMeanDistance);
  REQUIRE(res.generations.size() == 9);
  const Generation& post = res.posterior();
  // Exact: mean 0.334, sd 0.219 (scipy.stats.truncnorm agrees). Tolerance: the final ε adds
  // about ε²/3 to the variance (uniform acceptance window): with ε < 0.02 (checked) under
  // 1.4e-4 against the exact variance 0.048; the Monte Carlo error of a weighted mean is
  // about sd / sqrt(ESS) and of an sd about sd / sqrt(2 ESS). Resampling correlates
  // particles, so we allow 5 of these standard errors (0.12 and 0.08 sd at ESS ≈ 1,900;
  // seed 42 misses by 0.8 standard errors in both).
  const double ess = post.effective_sample_size();
  CHECK(post.tolerance < 0.02);
  CHECK(ess > 500);
  CHECK(std::abs(weighted_mean(post) - exact_mean) < 5 * exact_sd / std::sqrt(ess));
  CHECK(std::abs(weighted_sd(post) - exact_sd) < 5 * exact_sd / std::sqrt(2 * ess));
  // Tolerances shrink and weights are normalised in every generation.
  for (std::size_t g = 1; g < res.generations.size(); ++g) {
    CHECK(res.generations[g].tolerance < res.generations[g - 1].tolerance);
    CHECK(res.generations[g].weights.sum() == Approx(1.0));
    CHECK(res.generations[g].distances.maxCoeff() <= res.generations[g].tolerance);
  }
  CHECK(res.generations[0].acceptance_rate() == 1.0);
}

TEST_CASE("calibration, 90 % intervals cover the true values at the nominal rate",
          "[calibration]") {
  // y_1..y_20 ~ N(mu, sigma²) with (mu, sigma) drawn from the prior U[-1, 1] x U[0.5, 2];
  // summaries (ȳ, s) are sufficient, so as ε → 0 the ABC posterior is the exact one and the
  // 90 % weighted intervals cover the truth in 90 % of datasets. With 100 datasets the count
  // lies in [81, 97] with probability 0.996 under exact coverage (binomial(100, 0.9)).
  // The distance measures both summaries in sampling standard deviations (scaled by the
  // observed s, so the acceptance window is proportional to the posterior's width); nine
  // generations bring ε to about 0.4 of them, which widens the posterior by a few per cent:
  // with seven generations (ε ≈ 0.8) mu was covered 97 times, the edge of the band.
  constexpr int datasets = 100, n = 20;
  const Prior prior = box({"mu", "sigma"}, {-1, 0.5}, {1, 2});
  int covered_mu = 0, covered_sigma = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < datasets; ++k) {
    Stream rng(99, 0, static_cast<std::uint64_t>(k), 0, Purpose::parameters);
    const double mu = -1 + 2 * rng.uniform(), sigma = 0.5 + 1.5 * rng.uniform();
    const NormalSample obs = simulate_normal(mu, sigma, n, 1000 + k);
    const DistanceFn distance = [&](const Eigen::VectorXd& th, std::uint64_t seed) {
      const NormalSample sim = simulate_normal(th[0], th[1], n, seed);
      const double dm = (sim.mean - obs.mean) * std::sqrt(double(n)) / obs.sd;
      const double ds = (sim.sd - obs.sd) * std::sqrt(2.0 * n) / obs.sd;
      return std::sqrt(dm * dm + ds * ds);
    };
    const AbcResult res = abc_smc(prior, toy_settings(300, 9, 7 + k), distance);
    const Generation& post = res.posterior();
    const Eigen::VectorXd m = post.particles.col(0), s = post.particles.col(1);
    covered_mu += weighted_quantile(m, post.weights, 0.05) <= mu &&
                  mu <= weighted_quantile(m, post.weights, 0.95);
    covered_sigma += weighted_quantile(s, post.weights, 0.05) <= sigma &&
                     sigma <= weighted_quantile(s, post.weights, 0.95);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("covered mu " << covered_mu << ", sigma " << covered_sigma << " of " << datasets << " in "
                     << seconds << " s");
  CHECK(covered_mu >= 81);
  CHECK(covered_mu <= 97);
  CHECK(covered_sigma >= 81);
  CHECK(covered_sigma <= 97);
}

TEST_CASE("calibration, the same seed gives the same posterior on 1 and 2 threads",
          "[calibration][threads]") {
  AbcSettings s = toy_settings(300, 5, 3);
  s.threads = 1;
  const AbcResult one = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  s.threads = 2;
  const AbcResult two = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  require_identical(one, two);
  s.seed = 4;
  const AbcResult other = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  CHECK(other.posterior().particles != two.posterior().particles);
}

TEST_CASE("calibration, a run resumed from its checkpoint equals an uninterrupted run",
          "[calibration]") {
  const auto dir = test::fresh_dir("calibration-resume");
  AbcSettings s = toy_settings(300, 6, 5);
  s.checkpoint_key = "toy";
  s.checkpoint = dir / "whole.checkpoint";
  const AbcResult whole = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  CHECK(whole.resumed_generations == 0);

  // "Interrupted" after generation 2: the first run stops at max_generations = 3.
  s.checkpoint = dir / "part.checkpoint";
  s.max_generations = 3;
  const AbcResult first = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  CHECK(first.generations.size() == 3);
  s.max_generations = 6;
  int resumed_reports = 0;
  s.on_generation = [&](const GenerationReport& r) { resumed_reports += r.resumed; };
  const AbcResult resumed = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  CHECK(resumed.resumed_generations == 3);
  CHECK(resumed_reports == 3);
  CHECK_THAT(resumed.checkpoint_note, Catch::Contains("resumed"));
  require_identical(whole, resumed);

  // A checkpoint of another problem (different key or settings) is ignored, not used.
  s.checkpoint_key = "another toy";
  s.on_generation = {};
  const AbcResult fresh = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  CHECK(fresh.resumed_generations == 0);
  CHECK_THAT(fresh.checkpoint_note, Catch::Contains("different calibration"));
  CHECK(fresh.posterior().particles == whole.posterior().particles);  // the key is no input
}

TEST_CASE("calibration, degenerate particles and rejected proposals are handled", "[calibration]") {
  // Particles on a point, or on a line: the kernel falls back to a diagonal with a floor of
  // (1e-6 × prior width)² and stays positive definite.
  const Prior prior = box({"a", "b"}, {0, 0}, {1, 2});
  Generation point;
  point.particles = Eigen::MatrixXd::Constant(5, 2, 0.5);
  point.weights = Eigen::VectorXd::Constant(5, 0.2);
  Eigen::MatrixXd l = kernel_cholesky(point, prior);
  CHECK(l(0, 0) == Approx(1e-6));
  CHECK(l(1, 1) == Approx(2e-6));
  CHECK(l(1, 0) == 0.0);
  Generation line = point;
  for (int i = 0; i < 5; ++i) line.particles.row(i) << 0.1 * i, 0.2 * i;
  l = kernel_cholesky(line, prior);
  CHECK(l(1, 0) == 0.0);
  CHECK(l(0, 0) == Approx(std::sqrt(2 * weighted_covariance(line.particles, line.weights)(0, 0))));
  // A distance that is 0 for every θ: ε₁ = 0 reaches min_tolerance = 0 and stops the run.
  const DistanceFn zero = [](const Eigen::VectorXd&, std::uint64_t) { return 0.0; };
  const AbcResult res = abc_smc(prior, toy_settings(50, 5, 1), zero);
  CHECK(res.generations.size() == 2);
  CHECK_THAT(res.stop_reason, Catch::Contains("tolerance reached min_tolerance"));
  // A distance that is never finite stops generation 0 with a message.
  const DistanceFn nan = [](const Eigen::VectorXd&, std::uint64_t) { return std::nan(""); };
  AbcSettings s = toy_settings(10, 3, 1);
  s.max_attempts = 5;
  CHECK_THROWS_WITH(abc_smc(box({"a"}, {0}, {1}), s, nan),
                    Catch::Contains("particle 0 was not accepted within max_attempts = 5"));
  // Too low an acceptance rate stops the run with the reason.
  s.max_attempts = 1000;
  s.min_acceptance_rate = 0.9;
  s.particles = 200;
  const AbcResult stopped = abc_smc(box({"mu"}, {0}, {1}), s, kNormalMeanDistance);
  CHECK(stopped.generations.size() == 2);
  CHECK_THAT(stopped.stop_reason, Catch::Contains("below min_acceptance_rate"));
}

TEST_CASE("calibration, a small model calibration writes a readable posterior",
          "[calibration][model]") {
  const auto dir = test::fresh_dir("calibration-model");
  const auto file = write_file(dir / "small.yaml", small_calibration(8, 2));
  CalibrateOptions options;
  options.threads = 2;
  const AbcResult res = run_calibration(file, dir / "posterior.h5", options);
  REQUIRE(res.generations.size() == 2);
  CHECK(std::filesystem::exists(dir / "posterior.h5.checkpoint"));

  const Posterior p = read_posterior(dir / "posterior.h5");
  CHECK(p.names == std::vector<std::string>{"nursery.seek_intercept", "kindergarten.take_up"});
  CHECK(p.generation == 1);
  CHECK(p.particles.rows() == 8);
  CHECK(p.weights.sum() == Approx(1.0));
  CHECK(p.particles == res.posterior().particles);
  CHECK((p.particles.col(1).array() >= 0.92).all());
  CHECK((p.particles.col(1).array() <= 0.99).all());
  // The statistics are plausible: formal care and kindergarten shares between 0 and 1,
  // births (scaled back to the whole district) in the thousands.
  const Eigen::MatrixXd& st = res.posterior().statistics;
  REQUIRE(st.cols() == 3);
  CHECK((st.col(0).array() > 0).all());
  CHECK((st.col(1).array() < 1).all());
  CHECK((st.col(2).array() > 1000).all());
  // The same calibration on one thread, and resumed from a one-generation run, is identical.
  const auto dir1 = test::fresh_dir("calibration-model-1");
  const auto file1 = write_file(dir1 / "small.yaml", small_calibration(8, 2));
  options.threads = 1;
  options.generations = 1;
  run_calibration(file1, dir1 / "posterior.h5", options);
  options.generations = 0;
  const AbcResult resumed = run_calibration(file1, dir1 / "posterior.h5", options);
  CHECK(resumed.resumed_generations == 1);
  require_identical(res, resumed);
}

TEST_CASE("calibration, calibration file errors are located", "[calibration]") {
  const std::string good = small_calibration(8, 2);
  CHECK(calibration_error(good).empty());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    t.replace(t.find(from), from.size(), to);
    return calibration_error(t);
  };
  CHECK_THAT(replaced("output: births", "output: holiday_queue"),
             Catch::Contains("bad.yaml:") && Catch::Contains("'holiday_queue' is not an output") &&
                 Catch::Contains("births"));
  CHECK_THAT(replaced("name: kindergarten.take_up", "name: kindergarten.takeup"),
             Catch::Contains("unknown parameter 'kindergarten.takeup'"));
  CHECK_THAT(replaced("{lo: 0.92, hi: 0.99}", "{lo: 0.5, hi: 0.99}"),
             Catch::Contains("key 'parameters[1].prior.lo'") &&
                 Catch::Contains("expected a value in [0.9, 0.995]"));
  CHECK_THAT(replaced("age: [0, 1, 2]", "age: [0, 1, 20]"), Catch::Contains("unknown age '20'"));
  CHECK_THAT(replaced("aggregate: sum", "aggregate: total"),
             Catch::Contains("key 'targets[2].aggregate'") && Catch::Contains("expected one of"));
  CHECK_THAT(replaced("sd: 500", "sd: 0"), Catch::Contains("expected sd > 0"));
  CHECK_THAT(replaced("    basis: assumed\n", ""),
             Catch::Contains("key 'targets[0].basis': missing required key"));
}

TEST_CASE("calibration, replicates draw parameters from a posterior reproducibly",
          "[calibration][scenario]") {
  const auto dir = test::fresh_dir("calibration-posterior");
  // A posterior of 40 distinct particles for two parameters (the second gets overridden).
  io::Dataset ds;
  const int n = 40;
  std::vector<double> particles, weights;
  std::vector<std::int64_t> parts;
  for (int i = 0; i < n; ++i) {
    particles.push_back(0.05 + 0.005 * i);  // babyroom.take_up in [0.05, 0.35]
    particles.push_back(0.93 + 0.001 * i);  // kindergarten.take_up
    weights.push_back(1.0 / n);
    parts.push_back(i);
  }
  ds.dims.push_back({"generation", std::vector<std::int64_t>{0}, {}});
  ds.dims.push_back({"particle", parts, {}});
  ds.dims.push_back(
      {"parameter", std::vector<std::string>{"babyroom.take_up", "kindergarten.take_up"}, {}});
  ds.variables.push_back({"particles", {"generation", "particle", "parameter"}, particles, {}});
  ds.variables.push_back({"weights", {"generation", "particle"}, weights, {}});
  io::write_dataset(ds, dir / "post.h5");

  const std::string base = "extends: " + (test::source_dir() / "scenarios/baseline.yaml").string() +
                           "\npopulation_scale: 0.02\nend: 2024-02\nreplicates: 6\n";
  const auto file = write_file(
      dir / "drawn.yaml", base + "parameters: {posterior: post.h5, kindergarten.take_up: 0.95}\n");
  const Scenario sc = load_scenario(file);
  REQUIRE(sc.posterior);
  CHECK(sc.posterior->names == std::vector<std::string>{"babyroom.take_up"});
  const io::Dataset a = run_scenario(sc, {});
  const io::Dataset b = run_scenario(load_scenario(file), {});
  const auto& va = std::get<std::vector<double>>(a.find_variable("parameter_value")->data);
  const auto& vb = std::get<std::vector<double>>(b.find_variable("parameter_value")->data);
  CHECK(va == vb);
  CHECK(test::ints(a, "population") == test::ints(b, "population"));
  const auto& names = std::get<std::vector<std::string>>(a.find_dim("parameter")->values);
  const auto col = [&](const std::string& name) {
    const auto k = std::find(names.begin(), names.end(), name) - names.begin();
    std::vector<double> v;
    for (int r = 0; r < 6; ++r) v.push_back(va[r * names.size() + k]);
    return v;
  };
  const auto drawn = col("babyroom.take_up");
  CHECK(std::set<double>(drawn.begin(), drawn.end()).size() >= 3);  // replicates differ
  for (double v : drawn) {
    const double i = (v - 0.05) / 0.005;  // each value is one of the particles
    CHECK(std::abs(i - std::round(i)) < 1e-9);
  }
  for (double v : col("kindergarten.take_up")) CHECK(v == 0.95);  // the override wins
  const double table_out_rate = sc.base.parameters["migration.out_rate"];
  for (double v : col("migration.out_rate")) CHECK(v == table_out_rate);  // the rest: the table's

  // Without a posterior every replicate records the table's values.
  const io::Dataset plain = run_scenario(load_scenario(write_file(dir / "plain.yaml", base)), {});
  const auto& vp = std::get<std::vector<double>>(plain.find_variable("parameter_value")->data);
  CHECK(vp[0] == vp[names.size()]);

  // Errors: a missing file, a parameter the table does not know.
  auto error = [&](const std::string& extra) {
    try {
      load_scenario(write_file(dir / "bad.yaml", base + extra));
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(error("parameters: {posterior: missing.h5}\n"),
             Catch::Contains("bad.yaml:5:25: key 'parameters.posterior'") &&
                 Catch::Contains("missing.h5") && Catch::Contains("does not exist"));
  write_file(dir / "not-hdf5.h5", "text");
  CHECK_THAT(error("parameters: {posterior: not-hdf5.h5}\n"),
             Catch::Contains("cannot be opened as HDF5"));
  ds.dims[2].values = std::vector<std::string>{"babyroom.take_up", "nursery.no_such_thing"};
  io::write_dataset(ds, dir / "unknown.h5");
  CHECK_THAT(
      error("parameters: {posterior: unknown.h5}\n"),
      Catch::Contains("posterior parameter 'nursery.no_such_thing' is not in parameters.yaml"));
}

// --- target statistics against a plain calculation on the recorded arrays -------------------

namespace {

// A calibration file whose targets exercise the reductions used by calibration/changning.yaml:
// a cohort retention and kindergarten age per birth (lagged ratios) and an age-group share of
// residents (a ratio with a select).
std::string statistics_calibration(const std::string& extra_target = "") {
  return "scenario: " + (test::source_dir() / "scenarios/baseline.yaml").string() + "\n" +
         "population_scale: 0.02\nreplicates: 2\nseed: 5\nend: 2030-12\n"
         "parameters: [kindergarten.take_up]\n"
         "targets:\n"
         "  - id: retention_age3\n    description: d\n    value: 0.96\n    sd: 0.03\n"
         "    years: [2027, 2028]\n    months: [12]\n    basis: derived\n"
         "    scaled_from_shanghai: true\n    source: s\n    output: population\n"
         "    select: {age: [3]}\n    aggregate: lagged_ratio\n"
         "    denominator:\n      output: births\n"
         "      window: {from: {years: -3, month: 1}, to: {years: -3, month: 12}}\n"
         "  - id: kindergarten_age_per_birth\n    description: d\n    value: 0.95\n"
         "    sd: 0.03\n    year: 2030\n    months: [10]\n    basis: derived\n"
         "    scaled_from_shanghai: true\n    source: s\n    output: kindergarten_eligible\n"
         "    aggregate: lagged_ratio\n"
         "    denominator: {output: births, window: {from: {years: -6, month: 9}, "
         "to: {years: -3, month: 8}}}\n"
         "  - id: share_0_14\n    description: d\n    value: 0.08\n    sd: 0.01\n"
         "    year: 2024\n    months: [1]\n    basis: derived\n    scaled_from_shanghai: true\n"
         "    source: s\n    output: population\n"
         "    select: {age: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]}\n"
         "    aggregate: ratio\n    denominator: residents\n" +
         extra_target;
}

// Fill every element of an int32 output with a distinct, irregular positive number.
void fill(io::Recorder& rec, const std::string& name, int months, int salt) {
  const std::size_t n = rec.block_size(name);
  for (int r = 0; r < rec.replicates(); ++r)
    for (int m = 0; m < months; ++m) {
      std::int32_t* b = rec.block(name, r, m);
      for (std::size_t k = 0; k < n; ++k)
        b[k] = static_cast<std::int32_t>(
            1 + (r * 7919 + m * 104729 + static_cast<int>(k) * 31 + salt * 13) % 997);
    }
}

// Σ over streets of an int32 (replicate, time, street[, age]) output at one month; `age` < 0
// sums every age (or the output has none).
double street_sum(io::Recorder& rec, const std::string& name, int r, int m, int ages, int age) {
  const std::int32_t* b = rec.block(name, r, m);
  const std::size_t streets = rec.dim_size("street");
  double s = 0;
  for (std::size_t st = 0; st < streets; ++st) {
    if (ages == 0) {
      s += b[st];
      continue;
    }
    for (int a = 0; a < ages; ++a)
      if (age < 0 ? a <= 14 : a == age) s += b[st * static_cast<std::size_t>(ages) + a];
  }
  return s;
}

}  // namespace

TEST_CASE("calibration, lagged-ratio and share statistics equal a plain calculation",
          "[calibration]") {
  const auto dir = test::fresh_dir("calibration-statistics");
  const CalibrationSpec spec =
      load_calibration(write_file(dir / "s.yaml", statistics_calibration()));
  REQUIRE(spec.targets.size() == 3);
  const Scenario& sc = spec.scenario;
  const int months = sc.n_months();
  REQUIRE(months == 84);  // 2024-01 .. 2030-12
  io::Recorder rec(sc, 2);
  fill(rec, "population", months, 1);
  fill(rec, "births", months, 2);
  fill(rec, "kindergarten_eligible", months, 3);
  fill(rec, "residents", months, 4);
  const int ages = static_cast<int>(rec.dim_size("age"));
  auto month_index = [&](int year, int month) { return (year - 2024) * 12 + (month - 1); };

  // retention: children aged 3 in December of T per birth of T − 3, mean over T, replicates.
  double retention = 0, kg = 0, share = 0;
  for (int r = 0; r < 2; ++r) {
    double over_years = 0;
    for (int t : {2027, 2028}) {
      double births = 0;
      for (int m = 1; m <= 12; ++m)
        births += street_sum(rec, "births", r, month_index(t - 3, m), 0, 0);
      over_years += street_sum(rec, "population", r, month_index(t, 12), ages, 3) / births;
    }
    retention += over_years / 2 / 2;
    // kindergarten age: October 2030 over births September 2024 .. August 2027 (36 months).
    double births = 0;
    for (int m = month_index(2024, 9); m <= month_index(2027, 8); ++m)
      births += street_sum(rec, "births", r, m, 0, 0);
    kg += street_sum(rec, "kindergarten_eligible", r, month_index(2030, 10), 0, 0) / births / 2;
    // share aged 0-14 of residents, January 2024.
    share += street_sum(rec, "population", r, 0, ages, -1) /
             street_sum(rec, "residents", r, 0, 0, 0) / 2;
  }
  CHECK(target_statistic(spec.targets[0], rec, spec.population_scale) ==
        Approx(retention).epsilon(1e-12));
  CHECK(target_statistic(spec.targets[1], rec, spec.population_scale) == Approx(kg).epsilon(1e-12));
  CHECK(target_statistic(spec.targets[2], rec, spec.population_scale) ==
        Approx(share).epsilon(1e-12));
  // The window has the months it says: 12 for a calendar year, 36 for three school cohorts.
  CHECK(spec.targets[0].window_indices_by_year[0].size() == 12);
  CHECK(spec.targets[0].window_indices_by_year[0].front() == month_index(2024, 1));
  CHECK(spec.targets[1].window_indices_by_year[0].size() == 36);
  CHECK(spec.targets[1].window_indices_by_year[0].front() == month_index(2024, 9));
}

TEST_CASE("calibration, lagged-ratio errors name the key and the window", "[calibration]") {
  const std::string good = statistics_calibration();
  CHECK(calibration_error(good).empty());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    t.replace(t.find(from), from.size(), to);
    return calibration_error(t);
  };
  // A window reaching before the run: births of 2023 were not simulated.
  CHECK_THAT(replaced("years: [2027, 2028]", "years: [2026, 2027]"),
             Catch::Contains("target year 2026 (2023-01 to 2023-12) is not inside the run"));
  CHECK_THAT(
      replaced("      window: {from: {years: -3, month: 1}, to: {years: -3, month: 12}}\n", ""),
      Catch::Contains("key 'targets[0].denominator.window': missing required key"));
  CHECK_THAT(replaced("to: {years: -3, month: 12}", "to: {years: -4, month: 12}"),
             Catch::Contains("'from' month not after its 'to' month"));
  CHECK_THAT(replaced("to: {years: -3, month: 12}", "to: {years: -3, month: 13}"),
             Catch::Contains("targets[0].denominator.window.to.month"));
  CHECK_THAT(
      replaced("    denominator: residents\n", "    denominator: residents\n    scale: true\n"),
      Catch::Contains("a ratio does not depend on the population scale"));
  CHECK_THAT(replaced("denominator: {output: births, window:",
                      "denominator: {output: facility_running_cost, window:"),
             Catch::Contains("monthly outputs"));
}

TEST_CASE("calibration, the Changning file and its waiting migration-schedule targets load",
          "[calibration]") {
  const auto file = test::source_dir() / "calibration/changning.yaml";
  const CalibrationSpec committed = load_calibration(file);
  CHECK(committed.scenario.end.to_string() == "2024-12");
  // Enable the block between the markers (drop the leading "# " of its lines), as the lead
  // will at merge; the copy names the base scenario by its absolute path.
  std::ifstream in(file);
  std::string text, line;
  bool inside = false;
  int enabled = 0;
  while (std::getline(in, line)) {
    if (line.find(">>> BEGIN migration-schedule targets") != std::string::npos) inside = true;
    if (line.find("<<< END migration-schedule targets") != std::string::npos) inside = false;
    const auto hash = line.find("# ");
    if (inside && line.find(">>>") == std::string::npos && hash != std::string::npos) {
      line.erase(hash, 2);
      ++enabled;
    }
    if (line.rfind("scenario: ", 0) == 0)
      line = "scenario: " + (test::source_dir() / "scenarios/baseline.yaml").string();
    text += line + "\n";
  }
  REQUIRE(enabled > 30);
  const auto dir = test::fresh_dir("calibration-changning-enabled");
  const CalibrationSpec spec = load_calibration(write_file(dir / "changning.yaml", text));
  CHECK(spec.scenario.end.to_string() == "2035-12");  // the horizon follows the targets
  const auto ids = spec.target_ids();
  for (const char* id : {"retention_age3", "retention_age5", "kindergarten_age_per_birth"}) {
    const auto it = std::find(ids.begin(), ids.end(), id);
    REQUIRE(it != ids.end());
    const calibration::Target& t = spec.targets[static_cast<std::size_t>(it - ids.begin())];
    CHECK(t.aggregate == Aggregate::lagged_ratio);
    CHECK(t.fit);
    // Every window lies before its target year's kept month: births, then the stock.
    for (std::size_t y = 0; y < t.years.size(); ++y)
      CHECK(t.window_indices_by_year[y].back() < t.indices_by_year[y].front());
  }
}
