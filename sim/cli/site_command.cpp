// site_command: `childsim site PROBLEM.yaml -o DIR` — choose sites for new facilities on the
// demand an ensemble of the base scenario projects (exact integer programme and lazy greedy),
// write the best plans as what-if scenarios and prove them by simulation against the base
// (docs/siting.md). The work is the Python analysis package's (childsim.siting, which runs the
// same library through childsim._core); this passes the arguments through.
#include "sim/cli/command.hpp"
#include "sim/cli/python_launcher.hpp"  // run_python_main

#include <memory>  // std::make_shared
#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim::cli {

Command add_site_command(CLI::App& app) {
  auto args = std::make_shared<std::vector<std::string>>();
  auto* site = app.add_subcommand(
      "site",
      "Optimise where new facilities go on simulated demand, then prove the best plans by "
      "simulation (childsim site PROBLEM.yaml -o DIR; --help for all options)");
  // Everything after `site` goes to the Python command, which documents its own options.
  site->prefix_command();
  site->set_help_flag();
  site->allow_extras();
  site->fallthrough(false);  // its arguments belong to it, not to the top-level app
  return {site, [site, args] {
            *args = site->remaining();
            return run_python_main("siting", *args);
          }};
}

}  // namespace childsim::cli
