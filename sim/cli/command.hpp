// command: one subcommand of the `childsim` program — its CLI11 options and what it does.
//
// Each subcommand lives in its own file (`run_command.cpp`, `calibrate_command.cpp`, …) with one
// `add_*_command` function that declares its options on the application and returns the action
// to call if the user chose it. `main.cpp` only lists the commands and maps errors to exit codes,
// so adding a command is one file and one line.
#pragma once

#include <CLI/CLI.hpp>  // CLI::App

#include <functional>  // std::function

namespace childsim::cli {

/// A declared subcommand and its action (which returns the process exit code). The action
/// may throw config::ConfigError (exit 2) or std::exception (exit 1); main() reports them.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_run_command(CLI::App& app);
Command add_validate_command(CLI::App& app);
Command add_calibrate_command(CLI::App& app);
Command add_compare_command(CLI::App& app);
Command add_outputs_command(CLI::App& app);
Command add_parameters_command(CLI::App& app);
Command add_monitor_command(CLI::App& app);
Command add_sweep_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_site_command(CLI::App& app);
Command add_facilities_command(CLI::App& app);
Command add_check_data_command(CLI::App& app);

}  // namespace childsim::cli
