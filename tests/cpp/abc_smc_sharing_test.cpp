// abc_smc_sharing_test: ABC-SMC with each generation's particles shared between processes
// (ParticleSharing, used by `childsim-mpi calibrate`) gives the one-process result bit for bit;
// the packed outcomes carry every value exactly. Processes are stood in for by threads here;
// tests/python/test_mpi.py runs the real thing under mpirun.
#include "sim/calibration/abc_smc.hpp"  // abc_smc, ParticleSharing, pack_outcomes
#include "sim/core/rng.hpp"             // Stream
#include "test_support.hpp"             // fresh_dir

#include <boost/random/normal_distribution.hpp>  // boost::random::normal_distribution
#include <catch2/catch.hpp>

#include <cmath>               // std::abs
#include <condition_variable>  // std::condition_variable
#include <fstream>             // std::ifstream
#include <iterator>            // std::istreambuf_iterator
#include <limits>              // std::numeric_limits
#include <mutex>               // std::mutex, std::unique_lock
#include <stdexcept>           // std::runtime_error
#include <string>              // std::string
#include <thread>              // std::thread
#include <vector>              // std::vector

using namespace childsim;
using namespace childsim::calibration;

namespace {

// A toy with a known answer: data ȳ = 0.3 from N(θ, 1/10), θ uniform on [0, 1]; two
// parameters so that the kernel is a matrix, and statistics so that they travel too.
const EvaluateFn kToy = [](const Eigen::VectorXd& theta, std::uint64_t seed) {
  Stream rng(seed, 0, 0, 0, Purpose::calibration);
  boost::random::normal_distribution<double> normal(0.0, 0.3);
  Evaluation e;
  e.statistics = Eigen::Vector2d(theta[0] + normal(rng), theta[1] + normal(rng));
  e.distance = std::abs(e.statistics[0] - 0.3) + std::abs(e.statistics[1] - 0.6);
  return e;
};

AbcSettings toy_settings() {
  AbcSettings s;
  s.particles = 50;  // not a multiple of 3: the ranks' shares differ
  s.max_generations = 4;
  s.min_acceptance_rate = 0.0;
  s.seed = 11;
  s.threads = 1;
  return s;
}

Prior toy_prior() {
  Prior p;
  p.names = {"a", "b"};
  p.lo = Eigen::Vector2d(0.0, 0.0);
  p.hi = Eigen::Vector2d(1.0, 1.0);
  return p;
}

// An in-process all-gather for `size` threads: each hands in its bytes and receives
// everyone's, as MPI_Allgatherv does between processes.
class AllGather {
 public:
  explicit AllGather(int size) : size_(size), packs_(static_cast<std::size_t>(size)) {}
  std::vector<std::string> operator()(int rank, std::string mine) {
    std::unique_lock<std::mutex> lock(mutex_);
    const long round = round_;
    packs_[static_cast<std::size_t>(rank)] = std::move(mine);
    if (++arrived_ == size_) {
      result_ = packs_;
      arrived_ = 0;
      ++round_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return round_ != round; });
    }
    return result_;  // not overwritten before every rank has taken it: all must arrive again
  }

 private:
  int size_, arrived_ = 0;
  long round_ = 0;
  std::vector<std::string> packs_, result_;
  std::mutex mutex_;
  std::condition_variable done_;
};

// ABC-SMC on `size` stand-in processes; returns every rank's result, and in `errors` the
// message of what each rank threw (all empty unless asked for).
std::vector<AbcResult> run_shared(AbcSettings s, int size, const EvaluateFn& evaluate,
                                  std::vector<std::string>& errors) {
  AllGather gather(size);
  std::vector<AbcResult> results(static_cast<std::size_t>(size));
  errors.assign(static_cast<std::size_t>(size), "");
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < size; ++rank)
    ranks.emplace_back([&, rank, s]() mutable {
      s.sharing = {rank, size, [&gather, rank, size](std::vector<ParticleOutcome>& outcomes) {
                     const auto all = gather(rank, pack_outcomes(outcomes, rank, size));
                     for (int r = 0; r < size; ++r)
                       if (r != rank) unpack_outcomes(all[static_cast<std::size_t>(r)], outcomes);
                   }};
      try {
        results[static_cast<std::size_t>(rank)] = abc_smc(toy_prior(), s, evaluate);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(rank)] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  return results;
}

std::vector<AbcResult> run_shared(const AbcSettings& s, int size) {
  std::vector<std::string> errors;
  auto results = run_shared(s, size, kToy, errors);
  for (const auto& e : errors) REQUIRE(e.empty());
  return results;
}

void require_identical(const AbcResult& a, const AbcResult& b) {
  REQUIRE(a.generations.size() == b.generations.size());
  for (std::size_t g = 0; g < a.generations.size(); ++g) {
    INFO("generation " << g);
    const auto &x = a.generations[g], &y = b.generations[g];
    CHECK(x.tolerance == y.tolerance);
    CHECK(x.simulations == y.simulations);
    CHECK(x.particles == y.particles);  // exact: every coefficient
    CHECK(x.weights == y.weights);
    CHECK(x.distances == y.distances);
    CHECK(x.statistics == y.statistics);
  }
  CHECK(a.stop_reason == b.stop_reason);
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("abc_smc_sharing, packed outcomes carry every value bit for bit", "[calibration][mpi]") {
  std::vector<ParticleOutcome> all(5);
  for (std::size_t i = 0; i < all.size(); ++i) {
    all[i].theta = Eigen::Vector3d(0.1 * static_cast<double>(i), -0.0,
                                   std::numeric_limits<double>::denorm_min());
    all[i].eval.distance = 1.0 / 3.0 + static_cast<double>(i);
    all[i].eval.statistics = Eigen::VectorXd::Constant(static_cast<Eigen::Index>(i), 2.5);
    all[i].simulations = 1000 + static_cast<std::int64_t>(i);
    all[i].accepted = i % 2 == 0;
  }
  all[3].error = "particle 3 failed";
  all[3].theta.resize(0);  // not accepted: no parameters
  // Rank 1 of 2 packs particles 1 and 3; unpacked elsewhere, they are what rank 1 had.
  std::vector<ParticleOutcome> received(5);
  unpack_outcomes(pack_outcomes(all, 1, 2), received);
  for (std::size_t i : {std::size_t{1}, std::size_t{3}}) {
    INFO("particle " << i);
    CHECK(received[i].theta == all[i].theta);
    CHECK(received[i].eval.distance == all[i].eval.distance);
    CHECK(received[i].eval.statistics == all[i].eval.statistics);
    CHECK(received[i].simulations == all[i].simulations);
    CHECK(received[i].accepted == all[i].accepted);
    CHECK(received[i].error == all[i].error);
  }
  CHECK(std::signbit(received[1].theta[1]));  // -0.0 stays negative
  CHECK(received[0].simulations == 0);        // rank 0's particles untouched
  CHECK(received[2].theta.size() == 0);

  const std::string bytes = pack_outcomes(all, 1, 2);
  CHECK_THROWS_AS(unpack_outcomes(bytes.substr(0, bytes.size() - 3), received), std::runtime_error);
  std::vector<ParticleOutcome> too_few(2);
  CHECK_THROWS_AS(unpack_outcomes(bytes, too_few), std::runtime_error);  // particle 3 of 2
  CHECK_THROWS_AS(unpack_outcomes("not a record", received), std::runtime_error);
}

TEST_CASE("abc_smc_sharing, particles shared among 2 and 3 processes give the one-process result",
          "[calibration][mpi]") {
  const auto dir = test::fresh_dir("abc-sharing");
  AbcSettings s = toy_settings();
  s.checkpoint_key = "toy";
  s.checkpoint = dir / "one.checkpoint";
  const AbcResult one = abc_smc(toy_prior(), s, kToy);
  REQUIRE(one.generations.size() == 4);
  for (int size : {2, 3}) {
    INFO(size << " processes");
    s.checkpoint = dir / ("shared-" + std::to_string(size) + ".checkpoint");
    const auto results = run_shared(s, size);
    for (const AbcResult& r : results) require_identical(one, r);
    // Rank 0 alone wrote the checkpoint, and it is the one process's.
    CHECK(read_text(s.checkpoint) == read_text(dir / "one.checkpoint"));
  }
}

TEST_CASE("abc_smc_sharing, a shared run resumes from a one-process checkpoint",
          "[calibration][mpi]") {
  const auto dir = test::fresh_dir("abc-sharing-resume");
  AbcSettings s = toy_settings();
  s.checkpoint_key = "toy";
  s.checkpoint = dir / "whole.checkpoint";
  const AbcResult whole = abc_smc(toy_prior(), s, kToy);
  // Stopped after generation 1 by one process, continued by three.
  s.checkpoint = dir / "part.checkpoint";
  s.max_generations = 2;
  REQUIRE(abc_smc(toy_prior(), s, kToy).generations.size() == 2);
  s.max_generations = 4;
  const auto results = run_shared(s, 3);
  for (const AbcResult& r : results) {
    CHECK(r.resumed_generations == 2);
    require_identical(whole, r);
  }
  CHECK(read_text(s.checkpoint) == read_text(dir / "whole.checkpoint"));
}

TEST_CASE("abc_smc_sharing, an inconsistent sharing is refused", "[calibration][mpi]") {
  AbcSettings s = toy_settings();
  s.sharing = {2, 2, {}};
  CHECK_THROWS_AS(abc_smc(toy_prior(), s, kToy), std::invalid_argument);
  s.sharing = {0, 2, {}};  // several processes but nothing to share with
  CHECK_THROWS_AS(abc_smc(toy_prior(), s, kToy), std::invalid_argument);
}

TEST_CASE("abc_smc_sharing, an error in one process's particle stops every process with it",
          "[calibration][mpi]") {
  // Proposals with a > 0.95 fail: in generation 0 about 1 in 20 particles, on some rank.
  const EvaluateFn failing = [](const Eigen::VectorXd& theta, std::uint64_t seed) {
    if (theta[0] > 0.95) throw std::runtime_error("model failed at a = 0.95+");
    return kToy(theta, seed);
  };
  std::vector<std::string> errors;
  run_shared(toy_settings(), 3, failing, errors);
  for (const auto& e : errors) CHECK(e == "model failed at a = 0.95+");  // none waits forever
}
