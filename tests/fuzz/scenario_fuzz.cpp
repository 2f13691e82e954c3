// scenario_fuzz: libFuzzer target over the scenario loader — YAML text to a validated Scenario.
//
// Relative paths resolve in scenarios/, so `base_data: changning` and `extends: baseline.yaml`
// reach the real files. Any bytes must give a Scenario or a config::ConfigError (located):
// another exception type, a crash, a hang or a sanitizer report is a bug.
#include "sim/config/config_tree.hpp"  // ConfigError
#include "sim/scenario/scenario.hpp"   // load_scenario_text

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint8_t
#include <filesystem>  // std::filesystem::path
#include <string>      // std::string

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path scenarios =
      std::filesystem::path(CHILDSIM_SOURCE_DIR) / "scenarios";
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const childsim::Scenario sc = childsim::load_scenario_text(text, scenarios, "fuzz.yaml");
    (void)sc.n_months();
  } catch (const childsim::config::ConfigError&) {
  }
  return 0;
}
