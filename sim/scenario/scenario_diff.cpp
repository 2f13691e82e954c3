// scenario_diff: comparing a what-if's own text with its merged base.
#include "sim/scenario/scenario_diff.hpp"

#include "sim/config/config_tree.hpp"   // load_config_file(_unmerged), accumulating_lists
#include "sim/scenario/list_edits.hpp"  // id_or_name

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::find

namespace childsim {
namespace {

using config::ConfigNode;

std::string item_word(const std::string& path) {
  if (path == "investments") return "investment";
  if (path == "demography.new_housing") return "housing project";
  return "subsidy";
}

// A value in one line: scalars as written, anything else as compact YAML.
std::string shown(const ConfigNode& node) {
  if (node.is_scalar()) return node.scalar;
  std::string text = config::to_yaml(node);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

struct Walker {
  ScenarioChanges& out;
  std::string base_name;

  void list(const ConfigNode& own, const ConfigNode* base, const std::string& path) {
    const std::string word = item_word(path);
    auto in_base = [&](const std::string& id) -> const ConfigNode* {
      if (base && base->is_sequence())
        for (const auto& item : base->items)
          if (id_or_name(item) == id) return &item;
      return nullptr;
    };
    if (!own.is_sequence()) return;  // validation reports it
    for (const auto& item : own.items) {
      const int line = item.origin.line;
      const ConfigNode* rm = item.is_map() ? item.find("remove") : nullptr;
      const ConfigNode* rp = item.is_map() ? item.find("replace") : nullptr;
      if (rm || rp) {
        const std::string id = (rm ? rm : rp)->scalar;
        const char* verb = rm ? "removed" : "replaced";
        out.lines.push_back(fmt::format("{} {} '{}' (line {})", verb, word, id, line));
        const ConfigNode* b = in_base(id);
        const bool national = path == "policy.subsidies" && id == "national" && !b;
        if (b || national)
          out.warnings.push_back(fmt::format(
              "{} the base scenario's {} '{}'{} ({})", rm ? "removes" : "replaces", word, id,
              national ? " (the built-in national childcare subsidy)" : "",
              b ? fmt::format("{}:{}", b->origin.file, b->origin.line) : std::string("built in")));
        continue;
      }
      const std::string id = id_or_name(item);
      out.lines.push_back(fmt::format("added {} '{}' (line {})", word,
                                      id.empty() ? std::string("(unnamed)") : id, line));
    }
  }

  // A list merged by id (targets): each item adds a target or overrides keys of one.
  void keyed_list(const ConfigNode& own, const ConfigNode* base, const std::string& path) {
    const std::string word = path == "targets" ? "target" : "item";
    for (const auto& item : own.items) {
      const ConfigNode* id = item.is_map() ? item.find("id") : nullptr;
      if (!id || !id->is_scalar()) continue;  // validation reports it
      const ConfigNode* inherited = nullptr;
      if (base && base->is_sequence())
        for (const auto& b : base->items)
          if (const ConfigNode* bid = b.is_map() ? b.find("id") : nullptr;
              bid && bid->scalar == id->scalar)
            inherited = &b;
      if (!inherited) {
        out.lines.push_back(
            fmt::format("added {} '{}' (line {})", word, id->scalar, item.origin.line));
        continue;
      }
      std::string keys;
      for (const auto& [key, value] : item.entries)
        if (key != "id") keys += (keys.empty() ? "" : ", ") + key;
      out.lines.push_back(fmt::format("overridden {} '{}': {} (line {})", word, id->scalar,
                                      keys.empty() ? "nothing" : keys, item.origin.line));
    }
  }

  void map(const ConfigNode& own, const ConfigNode* base, const std::string& path) {
    for (const auto& [key, value] : own.entries) {
      if (path.empty() && (key == "extends" || key == "name" || key == "description")) continue;
      const std::string p = path.empty() ? key : path + "." + key;
      const ConfigNode* b = base && base->is_map() ? base->find(key) : nullptr;
      const auto& lists = config::accumulating_lists();
      const auto& keyed = config::keyed_lists();
      if (value.is_sequence() && std::find(keyed.begin(), keyed.end(), p) != keyed.end()) {
        keyed_list(value, b, p);
      } else if (std::find(lists.begin(), lists.end(), p) != lists.end()) {
        list(value, b, p);
      } else if (value.is_map() && (!b || b->is_map())) {
        map(value, b, p);
      } else if (!b) {
        out.lines.push_back(
            fmt::format("set {}: {} (line {})", p, shown(value), value.origin.line));
      } else if (config::to_yaml(*b) != config::to_yaml(value)) {
        out.lines.push_back(fmt::format("overridden {}: {} -> {} (line {})", p, shown(*b),
                                        shown(value), value.origin.line));
      }
    }
  }
};

}  // namespace

ScenarioChanges scenario_changes(const std::filesystem::path& file) {
  ScenarioChanges out;
  const ConfigNode own = config::load_config_file_unmerged(file);
  const ConfigNode* extends = own.find("extends");
  if (!extends || !extends->is_scalar()) return out;
  out.base = extends->scalar;
  const ConfigNode base =
      config::load_config_file(file.lexically_normal().parent_path() / extends->scalar);
  Walker{out, out.base}.map(own, &base, "");
  return out;
}

}  // namespace childsim
