// sweep_command: `childsim sweep DESIGN.yaml -o OUT.h5` — a design over named parameters, each
// sample run as an ensemble with common random numbers, into one file with a `sample`
// dimension; resumable. The work is the Python analysis package's (childsim.sweeps, which runs
// the same library through childsim._core); this passes the arguments through.
#include "sim/cli/command.hpp"
#include "sim/cli/python_launcher.hpp"  // run_python_main

#include <memory>  // std::make_shared
#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim::cli {

Command add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<std::vector<std::string>>();
  auto* sweep = app.add_subcommand(
      "sweep",
      "Run a parameter design (factorial, Latin hypercube, Saltelli, Morris) into one file "
      "with a sample dimension (childsim sweep DESIGN.yaml -o OUT.h5; --help for all options)");
  // Everything after `sweep` goes to the Python command, which documents its own options.
  sweep->prefix_command();
  sweep->set_help_flag();
  sweep->allow_extras();
  sweep->fallthrough(false);  // its arguments belong to it, not to the top-level app
  return {sweep, [sweep, args] {
            *args = sweep->remaining();
            return run_python_main("sweeps", *args);
          }};
}

}  // namespace childsim::cli
