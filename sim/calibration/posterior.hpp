// posterior: a calibration's result used in scenarios — each replicate draws its parameters.
//
// A scenario with `parameters: {posterior: posterior.h5}` reads the final generation of the
// posterior file written by `childsim calibrate` (its weighted particles). Replicate r takes
// particle i with probability w_i, chosen by one draw from
// Stream(seed, r, 0, 0, Purpose::parameters), so a replicate's parameters depend only on the
// scenario seed and r: reproducible, and the same particle for replicate r in every scenario
// with the same seed and posterior (common random numbers between what-ifs). Ordinary
// overrides `name: value` beside `posterior:` win over drawn values (those columns are
// dropped when the scenario is read). Each replicate then builds its own Model; the drawn
// values are recorded in the output `parameter_value(replicate, parameter)`.
#pragma once

#include <Eigen/Dense>  // Eigen::MatrixXd, Eigen::VectorXd

#include <cstdint>     // std::uint64_t
#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

struct Scenario;

namespace calibration {

/// The final generation of a posterior file.
struct Posterior {
  std::filesystem::path file;
  std::vector<std::string> names;  ///< parameter names (parameters.yaml)
  Eigen::MatrixXd particles;       ///< N × d
  Eigen::VectorXd weights;         ///< N, summing to 1
  int generation = 0;              ///< index of the final generation in the file

  /// The same posterior restricted to the columns `keep` (indices into `names`).
  Posterior columns(const std::vector<std::size_t>& keep) const;
};

/// Read the final generation of a posterior file (variables `parameter`, `particles`,
/// `weights`). Throws std::runtime_error naming the file and what is wrong.
Posterior read_posterior(const std::filesystem::path& file);

/// The particle replicate `replicate` uses: drawn by weight with
/// Stream(seed, replicate, 0, 0, Purpose::parameters).
std::size_t draw_particle(const Posterior& posterior, std::uint64_t seed, int replicate);

/// `sc` with the parameters of replicate `replicate` drawn from `sc.posterior` (a copy of `sc`
/// when it has no posterior).
Scenario scenario_for_replicate(const Scenario& sc, int replicate);

}  // namespace calibration
}  // namespace childsim
