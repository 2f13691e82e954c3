// ensemble: run every replicate of a scenario and label the results — the library entry
// point that both the CLI and the Python module call.
#pragma once

#include "sim/io/dataset.hpp"         // Dataset
#include "sim/io/recorder.hpp"        // Recorder
#include "sim/scenario/scenario.hpp"  // Scenario

#include <functional>  // std::function
#include <vector>      // std::vector

namespace childsim {

struct RunOptions {
  int threads = 0;  ///< OpenMP threads; 0 keeps the OpenMP default
  /// Called after each simulated month with (replicate, month, total replicates, months).
  std::function<void(int, int, int, int)> progress;
};

/// Run all `sc.replicates` replicates and return the labelled outputs, with the provenance
/// attributes (scenario text, seed, version, git commit, creation date).
io::Dataset run_scenario(const Scenario& sc, const RunOptions& options = {});

/// Run replicates first, first + stride, … (< sc.replicates) into `recorder`, whose arrays
/// hold all replicates; the others' slices stay zero, so recorders filled by different
/// processes merge by adding their arrays. Replicates run several at once, one thread each,
/// while at least as many are left as there are threads; then with every thread within each
/// (the outputs are the same bytes either way). (childsim-mpi streams instead: each rank runs
/// run_each_replicate and sends each replicate to rank 0, sim/mpi_main.cpp.)
void run_replicates(const Scenario& sc, const RunOptions& options, int first, int stride,
                    io::Recorder& recorder);

/// Run each replicate in `which` (in that order, every thread within each) into a recorder of
/// its own and hand it to `sink` as soon as it is simulated, then free it: memory holds one
/// replicate's outputs at a time (a streamed ensemble, sim/run/stream.hpp).
void run_each_replicate(const Scenario& sc, const RunOptions& options,
                        const std::vector<int>& which,
                        const std::function<void(int replicate, io::Recorder& recorder)>& sink);

/// The provenance attributes stored in every output file.
io::Attributes provenance_attributes(const Scenario& sc);

}  // namespace childsim
