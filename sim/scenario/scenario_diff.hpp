// scenario_diff: what a what-if changes relative to the scenario it extends.
//
// `childsim validate` prints it, so that a planner sees what the file does to its base: the
// items added to, removed from or replaced in the inherited lists (investments, new housing,
// subsidies), and every value set or overridden. Removing or replacing an item of the base
// (a commitment of the plan, in the baseline) is also a warning.
#pragma once

#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

struct ScenarioChanges {
  std::string base;                   ///< the file named by `extends` ("" when none)
  std::vector<std::string> lines;     ///< one change a line, in file order
  std::vector<std::string> warnings;  ///< base commitments removed or replaced
};

/// The changes `file` makes to the scenario it extends. Throws config::ConfigError.
ScenarioChanges scenario_changes(const std::filesystem::path& file);

}  // namespace childsim
