// main: the `childsim` command line. Each subcommand is one file in sim/cli/ (command.hpp);
// this file lists them, parses the arguments and turns errors into one line and an exit code:
// 2 for a scenario or input error (file, line, column and key), 3 for a run that does not fit
// in memory or on disk (refused before it starts, or out of memory), 1 for any other failure.
#include "childsim/version.hpp"        // version, git_commit
#include "sim/cli/command.hpp"         // Command, add_*_command
#include "sim/config/config_tree.hpp"  // ConfigError
#include "sim/io/hdf5_writer.hpp"      // set_hdf5_error_stack, remove_temporary_on_signals
#include "sim/run/footprint.hpp"       // ResourceError
#include "sim/run/malloc_tuning.hpp"   // tune_malloc_for_monthly_buffers
#include "sim/run/openmp_wait.hpp"     // ensure_passive_openmp_wait

#include <fmt/format.h>  // fmt::print, fmt::format
#include <CLI/CLI.hpp>   // CLI::App

#include <cstdio>     // stderr
#include <exception>  // std::exception
#include <new>        // std::bad_alloc
#include <vector>     // std::vector

int main(int argc, char** argv) {
  // Idle OpenMP threads sleep unless the user chose otherwise (re-executes once; see header).
  childsim::run::ensure_passive_openmp_wait(argv);
  // The monthly step reuses its buffers' pages instead of faulting in new ones (see header).
  childsim::run::tune_malloc_for_monthly_buffers();
  namespace cli = childsim::cli;
  CLI::App app{
      "childsim: an agent-based model of child-service demand in Changning District, "
      "Shanghai, month by month to 2035."};
  app.set_version_flag(
      "--version", fmt::format("childsim {} (commit {})", childsim::version, childsim::git_commit));
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("--verbose", verbose, "On an HDF5 failure, also print HDF5's own error stack");
  app.fallthrough();  // --verbose may also follow the subcommand

  const std::vector<cli::Command> commands = {
      cli::add_run_command(app),        cli::add_validate_command(app),
      cli::add_calibrate_command(app),  cli::add_compare_command(app),
      cli::add_outputs_command(app),    cli::add_parameters_command(app),
      cli::add_monitor_command(app),    cli::add_sweep_command(app),
      cli::add_export_command(app),     cli::add_site_command(app),
      cli::add_facilities_command(app), cli::add_check_data_command(app),
  };

  CLI11_PARSE(app, argc, argv);
  childsim::io::set_hdf5_error_stack(verbose);
  childsim::io::remove_temporary_on_signals();

  try {
    for (const auto& command : commands)
      if (command.app->parsed()) return command.run();
    return 0;
  } catch (const childsim::config::ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const childsim::ResourceError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 3;
  } catch (const std::bad_alloc&) {
    // The estimate (sim/run/footprint) let the run start, but memory ran out: say so in words
    // rather than "std::bad_alloc", and with the same exit status as a refused run.
    fmt::print(stderr,
               "error: out of memory (the estimate before the run said it would fit: other "
               "programs may have taken memory since); lower --replicates or "
               "population_scale\n");
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
