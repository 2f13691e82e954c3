// stream: an ensemble run straight to its output file, with flat memory and --resume.
//
// Each replicate is saved to the output's partial file as soon as it is simulated
// (sim/io/replicate_spool.hpp) and dropped from memory; when all are there, the HDF5 file is
// assembled from the partial file one variable and one replicate at a time, built on disk
// (io::WriterStorage::disk), renamed onto the final name, and the partial file is removed.
// Memory holds one replicate's outputs whatever the ensemble size; the disk holds the partial
// file (about the size of the output) until the end.
//
// The file is byte-identical to writing the in-memory ensemble (run_scenario + write_dataset,
// which childsim-mpi and Python use): the writer makes the same HDF5 calls either way. The
// replicates are simulated one after another (each uses every thread, issue #14 part 1), and
// the partial file is indexed by replicate, so the order in which records were appended — or
// whether the run was interrupted and resumed — does not reach the output.
#pragma once

#include "sim/io/replicate_spool.hpp"  // SpoolIdentity
#include "sim/run/ensemble.hpp"        // RunOptions
#include "sim/scenario/scenario.hpp"   // Scenario

#include <filesystem>  // std::filesystem::path
#include <functional>  // std::function
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

struct StreamOptions {
  /// Continue from the output's partial file when there is one (`childsim run --resume`):
  /// only the replicates it lacks are simulated. Without it, a partial file left by an
  /// interrupted run is replaced.
  bool resume = false;
  /// Receives one-line notes for the user (resuming, replacing a partial file).
  std::function<void(const std::string&)> note;
};

/// Run every replicate of `sc` into `output` and return the run's summary (summary_text).
/// Throws io::ResumeError when the partial file belongs to another run, io::OutputError when
/// the disk refuses; the file under the final name is then untouched.
std::string run_to_file(const Scenario& sc, const RunOptions& options,
                        const std::filesystem::path& output, const StreamOptions& stream = {});

/// Takes one finished replicate (a recorder of that replicate alone) into the partial file.
using ReplicateSink = std::function<void(int replicate, io::Recorder& recorder)>;
/// Simulates the replicates `missing` — here or elsewhere, in any order — and hands each to
/// `sink`, from the calling thread, as it arrives.
using SimulateReplicates =
    std::function<void(const std::vector<int>& missing, const ReplicateSink& sink)>;

/// run_to_file with the simulation of the missing replicates left to `simulate`: the partial
/// file, resuming and the assembly stay here. `childsim-mpi` spreads the replicates over its
/// ranks this way, rank 0 holding the partial file (sim/mpi_main.cpp); the file is the same.
std::string run_to_file(const Scenario& sc, const std::filesystem::path& output,
                        const StreamOptions& stream, const SimulateReplicates& simulate);

/// What a partial file must match to be resumed: the program, the resolved scenario text with
/// every base-data file and the posterior file it uses, the seed and the replicates.
io::SpoolIdentity run_identity(const Scenario& sc);

}  // namespace childsim
