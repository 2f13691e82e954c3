// ensemble: replicates, threads and provenance.
#include "sim/run/ensemble.hpp"

#include "childsim/version.hpp"           // version, git_commit
#include "sim/calibration/posterior.hpp"  // scenario_for_replicate
#include "sim/io/recorder.hpp"            // Recorder
#include "sim/model/model.hpp"            // Model, run_replicate

#include <omp.h>  // omp_set_num_threads

#include <cstdlib>  // std::getenv
#include <ctime>    // std::time, std::gmtime, std::strftime
#include <memory>   // std::unique_ptr

namespace childsim {

io::Attributes provenance_attributes(const Scenario& sc) {
  // The creation date has day resolution, so that two runs of the same scenario and seed on
  // the same day are byte-identical files (the reproducibility standard); SOURCE_DATE_EPOCH
  // (the reproducible-builds convention) fixes it completely.
  std::time_t now = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) now = std::strtoll(epoch, nullptr, 10);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  io::Attributes attrs{
      {"title", "childsim run: " + sc.name},
      {"Conventions", std::string("CF-1.8")},
      {"source", std::string("childsim agent-based model of child-service demand")},
      {"program", std::string("childsim")},
      {"version", std::string(version)},
      {"git_commit", std::string(git_commit)},
      {"created", std::string(date)},
      {"scenario_name", sc.name},
      {"scenario_description", sc.description},
      {"scenario_file", sc.file.string()},
      {"scenario", sc.resolved_yaml},
      {"seed", static_cast<std::int64_t>(sc.seed)},
      {"replicates", static_cast<std::int64_t>(sc.replicates)},
      {"population_scale", sc.population_scale},
      {"fertility_variant", sc.fertility_variant},
      {"start", sc.start.to_string()},
      {"end", sc.end.to_string()},
  };
  if (sc.posterior) attrs["posterior_file"] = sc.posterior->file.string();
  return attrs;
}

void run_replicates(const Scenario& sc, const RunOptions& opt, int first, int stride,
                    io::Recorder& rec) {
  if (opt.threads > 0) omp_set_num_threads(opt.threads);
  auto progress = [&](int r) {
    return [&, r](int month) {
      if (opt.progress) opt.progress(r, month, sc.replicates, sc.n_months());
    };
  };
  if (!sc.posterior) {
    const Model model(sc);
    for (int r = first; r < sc.replicates; r += stride) run_replicate(model, r, rec, progress(r));
  } else {
    // Each replicate has its own parameters (drawn from the posterior), so its own Model.
    for (int r = first; r < sc.replicates; r += stride) {
      const Scenario drawn = calibration::scenario_for_replicate(sc, r);
      const Model model(drawn);
      run_replicate(model, r, rec, progress(r));
    }
  }
}

void run_each_replicate(const Scenario& sc, const RunOptions& opt, const std::vector<int>& which,
                        const std::function<void(int, io::Recorder&)>& sink) {
  if (opt.threads > 0) omp_set_num_threads(opt.threads);
  std::unique_ptr<const Model> shared;
  if (!sc.posterior) shared = std::make_unique<const Model>(sc);
  for (const int r : which) {
    // With a posterior, each replicate has its own parameters, so its own Model.
    std::unique_ptr<const Scenario> drawn;
    std::unique_ptr<const Model> own;
    if (sc.posterior) {
      drawn = std::make_unique<const Scenario>(calibration::scenario_for_replicate(sc, r));
      own = std::make_unique<const Model>(*drawn);
    }
    io::Recorder rec(sc, 1, r);
    run_replicate(shared ? *shared : *own, r, rec, [&](int month) {
      if (opt.progress) opt.progress(r, month, sc.replicates, sc.n_months());
    });
    sink(r, rec);
  }
}

io::Dataset run_scenario(const Scenario& sc, const RunOptions& opt) {
  io::Recorder rec(sc, sc.replicates);
  run_replicates(sc, opt, 0, 1, rec);
  return rec.to_dataset(provenance_attributes(sc));
}

}  // namespace childsim
