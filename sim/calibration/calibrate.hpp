// calibrate: ABC-SMC on the agent-based model — the calibration file's parameters, fitted to
// its targets — and the posterior file.
//
// One simulation for a proposed parameter vector θ copies the base scenario, sets θ in its
// parameter table, gives it the particle's seed (from the ABC stream, so simulations are
// reproducible and independent), builds a Model and runs `replicates` replicates up to the
// last target year; the target statistics are reduced from the recorder (targets.hpp) and the
// distance is the root mean square of the standardised differences of the fitted targets.
//
// The posterior file is netCDF-4-compatible HDF5 (io::write_dataset, written to a temporary
// name and renamed) with dimensions generation, particle, parameter and target:
//   particles(generation, particle, parameter)   accepted parameter vectors
//   weights(generation, particle)                importance weights (sum 1 per generation)
//   distances(generation, particle)              their distances
//   simulated(generation, particle, target)      their target statistics
//   tolerance, acceptance_rate, simulations, effective_sample_size (generation)
//   prior_lo, prior_hi, parameter_default (parameter) with parameter_unit
//   observed, observed_sd, fitted (target) with target_description, target_source, ...
// and attributes holding the calibration file text, the resolved base scenario, seed,
// version and the reason the run stopped. The last generation is the posterior.
#pragma once

#include "sim/calibration/abc_smc.hpp"  // AbcResult, GenerationReport, ParticleSharing
#include "sim/calibration/targets.hpp"  // CalibrationSpec
#include "sim/io/dataset.hpp"           // Dataset

#include <filesystem>  // std::filesystem::path
#include <functional>  // std::function
#include <string>      // std::string

namespace childsim::calibration {

struct CalibrateOptions {
  int threads = 0;      ///< OpenMP threads over particles; 0: the OpenMP default
  int generations = 0;  ///< overrides abc.max_generations when > 0
  int particles = 0;    ///< overrides abc.particles when > 0
  bool resume = true;   ///< resume from a matching checkpoint
  std::function<void(const GenerationReport&)> progress;  ///< after each generation
  std::function<void(const std::string&)> message;        ///< checkpoint resumed or ignored
  ParticleSharing sharing;  ///< particles across processes (childsim-mpi calibrate)
};

/// One simulation at θ (the spec's parameters, in order) with model seed `seed`: the
/// statistic of every target and the distance.
Evaluation evaluate_model(const CalibrationSpec& spec, const Eigen::VectorXd& theta,
                          std::uint64_t seed);

/// Run ABC-SMC for `spec` (with the options' overrides), checkpointing to `checkpoint` if it
/// is not empty.
AbcResult calibrate(const CalibrationSpec& spec, const CalibrateOptions& options,
                    const std::filesystem::path& checkpoint);

/// The posterior file's contents.
io::Dataset posterior_dataset(const CalibrationSpec& spec, const AbcResult& result);

/// Where the checkpoint of a calibration writing `output` lives: `<output>.checkpoint`.
std::filesystem::path checkpoint_path(const std::filesystem::path& output);

/// The command `childsim calibrate`: load and validate `file` (ConfigError), calibrate with a
/// checkpoint next to `output`, write the posterior to `output`. Returns the result.
AbcResult run_calibration(const std::filesystem::path& file, const std::filesystem::path& output,
                          const CalibrateOptions& options);

}  // namespace childsim::calibration
