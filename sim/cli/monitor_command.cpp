// monitor_command: `childsim monitor` — annual monitoring (plan item 89): observed figures in,
// the projection conditioned on them, divergence flagged, the report written. The work is the
// Python analysis package's (childsim.monitoring); this passes the arguments through.
#include "sim/cli/command.hpp"
#include "sim/cli/python_launcher.hpp"  // run_python_main

#include <memory>  // std::make_shared
#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim::cli {

Command add_monitor_command(CLI::App& app) {
  auto args = std::make_shared<std::vector<std::string>>();
  auto* monitor = app.add_subcommand(
      "monitor",
      "Condition the projection on observed figures (CSV), flag divergence, write a report "
      "(childsim monitor OBS.csv --scenario S.yaml -o report.html; --help for all options)");
  // Everything after `monitor` goes to the Python command, which documents its own options.
  monitor->prefix_command();
  monitor->set_help_flag();
  monitor->allow_extras();
  monitor->fallthrough(false);  // its arguments belong to it, not to the top-level app
  return {monitor, [monitor, args] {
            *args = monitor->remaining();
            return run_python_main("monitoring", *args);
          }};
}

}  // namespace childsim::cli
