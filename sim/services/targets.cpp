// targets: reading targets.yaml and comparing indicators with thresholds.
#include "sim/services/targets.hpp"

#include "sim/config/config_tree.hpp"  // load_config_file, MapReader
#include "sim/io/output_catalog.hpp"   // output_catalog, find_output

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::find, std::find_if
#include <cctype>     // std::isdigit
#include <cmath>      // std::isnan

namespace childsim {
namespace {

// Targets of the base data whose indicator the model does not compute, and why. Such a
// target is kept (with an empty indicator) and recorded as not evaluated (-1).
struct NotComputed {
  const char* id;
  const char* reason;
};
constexpr NotComputed kNotComputed[] = {
    {"", ""},  // every target of the Changning data is computed
};

bool is_target_indicator(const std::string& name) {
  const io::OutputSpec* o = io::find_output(name);
  return o && name.rfind("indicator_", 0) == 0 && name != "indicator_target_met" &&
         o->dims == std::vector<std::string>{"replicate", "year"};
}

// "kindergarten_nursery_class_share_2025" → "kindergarten_nursery_class_share".
std::string without_year_suffix(const std::string& id) {
  const auto us = id.rfind('_');
  if (us == std::string::npos || id.size() - us != 5) return id;
  for (std::size_t k = us + 1; k < id.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(id[k]))) return id;
  return id.substr(0, us);
}

}  // namespace

std::string not_computed_reason(const std::string& id) {
  for (const auto& nc : kNotComputed)
    if (id == nc.id) return nc.reason;
  return "";
}

std::vector<std::string> target_indicators() {
  std::vector<std::string> out;
  for (const auto& o : io::output_catalog())
    if (is_target_indicator(o.name)) out.push_back(o.name);
  return out;
}

bool target_met(const Target& t, double v) {
  if (std::isnan(v)) return false;
  if (t.comparison == ">=") return v >= t.threshold;
  if (t.comparison == ">") return v > t.threshold;
  if (t.comparison == "<=") return v <= t.threshold;
  if (t.comparison == "<") return v < t.threshold;
  return v == t.threshold;  // "==" (validated on reading)
}

namespace {

// The indicator a target tests: `indicator:` (or `variable:`, the output's full name) when
// given, else from the id (targets.hpp). Empty when the target is one the model knows but
// cannot evaluate; anything else that maps to no indicator is a located error.
std::string resolve_indicator(config::MapReader& r, const std::string& id,
                              const std::string& inherited) {
  const auto* ind = r.optional("indicator");
  const auto* var = r.optional("variable");
  if (ind && var) var->fail("give 'indicator:' or 'variable:', not both");
  if (!ind) ind = var;
  std::vector<std::string> tried;
  if (ind) {
    std::string name = config::as_string(*ind);
    if (name.rfind("indicator_", 0) != 0) name = "indicator_" + name;
    tried.push_back(name);
  } else if (!inherited.empty()) {
    return inherited;
  } else {
    tried.push_back("indicator_" + id);
    const std::string stripped = without_year_suffix(id);
    if (stripped != id) tried.push_back("indicator_" + stripped);
  }
  for (const auto& name : tried)
    if (is_target_indicator(name)) return name;
  if (!ind && !not_computed_reason(id).empty()) return "";
  std::string known, names;
  for (const auto& n : tried) names += (names.empty() ? "" : ", ") + n;
  for (const auto& n : target_indicators())
    known += (known.empty() ? "" : ", ") + n.substr(std::string("indicator_").size());
  (ind ? *ind : r.required("id"))
      .fail(fmt::format("target '{}' names no yearly district indicator (tried {}); give "
                        "'indicator:' one of: {}",
                        id, names, known));
}

// The source of a target: `source:` or `assumed:`; "" when neither is given.
std::string read_source(config::MapReader& r) {
  if (r.has("source") && r.has("assumed"))
    r.required("assumed").fail("give 'source:' or 'assumed:', not both");
  if (r.has("source")) return r.require_string("source");
  if (r.has("assumed")) return "assumed: " + r.require_string("assumed");
  return "";
}

// One target of a list; `base` is the target it overrides (scenario targets) or null.
Target read_target(const config::ConfigNode& item, const Target* base) {
  config::MapReader r(item);
  Target t = base ? *base : Target{};
  t.id = r.require_string("id");
  t.description = r.get_string("description", base ? base->description : t.id);
  t.threshold = base ? r.get_double("threshold", base->threshold, -1e15, 1e15)
                     : r.require_double("threshold", -1e15, 1e15);
  t.comparison =
      r.get_choice("comparison", base ? base->comparison : ">=", {">=", ">", "<=", "<", "=="});
  t.year = static_cast<int>(r.get_int("year", base ? base->year : 0, 1900, 2200));
  if (const auto* p = r.optional("plan_item"))  // null for national or municipal targets
    t.plan_item = p->kind == config::ConfigNode::Kind::null ? "" : config::as_string(*p);
  const std::string source = read_source(r);
  if (!source.empty()) {
    t.source = source;
  } else if (!base) {
    item.fail("expected 'source:' or 'assumed:'");
  } else if (r.has("threshold") || r.has("comparison") || r.has("year") || r.has("indicator") ||
             r.has("variable")) {
    // The base's source speaks for the base's target, not for a changed one.
    item.fail(fmt::format(
        "target '{}' changes the target of targets.yaml: say where the new one comes from "
        "with 'source:' or 'assumed:'",
        t.id));
  }
  t.indicator = resolve_indicator(r, t.id, base ? base->indicator : "");
  r.allow("note");
  r.allow("plan_text");  // the plan's sentence, quoted (for readers; not evaluated)
  r.finish();
  return t;
}

}  // namespace

std::vector<Target> load_targets(const std::filesystem::path& file) {
  std::vector<Target> targets;
  if (!std::filesystem::exists(file)) return targets;
  const auto root = config::load_config_file(file);
  config::MapReader top(root);
  const auto& list = top.required("targets");
  top.allow("note");
  top.finish();
  if (list.kind == config::ConfigNode::Kind::null) return targets;
  if (!list.is_sequence()) list.fail("expected a list of targets");
  for (const auto& item : list.items) {
    Target t = read_target(item, nullptr);
    for (const auto& other : targets)
      if (other.id == t.id) item.find("id")->fail(fmt::format("target '{}' is listed twice", t.id));
    targets.push_back(std::move(t));
  }
  return targets;
}

void apply_scenario_targets(const config::ConfigNode& list, std::vector<Target>& targets) {
  if (list.kind == config::ConfigNode::Kind::null) return;
  if (!list.is_sequence())
    list.fail(
        "expected a list of targets (each with 'id:'; a new id adds a target, the id of "
        "one in targets.yaml overrides the keys given)");
  std::vector<std::string> seen;
  for (const auto& item : list.items) {
    if (!item.is_map()) item.fail("expected a map with 'id:'");
    const auto* id_node = item.find("id");
    if (!id_node) item.fail("missing required key 'id'");
    const std::string id = config::as_string(*id_node);
    if (std::find(seen.begin(), seen.end(), id) != seen.end())
      id_node->fail(fmt::format("target '{}' is listed twice in the scenario", id));
    seen.push_back(id);
    auto it =
        std::find_if(targets.begin(), targets.end(), [&](const Target& t) { return t.id == id; });
    if (it != targets.end())
      *it = read_target(item, &*it);
    else
      targets.push_back(read_target(item, nullptr));
  }
}

}  // namespace childsim
