// main: the `childsim` command line. Each subcommand is one file in sim/cli/ (command.hpp);
// this file lists them, parses the arguments and turns errors into one line and an exit code:
// 2 for a scenario or input error (file, line, column and key), 1 for any other failure.
#include "childsim/version.hpp"        // version, git_commit
#include "sim/cli/command.hpp"         // Command, add_*_command
#include "sim/config/config_tree.hpp"  // ConfigError

#include <fmt/format.h>  // fmt::print, fmt::format
#include <CLI/CLI.hpp>   // CLI::App

#include <cstdio>     // stderr
#include <exception>  // std::exception
#include <vector>     // std::vector

int main(int argc, char** argv) {
  namespace cli = childsim::cli;
  CLI::App app{
      "childsim: an agent-based model of child-service demand in Changning District, "
      "Shanghai, month by month to 2035."};
  app.set_version_flag(
      "--version", fmt::format("childsim {} (commit {})", childsim::version, childsim::git_commit));
  app.require_subcommand(1);

  const std::vector<cli::Command> commands = {
      cli::add_run_command(app),       cli::add_validate_command(app),
      cli::add_calibrate_command(app), cli::add_compare_command(app),
      cli::add_outputs_command(app),   cli::add_parameters_command(app),
      cli::add_monitor_command(app),   cli::add_sweep_command(app),
  };

  CLI11_PARSE(app, argc, argv);

  try {
    for (const auto& command : commands)
      if (command.app->parsed()) return command.run();
    return 0;
  } catch (const childsim::config::ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
