// abc_smc: approximate Bayesian computation by sequential Monte Carlo, generic over a distance.
//
// The method is ABC-SMC (Toni et al. 2009, J. R. Soc. Interface 6:187) in the population
// Monte Carlo form of Beaumont et al. (2009, Biometrika 96:983), with an adaptive tolerance:
//
//   generation 0   N particles from the prior, every finite distance accepted (ε₀ = ∞);
//   generation g   ε_g = the q-quantile of generation g−1's accepted distances; a proposal
//                  takes a particle θ_j of generation g−1 with probability w_j and moves it by
//                  a multivariate normal kernel K with covariance Σ = 2 × the weighted
//                  covariance of generation g−1; proposals outside the prior's support are
//                  rejected without a simulation; a simulated proposal is accepted when its
//                  distance is finite and ≤ ε_g;
//   weights        w_i ∝ π(θ_i) / Σ_j w_j K(θ_i | θ_j), normalised to sum 1;
//   stop           after max_generations, when a generation's acceptance rate (accepted /
//                  simulations) falls below min_acceptance_rate, when ε_g ≤ min_tolerance, or
//                  when a particle exhausts max_attempts simulations (that generation is then
//                  discarded and the previous one is the result).
//
// The prior is uniform on a box, so π(θ) is a constant on the support and cancels.
//
// Reproducibility (DESIGN.md §1). Particles of a generation are evaluated in parallel
// (OpenMP, dynamic schedule over the particle index); every random number that particle i
// uses in generation g at attempt a comes from Stream(seed, g, i, a, Purpose::calibration),
// including the 64-bit seed handed to the distance callback for the simulation, and the
// previous generation is read-only while a generation runs. The result is therefore a pure
// function of the seed and the settings, bit for bit, for any number of threads.
//
// Nested parallelism is switched off while the algorithm runs (omp_set_max_active_levels(1),
// restored afterwards): a simulation inside a particle runs its own OpenMP loops on one
// thread, which is faster than oversubscribing and gives the same numbers.
//
// Across processes (`childsim-mpi calibrate`). With `sharing.size` > 1, process `rank` runs
// only the particles i with i mod size = rank (OpenMP within it, as above) and `sharing.share`
// hands every process the outcomes of the others, so that each holds the whole generation and
// computes the next tolerance, kernel and weights exactly as one process would: the result is
// bit-identical to one process for any number of ranks. Only rank 0 writes the checkpoint;
// every rank reads it at the start (a file system all ranks see).
//
// Checkpoints. With `checkpoint` set, all completed generations are written after each
// generation (text with hexadecimal floating point, so values round-trip exactly; written
// to a temporary name and renamed). The file carries a hash of `checkpoint_key` and of every
// setting that changes the generations; a later call with the same hash resumes after the
// last completed generation, and its result is bit-identical to an uninterrupted run.
// `max_generations` and `min_acceptance_rate` are stop rules, not part of the hash: a run
// stopped by max_generations may be continued with a larger value.
#pragma once

#include <Eigen/Dense>  // Eigen::VectorXd, Eigen::MatrixXd

#include <cstdint>     // std::uint64_t, std::int64_t
#include <filesystem>  // std::filesystem::path
#include <functional>  // std::function
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim::calibration {

/// A uniform prior on the box [lo, hi] (lo < hi in every coordinate).
struct Prior {
  std::vector<std::string> names;
  Eigen::VectorXd lo, hi;
  int dim() const { return static_cast<int>(lo.size()); }
  bool contains(const Eigen::VectorXd& theta) const;
};

/// What one simulation returns: its distance to the data and, optionally, the summary
/// statistics behind it (kept for accepted particles, e.g. for posterior predictive checks).
struct Evaluation {
  double distance = 0.0;
  Eigen::VectorXd statistics;
};

/// One completed generation. Rows of `particles` and `statistics` are particles.
struct Generation {
  Eigen::MatrixXd particles;     ///< N × d accepted parameter vectors
  Eigen::VectorXd weights;       ///< N importance weights, summing to 1
  Eigen::VectorXd distances;     ///< N accepted distances (each ≤ tolerance)
  Eigen::MatrixXd statistics;    ///< N × s statistics of the accepted simulations (s may be 0)
  double tolerance = 0.0;        ///< ε of this generation (+∞ for generation 0)
  std::int64_t simulations = 0;  ///< simulations run (proposals outside the prior excluded)
  double acceptance_rate() const;
  double effective_sample_size() const;  ///< 1 / Σ w²
};

/// Progress of the algorithm, reported after each generation.
struct GenerationReport {
  int generation = 0;
  int max_generations = 0;
  double tolerance = 0.0;
  double acceptance_rate = 0.0;
  std::int64_t simulations = 0;
  double effective_sample_size = 0.0;
  double elapsed_seconds = 0.0;  ///< since the start of this call
  bool resumed = false;          ///< read from the checkpoint, not computed
};

/// What one particle of a generation came to: what process `rank` hands the others.
struct ParticleOutcome {
  Eigen::VectorXd theta;  ///< the accepted parameters (empty if not accepted)
  Evaluation eval;        ///< its distance and statistics
  std::int64_t simulations = 0;
  bool accepted = false;
  std::string error;  ///< non-empty: the callback threw, with this message
};

/// Spreading each generation's particles over processes (see the header's prose).
struct ParticleSharing {
  int rank = 0;  ///< this process, in [0, size)
  int size = 1;  ///< processes; 1: everything here, `share` unused
  /// Called once per generation with every particle's outcome, this process's filled in
  /// (indices i with i mod size = rank); must fill in all the others, as the other
  /// processes computed them (pack_outcomes / unpack_outcomes carry them exactly).
  std::function<void(std::vector<ParticleOutcome>& outcomes)> share;
};

struct AbcSettings {
  int particles = 100;              ///< N, particles per generation
  int max_generations = 5;          ///< including generation 0
  double tolerance_quantile = 0.5;  ///< q in (0, 1]
  double min_acceptance_rate = 0.01;
  double min_tolerance = 0.0;  ///< ε never goes below this; reaching it stops the run
  int max_attempts = 10000;    ///< simulations per particle and generation (≤ 65535)
  std::uint64_t seed = 1;
  int threads = 0;                   ///< OpenMP threads for the particle loop; 0: the default
  std::filesystem::path checkpoint;  ///< empty: no checkpoint
  std::string checkpoint_key;        ///< identifies the problem (e.g. the calibration file text)
  std::function<void(const GenerationReport&)> on_generation;  ///< progress (optional)
  /// Told at the start what happened to an existing checkpoint (resumed or ignored).
  std::function<void(const std::string&)> on_message;
  ParticleSharing sharing;  ///< across processes; default: one process
};

struct AbcResult {
  Prior prior;
  std::vector<Generation> generations;  ///< completed generations; the last is the posterior
  std::string stop_reason;
  int resumed_generations = 0;  ///< generations taken from the checkpoint
  std::string checkpoint_note;  ///< what happened to an existing checkpoint, for the user
  const Generation& posterior() const { return generations.back(); }
};

/// The distance between data simulated at θ (with randomness keyed by `particle_seed`) and
/// the observed data. Called concurrently from several threads: it must be thread-safe, and
/// its result must depend only on its arguments.
using DistanceFn = std::function<double(const Eigen::VectorXd& theta, std::uint64_t particle_seed)>;
/// The same, also returning summary statistics (a fixed number for every call).
using EvaluateFn =
    std::function<Evaluation(const Eigen::VectorXd& theta, std::uint64_t particle_seed)>;

/// Run ABC-SMC. Throws std::invalid_argument for inconsistent settings, std::runtime_error
/// if generation 0 cannot be completed or a checkpoint cannot be written, and rethrows the
/// first exception (by particle index) thrown by the callback.
AbcResult abc_smc(const Prior& prior, const AbcSettings& settings, const DistanceFn& distance);
AbcResult abc_smc(const Prior& prior, const AbcSettings& settings, const EvaluateFn& evaluate);

// --- building blocks, public for tests and diagnostics ----------------------------------

/// Lower Cholesky factor L of the kernel covariance Σ = 2 × weighted covariance of `prev`
/// (LL^T = Σ). A degenerate covariance (particles on a point or a line: LLT fails or a pivot
/// is below (1e-6 × prior width)²) is replaced by its diagonal with that floor, so that the
/// kernel always has full support.
Eigen::MatrixXd kernel_cholesky(const Generation& prev, const Prior& prior);
/// Weighted mean and (biased, Σ w (θ − m)(θ − m)ᵀ) covariance of the rows of `x`; `w` sums to 1.
Eigen::MatrixXd weighted_covariance(const Eigen::MatrixXd& x, const Eigen::VectorXd& w);
/// The q-quantile of `values` by linear interpolation between order statistics (NumPy's
/// default, "type 7").
double quantile(std::vector<double> values, double q);
/// The weighted q-quantile of `values` (the smallest value whose cumulative weight reaches q).
double weighted_quantile(const Eigen::VectorXd& values, const Eigen::VectorXd& weights, double q);
/// The outcomes of the particles i with i mod size = rank, as bytes (exact: doubles are
/// copied bit for bit) for another process's unpack_outcomes.
std::string pack_outcomes(const std::vector<ParticleOutcome>& outcomes, int rank, int size);
/// Fill `outcomes` with what pack_outcomes packed (the indices it names); throws
/// std::runtime_error if `bytes` is not such a record.
void unpack_outcomes(const std::string& bytes, std::vector<ParticleOutcome>& outcomes);
/// FNV-1a 64-bit hash of `text` (checkpoint identity; not cryptographic).
std::uint64_t fnv1a64(const std::string& text);

}  // namespace childsim::calibration
