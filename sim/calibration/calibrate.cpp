// calibrate: the model as an ABC-SMC distance, and the posterior file.
#include "sim/calibration/calibrate.hpp"

#include "childsim/version.hpp"  // version, git_commit
#include "sim/io/recorder.hpp"   // Recorder
#include "sim/model/model.hpp"   // Model, run_replicate
#include "sim/run/ensemble.hpp"  // provenance_attributes

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::sort
#include <fstream>    // std::ifstream
#include <iterator>   // std::istreambuf_iterator

namespace childsim::calibration {
namespace {

namespace fs = std::filesystem;

// Everything a checkpoint must match beyond the ABC settings: the calibration text, the
// resolved base scenario, every file of the base data and the program.
std::string checkpoint_key(const CalibrationSpec& spec) {
  std::string key = "calibration\n" + spec.text + "\nscenario\n" + spec.scenario.resolved_yaml;
  std::vector<fs::path> files;
  if (fs::is_directory(spec.scenario.base.dir))
    for (const auto& e : fs::directory_iterator(spec.scenario.base.dir))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    key += "\nbase " + f.filename().string() + " " +
           fmt::format("{:016x}", fnv1a64(std::string(std::istreambuf_iterator<char>(in),
                                                      std::istreambuf_iterator<char>())));
  }
  return key + fmt::format("\nprogram {} {}\n", version, git_commit);
}

template <typename T>
std::vector<T> as_vector(const Eigen::VectorXd& v) {
  std::vector<T> out(static_cast<std::size_t>(v.size()));
  for (Eigen::Index i = 0; i < v.size(); ++i)
    out[static_cast<std::size_t>(i)] = static_cast<T>(v[i]);
  return out;
}

}  // namespace

Evaluation evaluate_model(const CalibrationSpec& spec, const Eigen::VectorXd& theta,
                          std::uint64_t seed) {
  Scenario sc = spec.scenario;
  for (std::size_t k = 0; k < spec.parameters.size(); ++k)
    sc.base.parameters.set(spec.parameters[k].name, theta[static_cast<Eigen::Index>(k)],
                           spec.parameters[k].node);
  sc.seed = seed;
  const Model model(sc);
  io::Recorder rec(sc, spec.replicates);
  for (int r = 0; r < spec.replicates; ++r) run_replicate(model, r, rec);
  Evaluation e;
  e.statistics.resize(static_cast<Eigen::Index>(spec.targets.size()));
  for (std::size_t t = 0; t < spec.targets.size(); ++t)
    e.statistics[static_cast<Eigen::Index>(t)] =
        target_statistic(spec.targets[t], rec, spec.population_scale);
  e.distance = target_distance(spec.targets, e.statistics);
  return e;
}

AbcResult calibrate(const CalibrationSpec& spec, const CalibrateOptions& options,
                    const fs::path& checkpoint) {
  AbcSettings s = spec.abc;
  if (options.generations > 0) s.max_generations = options.generations;
  if (options.particles > 0) s.particles = options.particles;
  s.threads = options.threads;
  s.checkpoint = checkpoint;
  s.checkpoint_key = checkpoint_key(spec);
  s.on_generation = options.progress;
  s.on_message = options.message;
  s.sharing = options.sharing;
  if (!options.resume && !checkpoint.empty()) fs::remove(checkpoint);
  const EvaluateFn evaluate = [&spec](const Eigen::VectorXd& theta, std::uint64_t seed) {
    return evaluate_model(spec, theta, seed);
  };
  return abc_smc(spec.prior(), s, evaluate);
}

io::Dataset posterior_dataset(const CalibrationSpec& spec, const AbcResult& res) {
  using io::AttributeValue;
  auto text = [](const std::string& s) { return AttributeValue(s); };
  const auto n_gen = res.generations.size();
  const auto n = static_cast<std::size_t>(res.posterior().particles.rows());
  const auto d = spec.parameters.size();
  const auto nt = spec.targets.size();

  io::Dataset ds;
  io::Attributes a = provenance_attributes(spec.scenario);
  a["title"] = "childsim calibration posterior: " + spec.file.filename().string();
  a["scenario"] = spec.scenario.resolved_yaml;
  a["calibration_file"] = spec.file.string();
  a["calibration"] = spec.text;
  a["seed"] = static_cast<std::int64_t>(spec.seed);
  a["replicates_per_particle"] = static_cast<std::int64_t>(spec.replicates);
  a["particles"] = static_cast<std::int64_t>(n);
  a["generations"] = static_cast<std::int64_t>(n_gen);
  a["stop_reason"] = res.stop_reason;
  a["method"] = std::string(
      "ABC-SMC (Toni et al. 2009; Beaumont et al. 2009): adaptive tolerance (quantile of the "
      "previous distances), multivariate normal kernel with 2 x weighted covariance, uniform "
      "priors; distance = sqrt(mean over fitted targets of ((statistic - value) / sd)^2)");
  a["tolerance_quantile"] = spec.abc.tolerance_quantile;
  a.erase("replicates");
  ds.attrs = a;

  std::vector<std::int64_t> gens(n_gen), parts(n);
  for (std::size_t g = 0; g < n_gen; ++g) gens[g] = static_cast<std::int64_t>(g);
  for (std::size_t i = 0; i < n; ++i) parts[i] = static_cast<std::int64_t>(i);
  std::vector<std::string> names, units, ids, descriptions, sources, bases;
  std::vector<double> lo, hi, defaults, observed, sds;
  std::vector<std::int32_t> fitted, shanghai;
  for (const auto& p : spec.parameters) {
    names.push_back(p.name);
    units.push_back(p.unit);
    lo.push_back(p.lo);
    hi.push_back(p.hi);
    defaults.push_back(p.default_value);
  }
  for (const auto& t : spec.targets) {
    ids.push_back(t.id);
    descriptions.push_back(t.description);
    sources.push_back(t.source);
    bases.push_back(t.basis);
    observed.push_back(t.value);
    sds.push_back(t.sd);
    fitted.push_back(t.fit ? 1 : 0);
    shanghai.push_back(t.scaled_from_shanghai ? 1 : 0);
  }
  ds.dims.push_back({"generation", gens, {{"long_name", text("ABC-SMC generation")}}});
  ds.dims.push_back({"particle", parts, {{"long_name", text("particle")}}});
  ds.dims.push_back({"parameter", names, {{"long_name", text("parameter (parameters.yaml)")}}});
  ds.dims.push_back({"target", ids, {{"long_name", text("calibration target")}}});

  auto var = [&](const std::string& name, std::vector<std::string> dims, io::ArrayData data,
                 const std::string& long_name, const std::string& units_text = "",
                 const std::string& coords = "") {
    io::Attributes va{{"long_name", long_name}};
    if (!units_text.empty()) va["units"] = units_text;
    if (!coords.empty()) va["coordinates"] = coords;
    ds.variables.push_back({name, std::move(dims), std::move(data), va});
  };
  var("parameter_unit", {"parameter"}, units, "unit of the parameter");
  var("target_description", {"target"}, descriptions, "what the target measures");
  var("target_source", {"target"}, sources, "where the target's value comes from");
  var("target_basis", {"target"}, bases, "observed, derived, assumed or policy_target");
  const std::string pc = "parameter_unit", tc = "target_description target_source target_basis";
  var("prior_lo", {"parameter"}, lo, "lower end of the uniform prior", "", pc);
  var("prior_hi", {"parameter"}, hi, "upper end of the uniform prior", "", pc);
  var("parameter_default", {"parameter"}, defaults, "value in parameters.yaml", "", pc);
  var("observed", {"target"}, observed, "target value", "", tc);
  var("observed_sd", {"target"}, sds, "target uncertainty (standard deviation)", "", tc);
  var("fitted", {"target"}, fitted, "1 if the target is in the distance, 0 if only reported", "1",
      tc);
  var("scaled_from_shanghai", {"target"}, shanghai,
      "1 if the target value is a Shanghai figure scaled to Changning", "1", tc);

  std::vector<double> particles, weights, distances, simulated, tolerance, acceptance, ess;
  std::vector<std::int64_t> simulations;
  for (const auto& gen : res.generations) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto ii = static_cast<Eigen::Index>(i);
      for (std::size_t k = 0; k < d; ++k)
        particles.push_back(gen.particles(ii, static_cast<Eigen::Index>(k)));
      weights.push_back(gen.weights[ii]);
      distances.push_back(gen.distances[ii]);
      for (std::size_t t = 0; t < nt; ++t)
        simulated.push_back(gen.statistics(ii, static_cast<Eigen::Index>(t)));
    }
    tolerance.push_back(gen.tolerance);
    acceptance.push_back(gen.acceptance_rate());
    ess.push_back(gen.effective_sample_size());
    simulations.push_back(gen.simulations);
  }
  var("particles", {"generation", "particle", "parameter"}, particles, "accepted parameter values",
      "", pc);
  var("weights", {"generation", "particle"}, weights, "importance weight (sums to 1)", "1");
  var("distances", {"generation", "particle"}, distances, "distance of the accepted simulation",
      "1");
  var("simulated", {"generation", "particle", "target"}, simulated,
      "target statistic of the accepted simulation", "", tc);
  var("tolerance", {"generation"}, tolerance, "tolerance (inf for generation 0)", "1");
  var("acceptance_rate", {"generation"}, acceptance, "accepted / simulations", "1");
  var("simulations", {"generation"}, simulations, "simulations run");
  var("effective_sample_size", {"generation"}, ess, "1 / sum of squared weights");
  return ds;
}

fs::path checkpoint_path(const fs::path& output) {
  return output.string() + ".checkpoint";
}

AbcResult run_calibration(const fs::path& file, const fs::path& output,
                          const CalibrateOptions& options) {
  const CalibrationSpec spec = load_calibration(file);
  AbcResult res = calibrate(spec, options, checkpoint_path(output));
  io::write_dataset(posterior_dataset(spec, res), output);
  return res;
}

}  // namespace childsim::calibration
