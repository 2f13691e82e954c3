// parameters: reading the parameter table and applying overrides.
#include "sim/data/parameters.hpp"

#include <fmt/format.h>  // fmt::format

#include <stdexcept>  // std::out_of_range

namespace childsim {

ParameterTable ParameterTable::load(const config::ConfigNode& root) {
  config::MapReader top(root);
  const config::ConfigNode& list = top.required("parameters");
  top.finish();
  if (!list.is_sequence()) list.fail("expected a list of parameters");
  ParameterTable table;
  for (const auto& item : list.items) {
    config::MapReader r(item);
    Parameter p;
    p.origin = item.origin;
    p.name = r.require_string("name");
    if (table.find(p.name)) item.fail(fmt::format("parameter '{}' is defined twice", p.name));
    p.unit = r.require_string("unit");
    p.description = r.require_string("description");
    const config::ConfigNode& range = r.required("range");
    if (!range.is_sequence() || range.items.size() != 2) range.fail("expected a range [low, high]");
    p.lo = config::as_double(range.items[0]);
    p.hi = config::as_double(range.items[1]);
    if (!(p.lo <= p.hi)) range.fail("expected low <= high");
    const config::ConfigNode& value = r.required("value");
    p.value = config::check_range(value, config::as_double(value), p.lo, p.hi);
    p.default_value = p.value;
    const bool has_source = r.has("source"), has_assumed = r.has("assumed");
    if (has_source == has_assumed)
      item.fail("each parameter needs exactly one of 'source:' or 'assumed:'");
    p.assumed = has_assumed;
    p.source = r.require_string(has_source ? "source" : "assumed");
    r.finish();
    table.rows_.push_back(std::move(p));
  }
  return table;
}

const Parameter* ParameterTable::find(const std::string& name) const {
  for (const auto& p : rows_)
    if (p.name == name) return &p;
  return nullptr;
}

double ParameterTable::operator[](const std::string& name) const {
  if (const Parameter* p = find(name)) return p->value;
  throw std::out_of_range(fmt::format("parameter '{}' is not defined in parameters.yaml", name));
}

void ParameterTable::set(const std::string& name, double value, const config::ConfigNode& at) {
  for (auto& p : rows_) {
    if (p.name != name) continue;
    config::check_range(at, value, p.lo, p.hi);
    p.value = value;
    return;
  }
  std::string known;
  for (const auto& p : rows_) known += (known.empty() ? "" : ", ") + p.name;
  at.fail(fmt::format("unknown parameter '{}' (known parameters: {})", name, known));
}

}  // namespace childsim
