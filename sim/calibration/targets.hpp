// targets: the calibration file — which scenario, which parameters, ABC-SMC settings, and the
// observed figures (targets) the model is fitted to, each reduced from a model output.
//
// A calibration file (docs/calibration.md, calibration/changning.yaml) names a base scenario,
// a population scale and replicates per particle, the parameters to fit (rows of
// parameters.yaml; uniform priors on their ranges unless narrowed), the ABC-SMC settings,
// and a list of targets. A target is one number: an output of the model (any variable of
// `childsim outputs`), reduced to one value per replicate and year by a documented rule,
// averaged over the listed years and over replicates, and compared with `value` in units of
// its uncertainty `sd`. Every target says where its value comes from (`source`, `basis`) and
// whether it was scaled from a Shanghai figure.
//
// Reduction of a target's output, for each replicate and year:
//   1. keep the months of the year (all, or `months:`) — or the year's entry of a yearly
//      output;
//   2. keep the `select:`ed labels of other dimensions (e.g. {age: [0, 1, 2]}; the special
//      key `facility_kind` keeps facilities of the listed kinds) and combine the rest of the
//      array by `combine` (sum, the default, or mean) into one number per month;
//   3. reduce the months by `aggregate`: sum (flows such as births), mean (stocks), last (the
//      last kept month), ratio (Σ numerator / Σ denominator over the kept months, i.e. the
//      ratio of monthly means; the denominator is its own output with its own select), or
//      lagged_ratio (the numerator's mean over the kept months divided by the denominator
//      summed over a `window` of months placed relative to the target year — e.g. children
//      aged 3 in December of year T per birth of year T − 3, or children of kindergarten age
//      in October of T per birth from September of T − 6 to August of T − 3);
//   4. divide by the population scale if `scale: true` (counts, not ratios).
// The statistic is the mean of that number over the target's years and then over replicates.
// The distance of a simulation is sqrt(mean over fitted targets of ((statistic − value)/sd)²).
//
// Validation happens once, here: every error is a config::ConfigError naming the file, line,
// column and key — including a target on an output this build does not have (holiday_ and
// clinic_ outputs arrive with their submodels).
#pragma once

#include "sim/calibration/abc_smc.hpp"  // AbcSettings, Prior
#include "sim/config/config_tree.hpp"   // ConfigNode
#include "sim/io/recorder.hpp"          // Recorder
#include "sim/scenario/scenario.hpp"    // Scenario

#include <cstdint>     // std::uint64_t
#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim::calibration {

/// One output reduced over its non-time dimensions (resolved against the scenario's labels).
struct OutputReduction {
  std::string output;
  bool real = false;               ///< float64 output (else int32)
  bool has_replicate = false;      ///< false for outputs recorded once (e.g. facility_capacity)
  bool yearly = false;             ///< a `year` dimension instead of `time`
  std::size_t n_index = 0;         ///< size of the time (or year) dimension
  std::vector<std::size_t> sizes;  ///< the other dimensions, in order
  std::vector<std::vector<std::size_t>> picks;  ///< kept indices of each other dimension
  bool mean = false;                            ///< combine by mean instead of sum
  /// Sum (or mean) of the kept cells at (replicate, time or year index).
  double value(const io::Recorder& rec, int replicate, int index) const;
};

enum class Aggregate { sum, mean, last, ratio, lagged_ratio };

/// The denominator months of a lagged ratio, relative to the target year T: from calendar
/// month `from_month` of year T + `from_years` to `to_month` of T + `to_years`, inclusive.
struct LagWindow {
  int from_years = 0, from_month = 1;
  int to_years = 0, to_month = 12;
};

struct Target {
  std::string id, description, source, basis;
  double value = 0.0, sd = 1.0;
  std::vector<int> years;
  std::vector<int> months;  ///< calendar months 1..12 kept (empty: all)
  bool scaled_from_shanghai = false;
  bool fit = true;     ///< in the distance (false: reported only)
  bool scale = false;  ///< divide by population_scale
  Aggregate aggregate = Aggregate::sum;
  OutputReduction numerator;
  OutputReduction denominator;                           ///< for Aggregate::ratio and lagged_ratio
  std::vector<std::vector<int>> indices_by_year;         ///< time (or year) indices of each year
  LagWindow window;                                      ///< for Aggregate::lagged_ratio
  std::vector<std::vector<int>> window_indices_by_year;  ///< its month indices, per year
  config::Origin origin;
};

struct CalibratedParameter {
  std::string name;
  std::string unit;
  double lo = 0.0, hi = 0.0;  ///< prior support (the table's range unless narrowed)
  double default_value = 0.0;
  config::ConfigNode node;  ///< where it is named (for messages)
};

struct CalibrationSpec {
  std::filesystem::path file;
  std::string text;   ///< the calibration file as written (stored and hashed)
  Scenario scenario;  ///< the base scenario with scale, replicates, seed and end set
  double population_scale = 1.0;
  int replicates = 1;  ///< model replicates per particle
  std::uint64_t seed = 1;
  std::vector<CalibratedParameter> parameters;
  AbcSettings abc;  ///< without threads, checkpoint and callbacks
  std::vector<Target> targets;

  Prior prior() const;
  std::vector<std::string> target_ids() const;
};

/// Read and validate a calibration file (and the base scenario it names). Throws
/// config::ConfigError.
CalibrationSpec load_calibration(const std::filesystem::path& file);

/// The statistic of target `t` from the outputs of `rec` (all its replicates).
double target_statistic(const Target& t, const io::Recorder& rec, double population_scale);

/// sqrt(mean over fitted targets of ((statistic − value)/sd)²); +∞ if a fitted statistic is
/// not finite.
double target_distance(const std::vector<Target>& targets, const Eigen::VectorXd& statistics);

}  // namespace childsim::calibration
