// base_data_fuzz: libFuzzer target over the base-data loader (sim/data/base_data and the
// facilities and targets of a place).
//
// The first input byte chooses one of the eight files of scenarios/changning/; the rest replaces
// its text in a private copy of the directory, which is then loaded as a scenario would load it.
// Any bytes must give base data or a config::ConfigError naming the file: another exception, a
// crash or a sanitizer report is a bug.
//
// The seven files an execution does not change are parsed once per process, not once per
// execution (wrapped_loaders.hpp): `config::load_config_text` of a file's original text and
// `config::load_config_file` of an unchanged file answer from a memo; and of the three loads
// (base data, facilities, targets), one whose input files are all unchanged gives the
// original's result, computed once (the facilities read streets.yaml and facilities.yaml). The
// changed file is written, read and parsed for real, and every load it can affect (with all the
// checks across files) runs every time.
#include "sim/config/config_tree.hpp"      // ConfigError, ConfigNode
#include "sim/core/time.hpp"               // YearMonth
#include "sim/data/base_data.hpp"          // load_base_data
#include "sim/services/facilities.hpp"     // load_facilities
#include "sim/services/targets.hpp"        // load_targets
#include "tests/fuzz/wrapped_loaders.hpp"  // real_load_config_text, real_load_config_file

#include <fmt/format.h>  // fmt::format
#include <unistd.h>      // getpid

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint8_t
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream, std::ifstream
#include <iterator>    // std::istreambuf_iterator
#include <optional>    // std::optional
#include <string>      // std::string
#include <vector>      // std::vector

namespace {

namespace fs = std::filesystem;

// pack.yaml: the districts of a pack (docs/data-packs.md), read by load_base_data.
const char* const kFiles[] = {"streets.yaml",   "population.yaml", "fertility.yaml",
                              "mortality.yaml", "parameters.yaml", "facilities.yaml",
                              "targets.yaml",   "pack.yaml"};
constexpr std::size_t kNumFiles = sizeof kFiles / sizeof kFiles[0];
constexpr std::size_t kNone = kNumFiles;
constexpr std::size_t kStreets = 0, kFacilities = 5, kTargets = 6, kPack = 7;
/// Files read by load_base_data: those before kFacilities, and pack.yaml.
constexpr bool is_base_data(std::size_t k) {
  return k < kFacilities || k == kPack;
}

/// A private copy of the shipped base data, removed at exit.
struct Copy {
  fs::path dir;
  std::string originals[kNumFiles];
  /// Each original file's tree, parsed on first use, as `load_config_text` (from
  /// `load_base_data`) and `load_config_file` (from facilities and targets) give it.
  mutable std::optional<childsim::config::ConfigNode> text_trees[kNumFiles];
  mutable std::optional<childsim::config::ConfigNode> file_trees[kNumFiles];
  /// The file whose text the last execution replaced (kNone before the first).
  mutable std::size_t changed = kNone;

  Copy() {
    const fs::path from = fs::path(CHILDSIM_SOURCE_DIR) / "scenarios" / "changning";
    dir = fs::temp_directory_path() / ("childsim_base_fuzz_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::copy(from, dir, fs::copy_options::recursive);
    for (std::size_t k = 0; k < kNumFiles; ++k) {
      std::ifstream in(dir / kFiles[k], std::ios::binary);
      originals[k].assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  ~Copy() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  /// Give file `k` the text `text`, and the file changed before its original text back (all
  /// other files hold their originals throughout).
  void put(std::size_t k, const std::string& text) const {
    if (changed != kNone && changed != k) write(changed, originals[changed]);
    write(k, text);
    changed = k;
  }
  void write(std::size_t k, const std::string& text) const {
    std::ofstream(dir / kFiles[k], std::ios::binary | std::ios::trunc) << text;
  }
  /// The index of the file of the copy that `path` names (as the loaders spell it), or kNone.
  std::size_t index_of(const fs::path& path) const {
    const fs::path normal = path.lexically_normal();
    if (normal.parent_path() != dir) return kNone;
    for (std::size_t k = 0; k < kNumFiles; ++k)
      if (normal.filename() == kFiles[k]) return k;
    return kNone;
  }
};

const Copy& copy() {
  static const Copy c;
  return c;
}

}  // namespace

childsim::config::ConfigNode wrap_load_config_text(
    const std::string& text, const std::string& name,
    const fs::path& base_dir) __asm__("__wrap_" CHILDSIM_SYM_load_config_text);
childsim::config::ConfigNode wrap_load_config_text(const std::string& text, const std::string& name,
                                                   const fs::path& base_dir) {
  const Copy& c = copy();
  const std::size_t k = c.index_of(name);
  // Only the original text of a file, named as load_base_data names it, is remembered.
  if (!childsim::fuzz::memo_on() || k == kNone ||
      name != (c.dir / kFiles[k]).lexically_normal().string() || base_dir != c.dir ||
      text != c.originals[k])
    return childsim::fuzz::real_load_config_text(text, name, base_dir);
  if (!c.text_trees[k])
    c.text_trees[k] = childsim::fuzz::real_load_config_text(text, name, base_dir);
  return *c.text_trees[k];
}

childsim::config::ConfigNode wrap_load_config_file(const fs::path& file) __asm__(
    "__wrap_" CHILDSIM_SYM_load_config_file);
childsim::config::ConfigNode wrap_load_config_file(const fs::path& file) {
  const Copy& c = copy();
  const std::size_t k = c.index_of(file);
  // Paths are remembered as spelled: the tree's origins carry the file name as given.
  if (!childsim::fuzz::memo_on() || k == kNone || k == c.changed || file != c.dir / kFiles[k])
    return childsim::fuzz::real_load_config_file(file);
  if (!c.file_trees[k]) c.file_trees[k] = childsim::fuzz::real_load_config_file(file);
  return *c.file_trees[k];
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Copy& c = copy();
  if (size == 0) return 0;
  const std::size_t k = data[0] % kNumFiles;
  c.put(k, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  try {
    // A load whose inputs are all unchanged gives the original's result, computed once; the
    // others run.
    const bool memo = childsim::fuzz::memo_on();
    static std::optional<childsim::BaseData> original_base;
    static std::optional<childsim::Facilities> original_facilities;
    static std::optional<std::vector<childsim::Target>> original_targets;
    std::optional<childsim::BaseData> changed_base;
    if (!memo || is_base_data(k))
      changed_base = childsim::load_base_data(c.dir);
    else if (!original_base)
      original_base = childsim::load_base_data(c.dir);
    const childsim::BaseData& base = changed_base ? *changed_base : *original_base;
    // The facilities read only the base data's directory, streets and reference point (all
    // from streets.yaml) and facilities.yaml.
    std::optional<childsim::Facilities> changed_facilities;
    if (!memo || k == kStreets || k == kFacilities)
      changed_facilities = childsim::load_facilities(base, childsim::YearMonth{2024, 1}, 144);
    else if (!original_facilities)
      original_facilities = childsim::load_facilities(base, childsim::YearMonth{2024, 1}, 144);
    const childsim::Facilities& facilities =
        changed_facilities ? *changed_facilities : *original_facilities;
    std::optional<std::vector<childsim::Target>> changed_targets;
    if (!memo || k == kTargets)
      changed_targets = childsim::load_targets(c.dir / "targets.yaml");
    else if (!original_targets)
      original_targets = childsim::load_targets(c.dir / "targets.yaml");
    const std::vector<childsim::Target>& targets =
        changed_targets ? *changed_targets : *original_targets;

    double parameters = 0;
    for (const auto& row : base.parameters.rows()) parameters += row.value;
    childsim::fuzz::trace(fmt::format(
        "ok {} streets, children {}, parameters {}, {} facilities of capacity {} at ({}, {}), {} "
        "targets",
        base.n_streets(), childsim::fuzz::sum(base.children_by_age), parameters, facilities.size(),
        childsim::fuzz::sum(facilities.capacity_schedule), childsim::fuzz::sum(facilities.x_m),
        childsim::fuzz::sum(facilities.y_m), targets.size()));
  } catch (const childsim::config::ConfigError& e) {
    childsim::fuzz::trace(e.what());
  }
  return 0;
}
