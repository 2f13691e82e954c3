// abc_smc: the generations, the kernel, the weights and the checkpoint file.
#include "sim/calibration/abc_smc.hpp"

#include "sim/core/rng.hpp"  // Stream, Purpose

#include <fmt/format.h>                          // fmt::format
#include <boost/random/normal_distribution.hpp>  // boost::random::normal_distribution

#include <omp.h>  // omp_get_max_threads, omp_set_num_threads, omp_set_max_active_levels

#include <algorithm>  // std::sort, std::max, std::upper_bound
#include <chrono>     // std::chrono::steady_clock
#include <cmath>      // std::isfinite, std::exp, std::log, std::floor
#include <cstdio>     // std::fopen, std::fputs, std::fclose, std::rename
#include <cstring>    // std::memcpy
#include <exception>  // std::exception_ptr
#include <fstream>    // std::ifstream
#include <limits>     // std::numeric_limits
#include <optional>   // std::optional
#include <sstream>    // std::istringstream, std::ostringstream
#include <stdexcept>  // std::invalid_argument, std::runtime_error

#include <unistd.h>  // fsync, getpid

namespace childsim::calibration {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
// Attempts are the month field of the Philox counter (16 bits), generations its replicate
// field (16 bits).
constexpr int max_attempt_index = 65535;
constexpr int max_generation_index = 65535;

// A uniform double in [0, 1) with 53 random bits (two words of the stream).
double uniform53(Stream& rng) {
  const std::uint64_t hi = rng(), lo = rng();
  return static_cast<double>(((hi << 32) | lo) >> 11) * 0x1p-53;
}

std::uint64_t next_u64(Stream& rng) {
  const std::uint64_t hi = rng();
  return (hi << 32) | rng();
}

// Switches nested OpenMP parallelism off for the lifetime of the object (see the header).
class NestedParallelismOff {
 public:
  NestedParallelismOff() : saved_(omp_get_max_active_levels()) { omp_set_max_active_levels(1); }
  ~NestedParallelismOff() { omp_set_max_active_levels(saved_); }
  NestedParallelismOff(const NestedParallelismOff&) = delete;
  NestedParallelismOff& operator=(const NestedParallelismOff&) = delete;

 private:
  int saved_;
};

void validate(const Prior& prior, const AbcSettings& s) {
  auto bad = [](const std::string& m) { throw std::invalid_argument("abc_smc: " + m); };
  if (prior.dim() < 1) bad("the prior has no parameters");
  if (prior.hi.size() != prior.lo.size() ||
      static_cast<std::size_t>(prior.dim()) != prior.names.size())
    bad("prior names, lo and hi differ in length");
  for (int k = 0; k < prior.dim(); ++k)
    if (!std::isfinite(prior.lo[k]) || !std::isfinite(prior.hi[k]) || !(prior.lo[k] < prior.hi[k]))
      bad(fmt::format("prior of '{}' is not a finite interval lo < hi", prior.names[k]));
  if (s.particles < 2) bad("particles must be at least 2");
  if (s.max_generations < 1 || s.max_generations > max_generation_index)
    bad(fmt::format("max_generations must be in [1, {}]", max_generation_index));
  if (!(s.tolerance_quantile > 0 && s.tolerance_quantile <= 1))
    bad("tolerance_quantile must be in (0, 1]");
  if (!(s.min_acceptance_rate >= 0 && s.min_acceptance_rate <= 1))
    bad("min_acceptance_rate must be in [0, 1]");
  if (!(s.min_tolerance >= 0)) bad("min_tolerance must be >= 0");
  if (s.max_attempts < 1 || s.max_attempts > max_attempt_index)
    bad(fmt::format("max_attempts must be in [1, {}]", max_attempt_index));
  if (s.sharing.size < 1 || s.sharing.rank < 0 || s.sharing.rank >= s.sharing.size)
    bad("sharing: rank must be in [0, size)");
  if (s.sharing.size > 1 && !s.sharing.share) bad("sharing: several processes but no share");
}

// Everything that changes the generations (not the stop rules), for the checkpoint hash.
std::string identity_text(const Prior& prior, const AbcSettings& s) {
  std::string t = fmt::format(
      "childsim abc_smc 1\nparticles {}\ntolerance_quantile {:a}\nmin_tolerance {:a}\n"
      "max_attempts {}\nseed {}\n",
      s.particles, s.tolerance_quantile, s.min_tolerance, s.max_attempts, s.seed);
  for (int k = 0; k < prior.dim(); ++k)
    t += fmt::format("prior {} {:a} {:a}\n", prior.names[static_cast<std::size_t>(k)], prior.lo[k],
                     prior.hi[k]);
  return t + "key\n" + s.checkpoint_key;
}

// --- the kernel --------------------------------------------------------------------------

// w_i ∝ 1 / Σ_j w_j K(θ_i | θ_j) (uniform prior: π(θ_i) is a constant on the support), in
// log space; K's normalising constant is common to all terms and cancels.
Eigen::VectorXd importance_weights(const Generation& prev, const Eigen::MatrixXd& theta,
                                   const Eigen::MatrixXd& l, int threads) {
  const Eigen::Index n = theta.rows(), m = prev.particles.rows(), d = theta.cols();
  // Whitened coordinates: |L⁻¹(θ_i − θ_j)|² = |y_i − y_j|². One vector solve per particle
  // (no matrix products, so Eigen's own threading never enters).
  const auto lower = l.triangularView<Eigen::Lower>();
  Eigen::MatrixXd yp(d, m), yn(d, n);
  for (Eigen::Index j = 0; j < m; ++j)
    yp.col(j) = lower.solve(Eigen::VectorXd(prev.particles.row(j).transpose()));
  for (Eigen::Index i = 0; i < n; ++i)
    yn.col(i) = lower.solve(Eigen::VectorXd(theta.row(i).transpose()));
  Eigen::VectorXd log_prev(m);
  for (Eigen::Index j = 0; j < m; ++j)
    log_prev[j] = prev.weights[j] > 0 ? std::log(prev.weights[j]) : -inf;

  Eigen::VectorXd log_w(n);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::VectorXd t(m);
    double top = -inf;
    for (Eigen::Index j = 0; j < m; ++j) {
      t[j] = log_prev[j] - 0.5 * (yn.col(i) - yp.col(j)).squaredNorm();
      top = std::max(top, t[j]);
    }
    double sum = 0.0;
    for (Eigen::Index j = 0; j < m; ++j) sum += std::exp(t[j] - top);
    log_w[i] = -(top + std::log(sum));
  }
  const double top = log_w.maxCoeff();
  Eigen::VectorXd w(n);
  double total = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) total += (w[i] = std::exp(log_w[i] - top));
  return w / total;
}

// --- one generation ----------------------------------------------------------------------

struct Slot {
  Eigen::VectorXd theta;
  Evaluation eval;
  std::int64_t simulations = 0;
  bool accepted = false;
  std::exception_ptr error;  // thrown here
  std::string remote_error;  // thrown in another process (ParticleSharing)
};

// The message that stands for `error` in the other processes; never empty (empty means none).
std::string message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return *e.what() ? e.what() : "exception without a message";
  } catch (...) {
    return "unknown exception";
  }
}

// Hands this process's slots to the others and fills in theirs (ParticleSharing).
void share_slots(const ParticleSharing& sharing, std::vector<Slot>& slots) {
  std::vector<ParticleOutcome> outcomes(slots.size());
  const auto size = static_cast<std::size_t>(sharing.size);
  for (std::size_t i = static_cast<std::size_t>(sharing.rank); i < slots.size(); i += size) {
    const Slot& slot = slots[i];
    outcomes[i] = {slot.theta, slot.eval, slot.simulations, slot.accepted,
                   slot.error ? message_of(slot.error) : std::string()};
  }
  sharing.share(outcomes);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (i % size == static_cast<std::size_t>(sharing.rank)) continue;
    ParticleOutcome& o = outcomes[i];
    slots[i].theta = std::move(o.theta);
    slots[i].eval = std::move(o.eval);
    slots[i].simulations = o.simulations;
    slots[i].accepted = o.accepted;
    slots[i].remote_error = std::move(o.error);
  }
}

// --- packing outcomes into bytes (pack_outcomes) ------------------------------------------

template <typename T>
void put(std::string& out, const T& value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_vector(std::string& out, const Eigen::VectorXd& v) {
  put(out, static_cast<std::int64_t>(v.size()));
  for (Eigen::Index k = 0; k < v.size(); ++k) put(out, v[k]);
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    if (bytes_.size() - pos_ < sizeof(T))
      throw std::runtime_error("abc_smc: a packed particle record ends early");
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::int64_t length() {
    const auto n = get<std::int64_t>();
    if (n < 0 || static_cast<std::uint64_t>(n) > bytes_.size() - pos_)
      throw std::runtime_error("abc_smc: a packed particle record has a bad length");
    return n;
  }
  Eigen::VectorXd vector() {
    Eigen::VectorXd v(length());
    for (Eigen::Index k = 0; k < v.size(); ++k) v[k] = get<double>();
    return v;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  std::size_t pos_ = 0;
};

constexpr std::uint64_t pack_magic = 0x31636261'6d697363ull;  // "csimabc1"

struct GenerationContext {
  const Prior& prior;
  const AbcSettings& s;
  const EvaluateFn& evaluate;
  int g;
  double tolerance;
  const Generation* prev;          // null for generation 0
  std::vector<double> cumulative;  // of prev weights
  Eigen::MatrixXd l;               // kernel factor
};

// Propose, simulate and test until particle i of generation g is accepted or out of attempts.
Slot run_particle(const GenerationContext& cx, std::int64_t i) {
  Slot slot;
  const Eigen::Index d = cx.prior.dim();
  for (int a = 0; a <= max_attempt_index; ++a) {
    Stream rng(cx.s.seed, static_cast<std::uint32_t>(cx.g), static_cast<std::uint64_t>(i),
               static_cast<std::uint32_t>(a), Purpose::calibration);
    Eigen::VectorXd theta(d);
    if (!cx.prev) {
      for (Eigen::Index k = 0; k < d; ++k)
        theta[k] = cx.prior.lo[k] + (cx.prior.hi[k] - cx.prior.lo[k]) * uniform53(rng);
    } else {
      const double u = uniform53(rng) * cx.cumulative.back();
      auto it = std::upper_bound(cx.cumulative.begin(), cx.cumulative.end(), u);
      if (it == cx.cumulative.end()) --it;
      const auto j = static_cast<Eigen::Index>(it - cx.cumulative.begin());
      boost::random::normal_distribution<double> normal(0.0, 1.0);
      Eigen::VectorXd z(d);
      for (Eigen::Index k = 0; k < d; ++k) z[k] = normal(rng);
      theta = cx.prev->particles.row(j).transpose() + cx.l * z;
      if (!cx.prior.contains(theta)) continue;  // outside the support: no simulation
    }
    const std::uint64_t particle_seed = next_u64(rng);
    ++slot.simulations;
    Evaluation e = cx.evaluate(theta, particle_seed);
    if (std::isfinite(e.distance) && e.distance <= cx.tolerance) {
      slot.theta = std::move(theta);
      slot.eval = std::move(e);
      slot.accepted = true;
      return slot;
    }
    if (slot.simulations >= cx.s.max_attempts) break;
  }
  return slot;
}

// Runs generation g; returns nothing (and sets `why`) if some particle was not accepted.
std::optional<Generation> run_generation(const Prior& prior, const AbcSettings& s,
                                         const EvaluateFn& evaluate, int g, const Generation* prev,
                                         int threads, std::string& why) {
  GenerationContext cx{prior, s, evaluate, g, inf, prev, {}, {}};
  if (prev) {
    cx.tolerance =
        std::max(quantile(std::vector<double>(prev->distances.data(),
                                              prev->distances.data() + prev->distances.size()),
                          s.tolerance_quantile),
                 s.min_tolerance);
    double c = 0.0;
    for (Eigen::Index j = 0; j < prev->weights.size(); ++j)
      cx.cumulative.push_back(c += prev->weights[j]);
    cx.l = kernel_cholesky(*prev, prior);
  }
  const std::int64_t n = s.particles;
  std::vector<Slot> slots(static_cast<std::size_t>(n));
  // This process's particles: i = rank, rank + size, ... (all of them in one process).
  const std::int64_t rank = s.sharing.rank, size = s.sharing.size;
  const std::int64_t mine = n > rank ? (n - rank + size - 1) / size : 0;
#pragma omp parallel num_threads(threads)
  {
    // The simulation's own parallel loops run on this thread. max_active_levels(1) does this
    // when the team has several threads; with one thread the region is inactive and nested
    // regions would otherwise start a full team each (measured: 40 % of the time spinning).
    // nthreads-var is per task, so this does not leak out of the region.
    omp_set_num_threads(1);
#pragma omp for schedule(dynamic)
    for (std::int64_t k = 0; k < mine; ++k) {
      const std::int64_t i = rank + k * size;
      try {
        slots[static_cast<std::size_t>(i)] = run_particle(cx, i);
      } catch (...) {
        slots[static_cast<std::size_t>(i)].error = std::current_exception();
      }
    }
  }
  if (size > 1) share_slots(s.sharing, slots);
  for (const Slot& slot : slots) {
    if (slot.error) std::rethrow_exception(slot.error);
    if (!slot.remote_error.empty()) throw std::runtime_error(slot.remote_error);
  }

  Generation gen;
  gen.tolerance = cx.tolerance;
  for (std::int64_t i = 0; i < n; ++i) {
    const Slot& slot = slots[static_cast<std::size_t>(i)];
    gen.simulations += slot.simulations;
    if (!slot.accepted && why.empty())
      why = fmt::format(
          "generation {}: particle {} was not accepted within max_attempts = {} simulations "
          "(tolerance {:.6g})",
          g, i, s.max_attempts, cx.tolerance);
  }
  if (!why.empty()) return std::nullopt;

  const Eigen::Index d = prior.dim();
  const Eigen::Index ns = slots.front().eval.statistics.size();
  gen.particles.resize(n, d);
  gen.distances.resize(n);
  gen.statistics.resize(n, ns);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Slot& slot = slots[static_cast<std::size_t>(i)];
    if (slot.eval.statistics.size() != ns)
      throw std::runtime_error("abc_smc: the callback returned statistics of varying length");
    gen.particles.row(i) = slot.theta.transpose();
    gen.distances[i] = slot.eval.distance;
    if (ns > 0) gen.statistics.row(i) = slot.eval.statistics.transpose();
  }
  gen.weights = prev ? importance_weights(*prev, gen.particles, cx.l, threads)
                     : Eigen::VectorXd::Constant(n, 1.0 / static_cast<double>(n));
  return gen;
}

// --- checkpoint --------------------------------------------------------------------------

void write_checkpoint(const std::filesystem::path& path, std::uint64_t hash,
                      const std::vector<Generation>& gens) {
  const Generation& first = gens.front();
  std::string text = fmt::format(
      "# childsim ABC-SMC checkpoint: completed generations, exact (hexadecimal) values.\n"
      "# A run with the same calibration resumes from here; delete the file to start afresh.\n"
      "format 1\nhash {:016x}\nshape {} {} {}\ngenerations {}\n",
      hash, first.particles.rows(), first.particles.cols(), first.statistics.cols(), gens.size());
  for (std::size_t g = 0; g < gens.size(); ++g) {
    const Generation& gen = gens[g];
    text += fmt::format("generation {} {:a} {}\n", g, gen.tolerance, gen.simulations);
    for (Eigen::Index i = 0; i < gen.particles.rows(); ++i) {
      for (Eigen::Index k = 0; k < gen.particles.cols(); ++k)
        text += fmt::format("{:a} ", gen.particles(i, k));
      text += fmt::format("{:a} {:a}", gen.weights[i], gen.distances[i]);
      for (Eigen::Index k = 0; k < gen.statistics.cols(); ++k)
        text += fmt::format(" {:a}", gen.statistics(i, k));
      text += '\n';
    }
  }
  text += "end\n";
  const std::filesystem::path tmp =
      path.string() + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error(fmt::format("cannot write checkpoint '{}'", tmp.string()));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() &&
                  std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::filesystem::remove(tmp);
    throw std::runtime_error(fmt::format("cannot write checkpoint '{}'", path.string()));
  }
}

double parse_real(const std::string& token, const std::filesystem::path& path) {
  char* end = nullptr;
  const double v = std::strtod(token.c_str(), &end);
  if (token.empty() || *end != '\0')
    throw std::runtime_error(fmt::format("checkpoint '{}' is damaged (bad number '{}'); delete it",
                                         path.string(), token));
  return v;
}

// The generations of a checkpoint with hash `hash`, or nothing (with `note` saying why).
std::vector<Generation> read_checkpoint(const std::filesystem::path& path, std::uint64_t hash,
                                        const Prior& prior, int particles, std::string& note) {
  std::ifstream in(path);
  if (!in) return {};
  std::string line, word;
  auto next_line = [&]() {
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#') return true;
    throw std::runtime_error(
        fmt::format("checkpoint '{}' is damaged (ends early); delete it", path.string()));
  };
  next_line();
  if (line != "format 1") {
    note = fmt::format("ignored checkpoint '{}' (unknown format)", path.string());
    return {};
  }
  next_line();
  if (line != fmt::format("hash {:016x}", hash)) {
    note = fmt::format(
        "ignored checkpoint '{}': it belongs to a different calibration (file, "
        "settings or program version); it will be overwritten",
        path.string());
    return {};
  }
  next_line();
  std::istringstream shape(line);
  long n = 0, d = 0, ns = 0, count = 0;
  shape >> word >> n >> d >> ns;
  next_line();
  std::istringstream gl(line);
  gl >> word >> count;
  if (n != particles || d != prior.dim() || ns < 0 || count < 1)
    throw std::runtime_error(
        fmt::format("checkpoint '{}' is damaged (shape); delete it", path.string()));
  std::vector<Generation> gens;
  for (long g = 0; g < count; ++g) {
    next_line();
    std::istringstream head(line);
    long index = -1;
    std::string tol;
    Generation gen;
    head >> word >> index >> tol >> gen.simulations;
    if (word != "generation" || index != g)
      throw std::runtime_error(
          fmt::format("checkpoint '{}' is damaged (generation {}); delete it", path.string(), g));
    gen.tolerance = parse_real(tol, path);
    if (std::isnan(gen.tolerance))
      throw std::runtime_error(
          fmt::format("checkpoint '{}' is damaged (generation {}: tolerance is NaN); delete it",
                      path.string(), g));
    gen.particles.resize(n, d);
    gen.weights.resize(n);
    gen.distances.resize(n);
    gen.statistics.resize(n, ns);
    for (long i = 0; i < n; ++i) {
      next_line();
      std::istringstream row(line);
      std::vector<double> v;
      while (row >> word) v.push_back(parse_real(word, path));
      if (static_cast<long>(v.size()) != d + 2 + ns)
        throw std::runtime_error(
            fmt::format("checkpoint '{}' is damaged (generation {}, particle {}); delete it",
                        path.string(), g, i));
      std::size_t c = 0;
      for (long k = 0; k < d; ++k) gen.particles(i, k) = v[c++];
      gen.weights[i] = v[c++];
      gen.distances[i] = v[c++];
      // strtod reads "nan" and "inf": a particle or weight that is not a finite number, or a
      // distance that is NaN, is damage (hand edits, a bad disk), never a result to resume.
      const bool finite_particle = gen.particles.row(i).allFinite();
      if (!finite_particle || !std::isfinite(gen.weights[i]) || gen.weights[i] < 0 ||
          std::isnan(gen.distances[i]))
        throw std::runtime_error(fmt::format(
            "checkpoint '{}' is damaged (generation {}, particle {}: {} is not a finite "
            "number); delete it",
            path.string(), g, i,
            !finite_particle ? "a parameter value"
                             : (std::isnan(gen.distances[i]) ? "the distance" : "the weight")));
      for (long k = 0; k < ns; ++k) gen.statistics(i, k) = v[c++];
    }
    gens.push_back(std::move(gen));
  }
  next_line();
  if (line != "end")
    throw std::runtime_error(
        fmt::format("checkpoint '{}' is damaged (no end); delete it", path.string()));
  return gens;
}

// Why the run stops after generation g (the last in `gens`), or "" to continue.
std::string stop_after(const std::vector<Generation>& gens, const AbcSettings& s) {
  const auto g = static_cast<int>(gens.size()) - 1;
  const Generation& gen = gens.back();
  if (g > 0 && gen.acceptance_rate() < s.min_acceptance_rate)
    return fmt::format("generation {}: acceptance rate {:.4g} below min_acceptance_rate {}", g,
                       gen.acceptance_rate(), s.min_acceptance_rate);
  if (gen.tolerance <= s.min_tolerance)
    return fmt::format("generation {}: tolerance reached min_tolerance {}", g, s.min_tolerance);
  if (g + 1 >= s.max_generations)
    return fmt::format("reached max_generations = {}", s.max_generations);
  return "";
}

}  // namespace

bool Prior::contains(const Eigen::VectorXd& theta) const {
  for (Eigen::Index k = 0; k < theta.size(); ++k)
    if (!(theta[k] >= lo[k] && theta[k] <= hi[k])) return false;
  return true;
}

double Generation::acceptance_rate() const {
  return simulations > 0 ? static_cast<double>(particles.rows()) / static_cast<double>(simulations)
                         : 0.0;
}

double Generation::effective_sample_size() const {
  return 1.0 / weights.squaredNorm();
}

Eigen::MatrixXd kernel_cholesky(const Generation& prev, const Prior& prior) {
  const Eigen::Index d = prior.dim();
  const Eigen::MatrixXd sigma = 2.0 * weighted_covariance(prev.particles, prev.weights);
  const Eigen::VectorXd floor = ((prior.hi - prior.lo) * 1e-6).array().square().matrix();
  const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
  if (llt.info() == Eigen::Success) {
    const Eigen::MatrixXd l = llt.matrixL();
    bool ok = true;
    for (Eigen::Index k = 0; k < d; ++k) ok = ok && l(k, k) * l(k, k) >= floor[k];
    if (ok) return l;
  }
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(d, d);
  for (Eigen::Index k = 0; k < d; ++k) l(k, k) = std::sqrt(std::max(sigma(k, k), floor[k]));
  return l;
}

Eigen::MatrixXd weighted_covariance(const Eigen::MatrixXd& x, const Eigen::VectorXd& w) {
  const Eigen::Index n = x.rows(), d = x.cols();
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(d);
  for (Eigen::Index i = 0; i < n; ++i) mean += w[i] * x.row(i).transpose();
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(d, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::VectorXd dev = x.row(i).transpose() - mean;
    for (Eigen::Index a = 0; a < d; ++a)
      for (Eigen::Index b = 0; b < d; ++b) c(a, b) += w[i] * dev[a] * dev[b];
  }
  return c;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile of no values");
  std::sort(values.begin(), values.end());
  const double h = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= values.size()) return values.back();
  return values[lo] + (h - static_cast<double>(lo)) * (values[lo + 1] - values[lo]);
}

double weighted_quantile(const Eigen::VectorXd& values, const Eigen::VectorXd& weights, double q) {
  std::vector<Eigen::Index> order(static_cast<std::size_t>(values.size()));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<Eigen::Index>(i);
  std::sort(order.begin(), order.end(),
            [&](Eigen::Index a, Eigen::Index b) { return values[a] < values[b]; });
  const double total = weights.sum();
  double c = 0.0;
  for (Eigen::Index i : order) {
    c += weights[i];
    if (c >= q * total) return values[i];
  }
  return values[order.back()];
}

std::string pack_outcomes(const std::vector<ParticleOutcome>& outcomes, int rank, int size) {
  std::string out;
  put(out, pack_magic);
  for (std::size_t i = static_cast<std::size_t>(rank); i < outcomes.size();
       i += static_cast<std::size_t>(size)) {
    const ParticleOutcome& o = outcomes[i];
    put(out, static_cast<std::int64_t>(i));
    put(out, static_cast<std::int64_t>(o.accepted ? 1 : 0));
    put(out, o.simulations);
    put_vector(out, o.theta);
    put(out, o.eval.distance);
    put_vector(out, o.eval.statistics);
    put(out, static_cast<std::int64_t>(o.error.size()));
    out += o.error;
  }
  return out;
}

void unpack_outcomes(const std::string& bytes, std::vector<ParticleOutcome>& outcomes) {
  Reader in(bytes);
  if (in.get<std::uint64_t>() != pack_magic)
    throw std::runtime_error("abc_smc: not a packed particle record");
  while (!in.done()) {
    const auto i = in.get<std::int64_t>();
    if (i < 0 || static_cast<std::size_t>(i) >= outcomes.size())
      throw std::runtime_error("abc_smc: a packed particle record names a particle out of range");
    ParticleOutcome& o = outcomes[static_cast<std::size_t>(i)];
    o.accepted = in.get<std::int64_t>() != 0;
    o.simulations = in.get<std::int64_t>();
    o.theta = in.vector();
    o.eval.distance = in.get<double>();
    o.eval.statistics = in.vector();
    o.error.resize(static_cast<std::size_t>(in.length()));
    for (char& c : o.error) c = in.get<char>();
  }
}

std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

AbcResult abc_smc(const Prior& prior, const AbcSettings& s, const DistanceFn& distance) {
  const EvaluateFn evaluate = [&distance](const Eigen::VectorXd& theta, std::uint64_t seed) {
    return Evaluation{distance(theta, seed), Eigen::VectorXd()};
  };
  return abc_smc(prior, s, evaluate);
}

AbcResult abc_smc(const Prior& prior, const AbcSettings& s, const EvaluateFn& evaluate) {
  validate(prior, s);
  const auto start = std::chrono::steady_clock::now();
  const int threads = s.threads > 0 ? s.threads : omp_get_max_threads();
  const std::uint64_t hash = fnv1a64(identity_text(prior, s));
  AbcResult res;
  res.prior = prior;
  auto report = [&](std::size_t g, bool resumed) {
    if (!s.on_generation) return;
    const Generation& gen = res.generations[g];
    s.on_generation(GenerationReport{
        static_cast<int>(g), s.max_generations, gen.tolerance, gen.acceptance_rate(),
        gen.simulations, gen.effective_sample_size(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), resumed});
  };

  if (!s.checkpoint.empty() && std::filesystem::exists(s.checkpoint)) {
    std::vector<Generation> loaded =
        read_checkpoint(s.checkpoint, hash, prior, s.particles, res.checkpoint_note);
    for (auto& gen : loaded) {
      if (static_cast<int>(res.generations.size()) >= s.max_generations) break;
      res.generations.push_back(std::move(gen));
      ++res.resumed_generations;
      res.stop_reason = stop_after(res.generations, s);
      if (!res.stop_reason.empty()) break;
    }
    if (res.resumed_generations > 0)
      res.checkpoint_note = fmt::format("resumed from checkpoint '{}' after {} generation(s)",
                                        s.checkpoint.string(), res.resumed_generations);
    if (!res.checkpoint_note.empty() && s.on_message) s.on_message(res.checkpoint_note);
    for (std::size_t g = 0; g < res.generations.size(); ++g) report(g, true);
    if (!res.stop_reason.empty()) return res;
  }

  const NestedParallelismOff nested_off;
  for (int g = static_cast<int>(res.generations.size());; ++g) {
    std::string why;
    const Generation* prev = res.generations.empty() ? nullptr : &res.generations.back();
    std::optional<Generation> gen = run_generation(prior, s, evaluate, g, prev, threads, why);
    if (!gen) {
      if (g == 0) throw std::runtime_error("abc_smc: " + why);
      res.stop_reason = why + "; the previous generation is the result";
      break;
    }
    res.generations.push_back(std::move(*gen));
    if (!s.checkpoint.empty() && s.sharing.rank == 0)
      write_checkpoint(s.checkpoint, hash, res.generations);
    report(res.generations.size() - 1, false);
    res.stop_reason = stop_after(res.generations, s);
    if (!res.stop_reason.empty()) break;
  }
  return res;
}

}  // namespace childsim::calibration
