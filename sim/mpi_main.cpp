// mpi_main: `childsim-mpi` — one scenario's ensemble across MPI ranks (DESIGN.md, decision 6).
//
// Each rank takes whole replicates (rank, rank + size, …), simulated exactly as in a single
// process (the random streams are keyed on the replicate, not on the rank), and rank 0 adds
// the output arrays up: every replicate's slice is written by one rank only and is zero on
// the others, and outputs without a replicate dimension are written with replicate 0, so the
// sum is the merge. The file is therefore byte-identical to `childsim run` with the same
// scenario, seed and replicates, whatever the number of ranks.
//
//   mpirun -np 4 childsim-mpi SCENARIO.yaml -o OUT.h5 [--replicates N] [--seed S] [--threads T]
//
// `childsim-mpi calibrate CALIBRATION.yaml -o POSTERIOR.h5 [--particles N] [--generations G]
// [--threads T] [--fresh]` spreads each ABC-SMC generation's particles over the ranks
// (calibration::ParticleSharing: rank r runs the particles i with i mod size = r, then every
// rank receives all outcomes), so every rank continues with the whole generation and rank 0
// writes the checkpoint and the posterior, byte-identical to `childsim calibrate`.
//
// `childsim-mpi sweep DESIGN.yaml -o OUT.h5 [--threads T]` spreads a sweep's samples over the
// ranks instead. A sweep is the Python package's (childsim.sweeps: designs, parts, assembly
// with xarray), so this process becomes that Python (exec, same process id, before MPI
// exists) and mpi4py joins the job; docs/research.md says why it is not a C++ loop.
//
// `childsim-mpi site PROBLEM.yaml -o DIR [--threads T]` spreads a siting problem's proof runs
// (the base and each plan, docs/siting.md) over the ranks the same way (childsim._mpi_site):
// rank 0 writes every file, byte-identical to `childsim site`.
#include "sim/calibration/calibrate.hpp"  // load_calibration, calibrate, posterior_dataset
#include "sim/cli/calibrate_command.hpp"  // print_generation, print_posterior
#include "sim/cli/output_path.hpp"        // check_output_path
#include "sim/cli/python_launcher.hpp"    // exec_python_main
#include "sim/config/config_tree.hpp"     // ConfigError
#include "sim/io/recorder.hpp"            // Recorder
#include "sim/run/ensemble.hpp"           // run_replicates, provenance_attributes
#include "sim/run/openmp_wait.hpp"        // ensure_passive_openmp_wait
#include "sim/run/summary.hpp"            // print_summary
#include "sim/scenario/scenario.hpp"      // load_scenario, override_run

#include <fmt/format.h>  // fmt::print
#include <mpi.h>         // MPI_*
#include <CLI/CLI.hpp>   // CLI::App

#include <chrono>     // std::chrono::milliseconds
#include <cstdint>    // std::int64_t
#include <cstdio>     // std::fflush, stderr
#include <limits>     // std::numeric_limits
#include <stdexcept>  // std::runtime_error
#include <string>     // std::string
#include <thread>     // std::this_thread::sleep_for
#include <vector>     // std::vector

namespace {

// A barrier during which a waiting rank sleeps: Open MPI's blocking calls poll at full speed,
// so a rank that finished its share early would take a core from one still working (this
// machine has two). Polled every 5 ms: negligible next to a simulation.
void wait_for_all_ranks() {
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int run(int argc, char** argv, int rank, int size) {
  CLI::App app{"childsim-mpi: run a scenario's replicates across MPI ranks"};
  app.footer(
      "Also: childsim-mpi sweep DESIGN.yaml -o OUT.h5 (a sweep's samples across ranks), "
      "childsim-mpi site PROBLEM.yaml -o DIR (a siting problem's proof runs across ranks) and "
      "childsim-mpi calibrate CALIBRATION.yaml -o POSTERIOR.h5 (calibration particles across "
      "ranks); --help after either lists its options.");
  std::string scenario_path, out_path;
  int replicates = 0, threads = 0;
  std::int64_t seed = -1;
  bool quiet = false;
  app.add_option("scenario", scenario_path, "Scenario file (YAML)")->required();
  app.add_option("-o,--output", out_path, "Output file (.h5), written by rank 0")->required();
  app.add_option("--replicates", replicates, "Override the number of replicates")
      ->check(CLI::Range(1, 10000));
  app.add_option("--seed", seed, "Override the seed")
      ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()));
  app.add_option("--threads", threads, "OpenMP threads per rank")->check(CLI::Range(1, 1024));
  app.add_flag("-q,--quiet", quiet, "Do not print the summary");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
  }
  // Every rank validates the same file, so all fail together, before any work.
  childsim::Scenario sc = childsim::load_scenario(scenario_path);
  childsim::override_run(sc, replicates, seed);
  childsim::RunOptions options;
  options.threads = threads;
  childsim::io::Recorder rec(sc, sc.replicates);
  childsim::run_replicates(sc, options, rank, size, rec);
  wait_for_all_ranks();
  for (auto& [name, v] : rec.int_arrays())
    MPI_Reduce(rank == 0 ? MPI_IN_PLACE : v.data(), v.data(), static_cast<int>(v.size()),
               MPI_INT32_T, MPI_SUM, 0, MPI_COMM_WORLD);
  for (auto& [name, v] : rec.real_arrays())
    MPI_Reduce(rank == 0 ? MPI_IN_PLACE : v.data(), v.data(), static_cast<int>(v.size()),
               MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    const auto ds = rec.to_dataset(childsim::provenance_attributes(sc));
    childsim::io::write_dataset(ds, out_path);
    if (!quiet) childsim::print_summary(ds, out_path);
  }
  return 0;
}

// An error that every rank meets alike before any work (bad arguments, an unwritable output):
// rank 0 alone prints it.
struct SameOnEveryRank : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every rank's outcomes to every rank (ParticleSharing::share): each packs its own particles,
// the packs are gathered everywhere, each unpacks the others'.
void share_outcomes(std::vector<childsim::calibration::ParticleOutcome>& outcomes, int rank,
                    int size) {
  wait_for_all_ranks();
  const std::string mine = childsim::calibration::pack_outcomes(outcomes, rank, size);
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size)), offsets(lengths.size());
  MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int total = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    offsets[r] = total;
    total += lengths[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  MPI_Allgatherv(mine.data(), length, MPI_BYTE, all.data(), lengths.data(), offsets.data(),
                 MPI_BYTE, MPI_COMM_WORLD);
  for (std::size_t r = 0; r < lengths.size(); ++r)
    if (static_cast<int>(r) != rank)
      childsim::calibration::unpack_outcomes(
          all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])),
          outcomes);
}

// `childsim-mpi calibrate`: the options of `childsim calibrate`, the particles across ranks.
int run_calibrate(int argc, char** argv, int rank, int size) {
  namespace calibration = childsim::calibration;
  CLI::App app{"childsim-mpi calibrate: ABC-SMC with each generation's particles across MPI ranks"};
  app.name("childsim-mpi calibrate");
  std::string file, out;
  int threads = 0, generations = 0, particles = 0;
  bool fresh = false;
  app.add_option("calibration", file, "Calibration file (YAML)")->required();
  app.add_option("-o,--output", out, "Posterior file (.h5), written by rank 0")->required();
  app.add_option("--threads", threads, "OpenMP threads per rank")->check(CLI::Range(1, 1024));
  app.add_option("--generations", generations, "Override abc.max_generations")
      ->check(CLI::Range(1, 1000));
  app.add_option("--particles", particles, "Override abc.particles")->check(CLI::Range(2, 100000));
  app.add_flag("--fresh", fresh, "Ignore and replace an existing checkpoint (<output>.checkpoint)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
  }
  // Every rank validates the same file (ConfigError, printed by rank 0), before any work.
  const calibration::CalibrationSpec spec = calibration::load_calibration(file);
  try {
    childsim::cli::check_output_path(out);
  } catch (const std::exception& e) {
    throw SameOnEveryRank(e.what());
  }
  calibration::CalibrateOptions options;
  options.threads = threads;
  options.generations = generations;
  options.particles = particles;
  options.resume = !fresh;
  if (rank == 0) {
    options.progress = childsim::cli::print_generation;
    options.message = [](const std::string& m) { fmt::print(stderr, "{}\n", m); };
  }
  options.sharing = {rank, size, [rank, size](std::vector<calibration::ParticleOutcome>& o) {
                       share_outcomes(o, rank, size);
                     }};
  calibration::AbcResult res;
  try {
    res = calibration::calibrate(spec, options, calibration::checkpoint_path(out));
  } catch (const std::exception& e) {
    // Rank 0 may have failed alone (writing the checkpoint) while the others wait for it in
    // the next generation: stop them all. A particle's error reaches every rank alike.
    if (size == 1) throw SameOnEveryRank(e.what());
    if (rank == 0) fmt::print(stderr, "error: {}\n", e.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;  // not reached
  }
  if (rank == 0) {
    childsim::io::write_dataset(calibration::posterior_dataset(spec, res), out);
    childsim::cli::print_posterior(res, out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before MPI exists: idle OpenMP threads sleep unless the user chose (re-executes once).
  childsim::run::ensure_passive_openmp_wait(argv);
  // A sweep runs in Python (childsim.sweeps with mpi4py), which calls MPI_Init itself.
  if (argc > 1 && std::string(argv[1]) == "sweep")
    return childsim::cli::exec_python_main("_mpi_sweep",
                                           std::vector<std::string>(argv + 2, argv + argc));
  // So does siting (childsim.siting: demand, solvers and the proof's runs across the ranks).
  if (argc > 1 && std::string(argv[1]) == "site")
    return childsim::cli::exec_python_main("_mpi_site",
                                           std::vector<std::string>(argv + 2, argv + argc));
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = 0;
  try {
    code = argc > 1 && std::string(argv[1]) == "calibrate"
               ? run_calibrate(argc - 1, argv + 1, rank, size)
               : run(argc, argv, rank, size);
  } catch (const childsim::config::ConfigError& e) {
    if (rank == 0) fmt::print(stderr, "error: {}\n", e.what());
    code = 2;
  } catch (const SameOnEveryRank& e) {
    if (rank == 0) fmt::print(stderr, "error: {}\n", e.what());
    code = 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error (rank {}): {}\n", rank, e.what());
    code = 1;
  }
  MPI_Finalize();
  return code;
}
