// wrapped_loaders: the real loaders behind the fuzz targets' memos of files that do not change.
//
// A scenario_fuzz execution used to spend most of its time re-reading the shipped base data
// (about 180 kB of YAML, the same every time), and a base_data_fuzz execution re-read the six
// files it had not changed. The fuzz targets are therefore linked with `-Wl,--wrap=SYMBOL` for
// the loaders listed in tests/fuzz/CMakeLists.txt: every call of such a loader (from the core
// or from the harness) goes to the harness's `__wrap_SYMBOL`, which answers from its memo or
// calls the real loader, `__real_SYMBOL`. A memo entry is keyed by the exact arguments (a result
// records the path as it was given) and is stored only for files no execution changes, so each
// answer is the one the real loader gives, and each execution still runs all the code that the
// fuzzed bytes can reach. The symbols' mangled names come from CMake (CHILDSIM_SYM_*): if a
// loader's signature changes, its `__real_` name is undefined and the link fails.
#pragma once

#include "sim/config/config_tree.hpp"   // ConfigNode
#include "sim/core/time.hpp"            // YearMonth
#include "sim/data/base_data.hpp"       // BaseData
#include "sim/services/facilities.hpp"  // Facilities
#include "sim/services/targets.hpp"     // Target

#include <cstdio>      // std::fprintf
#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim::fuzz {

/// The real `load_base_data`.
BaseData real_load_base_data(const std::filesystem::path& dir) __asm__(
    "__real_" CHILDSIM_SYM_load_base_data);
/// The real `config::load_config_file`.
config::ConfigNode real_load_config_file(const std::filesystem::path& file) __asm__(
    "__real_" CHILDSIM_SYM_load_config_file);
/// The real `config::load_config_text`.
config::ConfigNode real_load_config_text(
    const std::string& text, const std::string& name,
    const std::filesystem::path& base_dir) __asm__("__real_" CHILDSIM_SYM_load_config_text);

/// The real `load_facilities`.
Facilities real_load_facilities(const BaseData& base, YearMonth start,
                                int n_months) __asm__("__real_" CHILDSIM_SYM_load_facilities);
/// The real `load_targets`.
std::vector<Target> real_load_targets(const std::filesystem::path& file) __asm__(
    "__real_" CHILDSIM_SYM_load_targets);

/// False when CHILDSIM_FUZZ_NO_MEMO is set: every call goes to the real loader, so that a
/// corpus can be run with and without the memo and the outcomes compared
/// (docs/reliability.md).
inline bool memo_on() {
  static const bool on = std::getenv("CHILDSIM_FUZZ_NO_MEMO") == nullptr;
  return on;
}

/// A short digest of loaded data for `trace`: the sum of a few numbers.
template <class Range>
double sum(const Range& values) {
  double s = 0;
  for (const auto& v : values) s += static_cast<double>(v);
  return s;
}

/// With CHILDSIM_FUZZ_TRACE set, one line per execution on stderr saying how it ended (for
/// that comparison); nothing otherwise.
inline void trace(const std::string& outcome) {
  static const bool on = std::getenv("CHILDSIM_FUZZ_TRACE") != nullptr;
  if (on) std::fprintf(stderr, "outcome: %s\n", outcome.c_str());
}

}  // namespace childsim::fuzz
