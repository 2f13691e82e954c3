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
// `childsim-mpi sweep DESIGN.yaml -o OUT.h5 [--threads T]` spreads a sweep's samples over the
// ranks instead. A sweep is the Python package's (childsim.sweeps: designs, parts, assembly
// with xarray), so this process becomes that Python (exec, same process id, before MPI
// exists) and mpi4py joins the job; docs/research.md says why it is not a C++ loop.
#include "sim/cli/python_launcher.hpp"  // exec_python_main
#include "sim/config/config_tree.hpp"   // ConfigError
#include "sim/io/recorder.hpp"          // Recorder
#include "sim/run/ensemble.hpp"         // run_replicates, provenance_attributes
#include "sim/run/openmp_wait.hpp"      // ensure_passive_openmp_wait
#include "sim/run/summary.hpp"          // print_summary
#include "sim/scenario/scenario.hpp"    // load_scenario, override_run

#include <fmt/format.h>  // fmt::print
#include <mpi.h>         // MPI_*
#include <CLI/CLI.hpp>   // CLI::App

#include <cstdint>  // std::int64_t
#include <limits>   // std::numeric_limits
#include <string>   // std::string
#include <vector>   // std::vector

namespace {

int run(int argc, char** argv, int rank, int size) {
  CLI::App app{"childsim-mpi: run a scenario's replicates across MPI ranks"};
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

}  // namespace

int main(int argc, char** argv) {
  // Before MPI exists: idle OpenMP threads sleep unless the user chose (re-executes once).
  childsim::run::ensure_passive_openmp_wait(argv);
  // A sweep runs in Python (childsim.sweeps with mpi4py), which calls MPI_Init itself.
  if (argc > 1 && std::string(argv[1]) == "sweep")
    return childsim::cli::exec_python_main("_mpi_sweep",
                                           std::vector<std::string>(argv + 2, argv + argc));
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = 0;
  try {
    code = run(argc, argv, rank, size);
  } catch (const childsim::config::ConfigError& e) {
    if (rank == 0) fmt::print(stderr, "error: {}\n", e.what());
    code = 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error (rank {}): {}\n", rank, e.what());
    code = 1;
  }
  MPI_Finalize();
  return code;
}
