// export_command: `childsim export OUT.h5 --csv DIR` — a run's variables as tidy long CSV
// tables (one per variable, a column per dimension and its labels, then the value) and
// variables.csv (units, long names). The work is the Python analysis package's
// (childsim.exports, reading the file lazily a variable at a time); this passes the arguments.
#include "sim/cli/command.hpp"
#include "sim/cli/python_launcher.hpp"  // run_python_main

#include <memory>  // std::make_shared
#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim::cli {

Command add_export_command(CLI::App& app) {
  auto args = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand(
      "export",
      "Write a run as tidy CSV tables, one per variable, with variables.csv (childsim export "
      "OUT.h5 --csv DIR [--variables a,b]; --help for all options)");
  // Everything after `export` goes to the Python command, which documents its own options.
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->allow_extras();
  cmd->fallthrough(false);  // its arguments belong to it, not to the top-level app
  return {cmd, [cmd, args] {
            *args = cmd->remaining();
            return run_python_main("exports", *args);
          }};
}

}  // namespace childsim::cli
