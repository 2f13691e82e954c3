// base_data_fuzz: libFuzzer target over the base-data loader (sim/data/base_data and the
// facilities and targets of a place).
//
// The first input byte chooses one file of scenarios/changning/; the rest replaces its text in
// a private copy of the directory, which is then loaded as a scenario would load it. Any bytes
// must give base data or a config::ConfigError naming the file: another exception, a crash or
// a sanitizer report is a bug.
#include "sim/config/config_tree.hpp"   // ConfigError
#include "sim/core/time.hpp"            // YearMonth
#include "sim/data/base_data.hpp"       // load_base_data
#include "sim/services/facilities.hpp"  // load_facilities
#include "sim/services/targets.hpp"     // load_targets

#include <unistd.h>  // getpid

#include <cstddef>     // std::size_t
#include <cstdint>     // std::uint8_t
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ofstream, std::ifstream
#include <iterator>    // std::istreambuf_iterator
#include <string>      // std::string

namespace {

namespace fs = std::filesystem;

const char* const kFiles[] = {"streets.yaml",   "population.yaml", "fertility.yaml",
                              "mortality.yaml", "parameters.yaml", "facilities.yaml",
                              "targets.yaml"};
constexpr std::size_t kNumFiles = sizeof kFiles / sizeof kFiles[0];

/// A private copy of the shipped base data, removed at exit.
struct Copy {
  fs::path dir;
  std::string originals[kNumFiles];
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
  void put(std::size_t k, const std::string& text) const {
    std::ofstream(dir / kFiles[k], std::ios::binary | std::ios::trunc) << text;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Copy copy;
  if (size == 0) return 0;
  const std::size_t k = data[0] % kNumFiles;
  copy.put(k, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  try {
    const childsim::BaseData base = childsim::load_base_data(copy.dir);
    (void)childsim::load_facilities(base, childsim::YearMonth{2024, 1}, 144);
    (void)childsim::load_targets(copy.dir / "targets.yaml");
  } catch (const childsim::config::ConfigError&) {
  }
  copy.put(k, copy.originals[k]);
  return 0;
}
