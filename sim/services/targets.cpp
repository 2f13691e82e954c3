// targets: reading targets.yaml and comparing indicators with thresholds.
#include "sim/services/targets.hpp"

#include "sim/config/config_tree.hpp"  // load_config_file, MapReader
#include "sim/io/output_catalog.hpp"   // output_catalog, find_output

#include <fmt/format.h>  // fmt::format

#include <cctype>  // std::isdigit
#include <cmath>   // std::isnan

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
    config::MapReader r(item);
    Target t;
    t.id = r.require_string("id");
    for (const auto& other : targets)
      if (other.id == t.id) r.required("id").fail(fmt::format("target '{}' is listed twice", t.id));
    t.description = r.get_string("description", t.id);
    t.threshold = r.require_double("threshold", -1e15, 1e15);
    t.comparison = r.get_choice("comparison", ">=", {">=", ">", "<=", "<", "=="});
    t.year = static_cast<int>(r.get_int("year", 0, 1900, 2200));
    if (const auto* p = r.optional("plan_item"))  // null for national or municipal targets
      if (p->kind != config::ConfigNode::Kind::null) t.plan_item = config::as_string(*p);
    if (r.has("source"))
      t.source = r.require_string("source");
    else if (r.has("assumed"))
      t.source = "assumed: " + r.require_string("assumed");
    else
      item.fail("expected 'source:' or 'assumed:'");

    std::vector<std::string> tried;
    if (const auto* ind = r.optional("indicator")) {
      std::string name = config::as_string(*ind);
      if (name.rfind("indicator_", 0) != 0) name = "indicator_" + name;
      tried.push_back(name);
    } else {
      tried.push_back("indicator_" + t.id);
      const std::string stripped = without_year_suffix(t.id);
      if (stripped != t.id) tried.push_back("indicator_" + stripped);
    }
    for (const auto& name : tried)
      if (t.indicator.empty() && is_target_indicator(name)) t.indicator = name;
    const bool not_computed = !r.has("indicator") && !not_computed_reason(t.id).empty();
    if (t.indicator.empty() && !not_computed) {
      std::string known, names;
      for (const auto& n : tried) names += (names.empty() ? "" : ", ") + n;
      for (const auto& n : target_indicators())
        known += (known.empty() ? "" : ", ") + n.substr(std::string("indicator_").size());
      const auto* at = r.optional("indicator");
      (at ? *at : r.required("id"))
          .fail(fmt::format("target '{}' names no yearly district indicator (tried {}); give "
                            "'indicator:' one of: {}",
                            t.id, names, known));
    }
    r.allow("note");
    r.allow("plan_text");  // the plan's sentence, quoted (for readers; not evaluated)
    r.finish();
    targets.push_back(std::move(t));
  }
  return targets;
}

}  // namespace childsim
