// ensemble: replicates, threads and provenance.
#include "sim/run/ensemble.hpp"

#include "childsim/version.hpp"           // version, git_commit
#include "sim/calibration/posterior.hpp"  // scenario_for_replicate
#include "sim/io/recorder.hpp"            // Recorder
#include "sim/model/model.hpp"            // Model, run_replicate

#include "sim/core/parallel.hpp"  // par::configured_threads

#include <omp.h>  // omp_set_num_threads, omp_get_thread_num

#include <cstdlib>    // std::getenv
#include <ctime>      // std::time, std::gmtime, std::strftime
#include <exception>  // std::exception_ptr, std::current_exception, std::rethrow_exception
#include <memory>     // std::unique_ptr
#include <vector>     // std::vector

namespace childsim {
namespace {

// How an ensemble uses the threads: whole replicates in parallel, one thread each, while at
// least as many replicates are left as there are threads; the rest one after another, each
// with every thread (the parallel loops within a replicate, sim/core/parallel.hpp). Whole
// replicates need no merging and no waiting at the end of each loop, so they use the cores
// best; the replicates left over would leave cores idle. A replicate's outputs are the same
// bytes whichever way it runs (every draw is keyed on it, and its loops give the same results
// at any thread count), so the files are too. run(r) must be safe to call from several
// threads at once for different r; an exception thrown by one stops the others from starting
// new replicates and is rethrown here.
template <class Run>
void for_each_replicate(const std::vector<int>& which, Run&& run) {
  const std::size_t threads = par::configured_threads();
  const std::size_t together = threads > 1 ? which.size() / threads * threads : 0;
  if (together > 0) {
    std::exception_ptr error;
    bool failed = false;
    const auto n = static_cast<long>(together);
#pragma omp parallel num_threads(static_cast <int>(threads))
    {
      omp_set_num_threads(1);  // this thread's replicates run their loops on it alone
#pragma omp for schedule(dynamic, 1)
      for (long k = 0; k < n; ++k) {
        bool stop = false;
#pragma omp atomic read
        stop = failed;
        if (stop) continue;
        try {
          run(which[static_cast<std::size_t>(k)]);
        } catch (...) {
#pragma omp critical(childsim_ensemble_error)
          if (!error) error = std::current_exception();
#pragma omp atomic write
          failed = true;
        }
      }
    }
    if (error) std::rethrow_exception(error);
  }
  for (std::size_t k = together; k < which.size(); ++k) run(which[k]);
}

// Calls f() with no other thread inside a `serially` call at the same time (a sink, a progress
// callback); an exception is carried out of the critical section and rethrown.
template <class F>
void serially(F&& f) {
  std::exception_ptr error;
#pragma omp critical(childsim_ensemble_serially)
  {
    try {
      f();
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

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
      if (opt.progress) serially([&] { opt.progress(r, month, sc.replicates, sc.n_months()); });
    };
  };
  std::vector<int> which;
  for (int r = first; r < sc.replicates; r += stride) which.push_back(r);
  // Replicates write to their own slices of `rec` (its arrays are allocated up front). Each
  // thread builds its replicates in the memory of its last one (state.hpp: recycled).
  std::vector<State> memory(par::configured_threads());
  auto kept = [&] { return &memory.at(static_cast<std::size_t>(omp_get_thread_num())); };
  if (!sc.posterior) {
    const Model model(sc);
    for_each_replicate(which, [&](int r) { run_replicate(model, r, rec, progress(r), kept()); });
  } else {
    // Each replicate has its own parameters (drawn from the posterior), so its own Model.
    for_each_replicate(which, [&](int r) {
      const Scenario drawn = calibration::scenario_for_replicate(sc, r);
      const Model model(drawn);
      run_replicate(model, r, rec, progress(r), kept());
    });
  }
}

void run_each_replicate(const Scenario& sc, const RunOptions& opt, const std::vector<int>& which,
                        const std::function<void(int, io::Recorder&)>& sink) {
  if (opt.threads > 0) omp_set_num_threads(opt.threads);
  std::unique_ptr<const Model> shared;
  if (!sc.posterior) shared = std::make_unique<const Model>(sc);
  // One replicate at a time, every thread within it: a streamed ensemble's memory is one
  // replicate's. Whole replicates at once (for_each_replicate) would hold one replicate's
  // state per thread (measured: 2 replicates at 2 threads, peak 57.0 MB against 37.7 MB for
  // one, where the issue asks for 200 within 1.2x of one), for little speed now that about
  // 90 % of a replicate's work runs in parallel (docs/performance.md).
  State memory;  // each replicate built in the memory of the one before (state.hpp: recycled)
  for (const int r : which) {
    // With a posterior, each replicate has its own parameters, so its own Model.
    std::unique_ptr<const Scenario> drawn;
    std::unique_ptr<const Model> own;
    if (sc.posterior) {
      drawn = std::make_unique<const Scenario>(calibration::scenario_for_replicate(sc, r));
      own = std::make_unique<const Model>(*drawn);
    }
    io::Recorder rec(sc, 1, r);
    run_replicate(
        shared ? *shared : *own, r, rec,
        [&](int month) {
          if (opt.progress) opt.progress(r, month, sc.replicates, sc.n_months());
        },
        &memory);
    if (r == which.back()) memory = State{};  // freed before the sink: no replicate is left
    sink(r, rec);
  }
}

io::Dataset run_scenario(const Scenario& sc, const RunOptions& opt) {
  io::Recorder rec(sc, sc.replicates);
  run_replicates(sc, opt, 0, 1, rec);
  return rec.to_dataset(provenance_attributes(sc));
}

}  // namespace childsim
