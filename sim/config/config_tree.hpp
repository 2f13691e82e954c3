// config_tree: a YAML document that remembers where every value came from.
//
// Scenario files are YAML and may `extends:` another file. Planners make mistakes, and every
// message must name the file, line, column and key at fault, so we do not hand yaml-cpp nodes
// around: `load_config_file` reads a file and the chain of files it extends into a tree of
// `ConfigNode`s, each carrying its own `Origin` and dotted key path. Validation code then
// reads the tree through `MapReader`, which converts values, checks ranges and reports keys
// that nobody asked for ("unknown key"), always with the origin of the offending node.
#pragma once

#include <cstddef>      // std::size_t
#include <cstdint>      // std::int64_t
#include <filesystem>   // std::filesystem::path
#include <stdexcept>    // std::runtime_error
#include <string>       // std::string
#include <string_view>  // std::string_view
#include <utility>      // std::pair
#include <vector>       // std::vector

namespace childsim::config {

/// Where a value was written: file and 1-based line and column (0 when unknown).
struct Origin {
  std::string file;
  int line = 0;
  int column = 0;
};

/// Any error in a configuration or data file. `what()` is the full human message:
/// "FILE:LINE:COL: key 'a.b': expected ..., got ...".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const Origin& origin, const std::string& key, const std::string& message);
  const Origin& origin() const noexcept { return origin_; }
  const std::string& key() const noexcept { return key_; }

 private:
  Origin origin_;
  std::string key_;
};

/// One node of a merged YAML document.
struct ConfigNode {
  enum class Kind { null, scalar, sequence, map };
  Kind kind = Kind::null;
  std::string scalar;                                       ///< raw text of a scalar
  std::vector<ConfigNode> items;                            ///< sequence elements
  std::vector<std::pair<std::string, ConfigNode>> entries;  ///< map entries, in file order
  Origin origin;                                            ///< where this value was written
  std::string path;  ///< dotted key path from the root, e.g. "demography.new_housing[0].street"
  /// For a map entry, where its key was written: "unknown key" and "duplicate key" point at
  /// the key, which is where the planner has to look, not at the value after it.
  Origin key_origin;
  /// True for a scalar with an explicit `!!str` tag: text, never a number or a boolean.
  bool tagged_string = false;

  bool is_map() const { return kind == Kind::map; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_scalar() const { return kind == Kind::scalar; }
  /// The entry for `key` in a map, or nullptr.
  const ConfigNode* find(std::string_view key) const;
  /// Throw a ConfigError at this node's origin and path.
  [[noreturn]] void fail(const std::string& message) const;
};

/// Lists that a file which `extends:` another adds to instead of replacing: the inherited
/// items come first, then the extending file's own (which may remove or replace an inherited
/// item by id, `- remove: ID`; see sim/scenario/list_edits.hpp). Dotted key paths.
inline const std::vector<std::string>& accumulating_lists() {
  static const std::vector<std::string> paths{"investments", "demography.new_housing",
                                              "policy.subsidies"};
  return paths;
}

/// Lists that a file which `extends:` another merges with the inherited list by `id`: an item
/// whose id is inherited merges into that item key by key (the extending file winning), any
/// other item is added after the inherited ones. A what-if's `targets:` thus adds targets or
/// changes some keys of an inherited one, and keeps the rest (docs/scenarios.md).
inline const std::vector<std::string>& keyed_lists() {
  static const std::vector<std::string> paths{"targets"};
  return paths;
}

/// Limits on what a configuration file may cost before anything is validated, so that a
/// mistaken or hostile file (`extends: /dev/zero`, a named pipe, an alias bomb) ends in a
/// located error rather than a hang or an exhausted machine (docs/reliability.md). The largest
/// shipped file is under 20 KB.
inline constexpr std::size_t max_file_bytes = std::size_t{4} << 20;  ///< 4 MiB per file
/// Values (nodes) and bytes of one document after its aliases are expanded.
inline constexpr std::size_t max_document_values = 1'000'000;
inline constexpr std::size_t max_document_bytes = std::size_t{64} << 20;  ///< 64 MiB

/// Read a whole configuration file: only a regular file (not a directory, FIFO or device; a
/// FIFO does not block) of at most `max_file_bytes`. On failure `reason` says why, in the
/// system's words where it has them.
bool read_text_file(const std::filesystem::path& file, std::string& text, std::string& reason);

/// Throw a ConfigError at the line and column of the first NUL byte or byte that is not
/// well-formed UTF-8 in `text` (the file `name`); a GBK file is told to be saved as UTF-8.
void check_text(std::string_view text, const std::string& name);

/// Read `file` and, recursively, every file it `extends:` (path relative to the extending
/// file). Maps merge key by key, the extending file winning; scalars are replaced; sequences
/// are replaced whole, except those of `accumulating_lists()`, which are concatenated, and
/// those of `keyed_lists()`, which are merged item by item by `id`. The
/// `extends` key itself is removed from the result. Errors: unreadable or missing file (naming the
/// file and, for an extended file, the `extends` line that named it), YAML syntax error (with its
/// line and column), circular `extends` (listing the chain).
ConfigNode load_config_file(const std::filesystem::path& file);

/// Read `file` alone, without following `extends:` (the key is kept as written): what a
/// what-if itself writes, for reporting its changes against its base.
ConfigNode load_config_file_unmerged(const std::filesystem::path& file);

/// Parse YAML text (for tests and for the Python front door); `name` is used as the file name
/// in messages. `extends` is resolved relative to `base_dir`.
ConfigNode load_config_text(const std::string& text, const std::string& name,
                            const std::filesystem::path& base_dir = {});

/// Emit a tree as YAML text (the resolved scenario stored in output files).
std::string to_yaml(const ConfigNode& node);

// Scalar conversion; each throws a ConfigError naming the node if the text is not of the type.
double as_double(const ConfigNode& node);
std::int64_t as_int(const ConfigNode& node);
bool as_bool(const ConfigNode& node);
std::string as_string(const ConfigNode& node);

/// Reads a map node key by key and, in `finish()`, reports any key that was never read.
///
///     MapReader r(node);
///     int reps = r.get_int("replicates", 4, 1, 10000);
///     r.finish();   // "scenario.yaml:3:1: key 'replicats': unknown key (did you mean
///     'replicates'?)"
class MapReader {
 public:
  /// Throws if `node` is not a map ("expected a map").
  explicit MapReader(const ConfigNode& node);
  const ConfigNode& node() const { return node_; }
  bool has(std::string_view key) const;
  /// The node for `key`, or nullptr; marks the key as known.
  const ConfigNode* optional(std::string_view key);
  /// The node for `key`; throws "missing required key" at the map's origin if absent.
  const ConfigNode& required(std::string_view key);
  /// Typed getters; the value must lie in [lo, hi] or the error says the allowed range.
  double get_double(std::string_view key, double fallback, double lo, double hi);
  double require_double(std::string_view key, double lo, double hi);
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi);
  std::int64_t require_int(std::string_view key, std::int64_t lo, std::int64_t hi);
  bool get_bool(std::string_view key, bool fallback);
  std::string get_string(std::string_view key, const std::string& fallback);
  std::string require_string(std::string_view key);
  /// A string that must be one of `choices` (the error lists them).
  std::string get_choice(std::string_view key, const std::string& fallback,
                         const std::vector<std::string>& choices);
  /// Declare keys that are valid but read elsewhere.
  void allow(std::string_view key);
  /// Throw on the first key that was never read or allowed, suggesting the nearest known key.
  void finish() const;

 private:
  const ConfigNode& node_;
  std::vector<std::string> known_;
};

/// Levenshtein distance between two strings (for "did you mean" suggestions).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// Range check helper used by readers: throws "expected a value in [lo, hi], got v".
double check_range(const ConfigNode& node, double value, double lo, double hi);

}  // namespace childsim::config
