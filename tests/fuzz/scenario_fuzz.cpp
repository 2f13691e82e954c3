// scenario_fuzz: libFuzzer target over the scenario loader — YAML text to a validated Scenario.
//
// Relative paths resolve in scenarios/, so `base_data: changning` and `extends: baseline.yaml`
// reach the real files. Any bytes must give a Scenario or a config::ConfigError (located):
// another exception type, a crash, a hang or a sanitizer report is a bug.
//
// The shipped base data never changes during a run, so its loaders answer from a memo
// (wrapped_loaders.hpp): `load_base_data`, `load_targets` and `config::load_config_file` of a
// directory or file under scenarios/ read and parse each file once per process instead of
// once per execution, and `load_facilities` of such base data is built once per horizon (it
// reads only the base data's directory, streets and reference point, all from its files, and
// the start month and number of months). Everything else the scenario text decides still runs
// every time: its parsing and `extends`, the validation, the parameter overrides, its
// investments (applied to a copy of the facilities) and its own targets.
#include "sim/config/config_tree.hpp"      // ConfigError
#include "sim/scenario/scenario.hpp"       // load_scenario_text
#include "tests/fuzz/wrapped_loaders.hpp"  // real_load_base_data, real_load_config_file

#include <fmt/format.h>  // fmt::format

#include <cstddef>       // std::size_t
#include <cstdint>       // std::uint8_t
#include <filesystem>    // std::filesystem::path
#include <functional>    // std::hash
#include <map>           // std::map
#include <string>        // std::string
#include <system_error>  // std::error_code
#include <tuple>         // std::tuple
#include <vector>        // std::vector

namespace {

namespace fs = std::filesystem;

const fs::path& scenarios_dir() {
  static const fs::path dir = fs::path(CHILDSIM_SOURCE_DIR) / "scenarios";
  return dir;
}

/// True for a path under scenarios/ (after following `..` and links): files that no
/// execution changes.
bool shipped(const fs::path& path) {
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(path, ec);
  if (ec) return false;
  static const fs::path root = fs::canonical(scenarios_dir());
  auto r = real.begin();
  for (auto it = root.begin(); it != root.end(); ++it, ++r)
    if (r == real.end() || *r != *it) return false;
  return true;
}

/// Entries of one memo at most: the fuzzer can spell a directory in many ways and write many
/// horizons, and a memo must not grow with the run (beyond this, results are not stored).
constexpr std::size_t kMaxEntries = 64;

/// The real loader's result for `key`, computed once when `cacheable`; failures are not
/// stored (they throw again each time).
template <class Key, class T, class Load>
T remembered(std::map<Key, T>& memo, const Key& key, bool cacheable, Load load) {
  if (!cacheable || !childsim::fuzz::memo_on()) return load();
  auto it = memo.find(key);
  if (it != memo.end()) return it->second;
  if (memo.size() >= kMaxEntries) return load();
  return memo.emplace(key, load()).first->second;
}

}  // namespace

childsim::BaseData wrap_load_base_data(const fs::path& dir) __asm__(
    "__wrap_" CHILDSIM_SYM_load_base_data);
childsim::BaseData wrap_load_base_data(const fs::path& dir) {
  static std::map<std::string, childsim::BaseData> memo;
  return remembered(memo, dir.string(), shipped(dir),
                    [&] { return childsim::fuzz::real_load_base_data(dir); });
}

childsim::config::ConfigNode wrap_load_config_file(const fs::path& file) __asm__(
    "__wrap_" CHILDSIM_SYM_load_config_file);
childsim::config::ConfigNode wrap_load_config_file(const fs::path& file) {
  static std::map<std::string, childsim::config::ConfigNode> memo;
  return remembered(memo, file.string(), shipped(file),
                    [&] { return childsim::fuzz::real_load_config_file(file); });
}

std::vector<childsim::Target> wrap_load_targets(const fs::path& file) __asm__(
    "__wrap_" CHILDSIM_SYM_load_targets);
std::vector<childsim::Target> wrap_load_targets(const fs::path& file) {
  static std::map<std::string, std::vector<childsim::Target>> memo;
  return remembered(memo, file.string(), shipped(file),
                    [&] { return childsim::fuzz::real_load_targets(file); });
}

childsim::Facilities wrap_load_facilities(
    const childsim::BaseData& base, childsim::YearMonth start,
    int n_months) __asm__("__wrap_" CHILDSIM_SYM_load_facilities);
childsim::Facilities wrap_load_facilities(const childsim::BaseData& base, childsim::YearMonth start,
                                          int n_months) {
  // Base data under scenarios/ came from its files (the scenario changes only parameters,
  // which load_facilities does not read).
  static std::map<std::tuple<std::string, int, int>, childsim::Facilities> memo;
  return remembered(memo, std::make_tuple(base.dir.string(), start.serial(), n_months),
                    shipped(base.dir),
                    [&] { return childsim::fuzz::real_load_facilities(base, start, n_months); });
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const childsim::Scenario sc = childsim::load_scenario_text(text, scenarios_dir(), "fuzz.yaml");
    double parameters = 0;
    for (const auto& row : sc.base.parameters.rows()) parameters += row.value;
    childsim::fuzz::trace(fmt::format(
        "ok {} months, {} streets, parameters {}, {} facilities of capacity {} at ({}, {}), {} "
        "investments, {} targets, scenario text {}",
        sc.n_months(), sc.base.n_streets(), parameters, sc.facilities.size(),
        childsim::fuzz::sum(sc.facilities.capacity_schedule),
        childsim::fuzz::sum(sc.facilities.x_m), childsim::fuzz::sum(sc.facilities.y_m),
        sc.investments.size(), sc.targets.size(), std::hash<std::string>{}(sc.resolved_yaml)));
  } catch (const childsim::config::ConfigError& e) {
    childsim::fuzz::trace(e.what());
  }
  return 0;
}
