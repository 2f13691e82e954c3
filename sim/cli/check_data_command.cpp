// check_data_command: `childsim check-data DIR` — every problem of a data pack, located
// (sim/data/data_check.hpp, docs/data-packs.md).
#include "sim/cli/command.hpp"
#include "sim/data/data_check.hpp"  // check_data_pack

#include <fmt/format.h>  // fmt::print

#include <memory>  // std::make_shared
#include <string>  // std::string

namespace childsim::cli {

Command add_check_data_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "check-data",
      "Check a data pack (streets, population, fertility, mortality, parameters, facilities, "
      "targets) and report every problem with file:line:column and key");
  cmd->add_option("dir", *dir, "Pack directory, e.g. scenarios/changning")->required();
  return {cmd, [dir] {
            const DataCheck r = check_data_pack(*dir);
            for (const auto& p : r.problems) fmt::print(stderr, "error: {}\n", p.what());
            if (!r.problems.empty()) {
              fmt::print(stderr, "check-data: {} problem(s) in {}\n", r.problems.size(), *dir);
              return 2;
            }
            fmt::print(
                "{}: pack '{}', {} district(s), {} streets, {:.0f} residents (2020), {} "
                "facilities, {} targets: no problems\n",
                *dir, r.pack, r.districts, r.streets, r.population_2020, r.facilities, r.targets);
            return 0;
          }};
}

}  // namespace childsim::cli
