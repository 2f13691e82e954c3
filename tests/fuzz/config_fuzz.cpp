// config_fuzz: libFuzzer target over the YAML reader with origins (sim/config/config_tree).
//
// Any bytes must give a tree or a config::ConfigError — never a crash, a hang, another
// exception or a sanitizer report. A tree must survive to_yaml and read back the same, and
// every scalar must convert (or be refused) as a number, an integer and a boolean.
#include "sim/config/config_tree.hpp"  // load_config_text, to_yaml, as_*

#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint8_t
#include <cstdlib>  // std::abort
#include <string>   // std::string

namespace {

using childsim::config::ConfigError;
using childsim::config::ConfigNode;

void convert_all(const ConfigNode& node) {
  if (node.is_scalar()) {
    try {
      (void)childsim::config::as_double(node);
    } catch (const ConfigError&) {
    }
    try {
      (void)childsim::config::as_int(node);
    } catch (const ConfigError&) {
    }
    try {
      (void)childsim::config::as_bool(node);
    } catch (const ConfigError&) {
    }
  }
  for (const auto& item : node.items) convert_all(item);
  for (const auto& [key, value] : node.entries) convert_all(value);
}

// Same shape and text (origins differ: the emitted text is laid out anew).
bool same(const ConfigNode& a, const ConfigNode& b) {
  if (a.kind != b.kind || a.items.size() != b.items.size() || a.entries.size() != b.entries.size())
    return false;
  if (a.is_scalar() && a.scalar != b.scalar) return false;
  for (std::size_t i = 0; i < a.items.size(); ++i)
    if (!same(a.items[i], b.items[i])) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i)
    if (a.entries[i].first != b.entries[i].first || !same(a.entries[i].second, b.entries[i].second))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ConfigNode root;
  try {
    // No base directory: `extends` must not reach files outside what the fuzzer writes.
    root = childsim::config::load_config_text(text, "<fuzz>", "/nonexistent");
  } catch (const ConfigError&) {
    return 0;
  }
  convert_all(root);
  std::string emitted;
  try {
    emitted = childsim::config::to_yaml(root);
  } catch (const ConfigError&) {
    return 0;  // not every text can be emitted (yaml-cpp refuses some); that is reported
  }
  ConfigNode again;
  try {
    again = childsim::config::load_config_text(emitted, "<emitted>", "/nonexistent");
  } catch (const ConfigError&) {
    std::abort();  // what we wrote, we must be able to read
  }
  if (!same(root, again)) std::abort();  // a stored scenario must read back as it was
  return 0;
}
