// data_check: checking a data pack and reporting every problem (data_check.hpp).
#include "sim/data/data_check.hpp"

#include "sim/core/time.hpp"            // YearMonth
#include "sim/data/base_data.hpp"       // load_base_data
#include "sim/services/facilities.hpp"  // load_facilities
#include "sim/services/targets.hpp"     // load_targets

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::stable_sort, std::any_of, std::all_of, std::find
#include <cmath>      // std::abs, std::isfinite
#include <map>        // std::map
#include <set>        // std::set
#include <tuple>      // std::tuple

namespace childsim {
namespace {

using config::ConfigError;
using config::ConfigNode;

// Shanghai municipality's bounding box (Jinshan's coast to Chongming's northern tip,
// Qingpu's western edge to Pudong's coast), with a margin: a point outside is a typing error.
constexpr double lat_min = 30.6, lat_max = 31.95, lon_min = 120.8, lon_max = 122.05;

class Checker {
 public:
  explicit Checker(DataCheck& out) : out_(out) {}

  void problem(const ConfigNode& at, const std::string& message) {
    out_.problems.emplace_back(at.origin, at.path, message);
  }

  static const ConfigNode* get(const ConfigNode& map, const char* key) {
    return map.is_map() ? map.find(key) : nullptr;
  }
  /// A number, or false (and a problem) when the node is not one.
  bool number(const ConfigNode& node, double& x) {
    try {
      x = config::as_double(node);
      if (std::isfinite(x)) return true;
      problem(node, "expected a finite number");
    } catch (const ConfigError& e) {
      out_.problems.push_back(e);
    }
    return false;
  }
  /// The number under `key` of a {value: ...} node (or the scalar itself).
  bool value_of(const ConfigNode& node, double& x) {
    if (node.is_scalar()) return number(node, x);
    if (const auto* v = get(node, "value")) return number(*v, x);
    return false;
  }
  std::string text(const ConfigNode* node) const {
    return node && node->is_scalar() ? node->scalar : std::string{};
  }

  /// `source:` or `assumed:`, a non-empty text.
  void provenance(const ConfigNode& map, const std::string& what) {
    if (!map.is_map()) return;
    for (const char* k : {"source", "assumed"})
      if (const auto* p = map.find(k)) {
        if (p->is_scalar() && !p->scalar.empty()) return;
        problem(*p, fmt::format("'{}' must be a non-empty text", k));
        return;
      }
    problem(map, fmt::format("{} has no provenance: expected 'source:' (observed or derived, "
                             "with where from) or 'assumed:' (with the reasoning)",
                             what));
  }

  /// Every map holding `value:` or `values:` says where its numbers come from, and a value
  /// lies inside its own `range:`.
  void walk_numbers(const ConfigNode& node) {
    if (node.is_map()) {
      const auto* v = node.find("value");
      if (v || node.find("values")) provenance(node, "this number");
      if (const auto* r = node.find("range"); r && v && v->is_scalar()) check_range(*v, *r);
      for (const auto& [k, child] : node.entries) walk_numbers(child);
    } else if (node.is_sequence()) {
      for (const auto& item : node.items) walk_numbers(item);
    }
  }

  void check_range(const ConfigNode& value, const ConfigNode& range) {
    double x = 0, lo = 0, hi = 0;
    if (!range.is_sequence() || range.items.size() != 2) {
      problem(range, "expected a range [lo, hi]");
      return;
    }
    if (!number(value, x) || !number(range.items[0], lo) || !number(range.items[1], hi)) return;
    if (lo > hi)
      problem(range, fmt::format("range [{}, {}] has lo > hi", lo, hi));
    else if (x < lo || x > hi)
      problem(value, fmt::format("value {} lies outside its range [{}, {}]", x, lo, hi));
  }

  DataCheck& out_;
};

void check_pack_and_streets(Checker& c, const ConfigNode* pack, const ConfigNode* streets,
                            std::set<std::string>& street_ids, double& residents) {
  // Districts of pack.yaml (id -> node), in order.
  std::map<std::string, const ConfigNode*> districts;
  std::vector<std::string> order;
  double pack_total = 0;
  bool have_total = false;
  if (pack) {
    c.walk_numbers(*pack);
    if (const auto* t = Checker::get(*pack, "population_2020"))
      have_total = c.value_of(*t, pack_total);
    if (const auto* list = Checker::get(*pack, "districts"); list && list->is_sequence()) {
      double sum = 0;
      for (const auto& d : list->items) {
        const std::string id = c.text(Checker::get(d, "id"));
        if (id.empty()) continue;
        if (districts.count(id)) c.problem(d, fmt::format("district '{}' is listed twice", id));
        districts[id] = &d;
        order.push_back(id);
        double p = 0;
        if (const auto* pn = Checker::get(d, "population_2020"); pn && c.value_of(*pn, p)) {
          if (!(p > 0)) c.problem(*pn, "expected a positive population");
          sum += p;
        }
      }
      if (have_total && std::abs(sum - pack_total) > 0.5)
        c.problem(*Checker::get(*pack, "population_2020"),
                  fmt::format("the districts sum to {:.0f}, the pack's population_2020 is {:.0f}",
                              sum, pack_total));
    }
  }
  if (!streets) return;
  c.walk_numbers(*streets);
  if (const auto* ref = Checker::get(*streets, "reference_point"))
    c.provenance(*ref, "reference_point");
  std::map<std::string, double> by_district;
  const auto* list = Checker::get(*streets, "streets");
  if (list && list->is_sequence()) {
    for (const auto& s : list->items) {
      const std::string id = c.text(Checker::get(s, "id"));
      if (!id.empty() && !street_ids.insert(id).second)
        c.problem(s, fmt::format("street '{}' is listed twice", id));
      double x = 0;
      if (const auto* a = Checker::get(s, "area_km2"); a && c.value_of(*a, x) && !(x > 0))
        c.problem(*a, fmt::format("expected a positive area, got {}", x));
      double p = 0;
      const auto* pn = Checker::get(s, "population_2020");
      if (pn && c.value_of(*pn, p)) {
        if (!(p > 0)) c.problem(*pn, fmt::format("expected a positive population, got {}", p));
        residents += p;
      }
      for (const auto& [key, lo, hi] :
           {std::tuple{"lat", lat_min, lat_max}, std::tuple{"lon", lon_min, lon_max}})
        if (const auto* n = Checker::get(s, key); n && c.value_of(*n, x) && (x < lo || x > hi))
          c.problem(*n, fmt::format("{} {} lies outside Shanghai ({} to {})", key, x, lo, hi));
      const auto* dn = Checker::get(s, "district");
      std::string district = dn ? c.text(dn) : (order.size() == 1 ? order[0] : std::string{});
      if (dn && pack && !districts.count(district))
        c.problem(*dn, fmt::format("unknown district '{}' (not in pack.yaml)", district));
      else if (!dn && order.size() > 1)
        c.problem(s, "expected 'district:' (pack.yaml lists more than one district)");
      by_district[district] += p;
    }
  }
  for (const auto& id : order) {
    const ConfigNode& d = *districts[id];
    double census = 0;
    const auto* pn = Checker::get(d, "population_2020");
    if (!pn || !c.value_of(*pn, census)) continue;
    const double sum = by_district.count(id) ? by_district[id] : 0.0;
    if (std::abs(sum - census) > 0.5)
      c.problem(*pn, fmt::format("the streets of district '{}' sum to {:.0f} residents, its "
                                 "population_2020 is {:.0f} (difference {:+.0f})",
                                 id, sum, census, sum - census));
  }
  if (const auto* nb = Checker::get(*streets, "neighbours"); nb && nb->is_sequence())
    for (const auto& pair : nb->items) {
      if (!pair.is_sequence() || pair.items.size() != 2) {
        c.problem(pair, "expected [street, street]");
        continue;
      }
      for (const auto& x : pair.items)
        if (!street_ids.count(c.text(&x)))
          c.problem(x, fmt::format("unknown street '{}' (not in streets.yaml)", c.text(&x)));
      if (c.text(&pair.items[0]) == c.text(&pair.items[1]))
        c.problem(pair, "a street cannot neighbour itself");
    }
}

void check_population(Checker& c, const ConfigNode& root, double residents) {
  c.walk_numbers(root);
  const auto* ch = Checker::get(root, "children_by_age");
  const auto* vals = ch ? Checker::get(*ch, "values") : nullptr;
  if (!vals || !vals->is_sequence()) return;
  double total = 0, x = 0;
  for (const auto& v : vals->items)
    if (c.number(v, x)) {
      if (x < 0) c.problem(v, "expected a non-negative count");
      total += x;
    }
  if (residents > 0 && total > residents)
    c.problem(*vals, fmt::format("children aged 0-17 ({:.0f}) outnumber the residents of the "
                                 "streets ({:.0f})",
                                 total, residents));
}

void check_fertility(Checker& c, const ConfigNode& root) {
  c.walk_numbers(root);
  const auto* shape = Checker::get(root, "asfr_shape");
  const auto* vals = shape ? Checker::get(*shape, "values") : nullptr;
  if (!vals || !vals->is_sequence()) return;
  double sum = 0, x = 0;
  for (const auto& v : vals->items)
    if (c.number(v, x)) sum += x;
  if (std::abs(sum - 1.0) > 0.01)
    c.problem(*vals, fmt::format("asfr_shape is written as shares of the births by age and must "
                                 "sum to 1 (within 0.01), got {:.4f}",
                                 sum));
}

void check_parameters(Checker& c, const ConfigNode& root) {
  const auto* rows = Checker::get(root, "parameters");
  if (!rows || !rows->is_sequence()) return;
  std::set<std::string> names;
  std::map<std::string, std::pair<double, const ConfigNode*>> value;
  for (const auto& row : rows->items) {
    const std::string name = c.text(Checker::get(row, "name"));
    if (!name.empty() && !names.insert(name).second)
      c.problem(row, fmt::format("parameter '{}' is listed twice", name));
    c.provenance(row, fmt::format("parameter '{}'", name));
    const auto* v = Checker::get(row, "value");
    if (const auto* r = Checker::get(row, "range"); v && r) c.check_range(*v, *r);
    double x = 0;
    if (v && c.number(*v, x)) {
      value[name] = {x, v};
      const std::string unit = c.text(Checker::get(row, "unit"));
      if ((unit.rfind("share", 0) == 0 || unit.rfind("probability", 0) == 0) && (x < 0 || x > 1))
        c.problem(*v, fmt::format("a {} lies in [0, 1], got {}", unit, x));
    }
  }
  if (value.count("household.income_low") && value.count("household.income_high")) {
    const double s = value["household.income_low"].first + value["household.income_high"].first;
    if (s > 1.0 + 1e-12)
      c.problem(*value["household.income_high"].second,
                fmt::format("the income shares income_low + income_high = {} exceed 1 (the "
                            "middle band would be negative)",
                            s));
  }
}

int check_facilities(Checker& c, const ConfigNode& root, const std::set<std::string>& streets) {
  std::map<std::string, std::string> kind_service;
  if (const auto* kinds = Checker::get(root, "kinds"); kinds && kinds->is_map())
    for (const auto& [id, k] : kinds->entries) {
      c.provenance(k, fmt::format("kind '{}'", id));
      kind_service[id] = c.text(Checker::get(k, "service"));
    }
  const auto* list = Checker::get(root, "facilities");
  if (!list || !list->is_sequence()) return 0;
  std::map<std::string, const ConfigNode*> by_id;
  for (const auto& f : list->items) {
    const std::string id = c.text(Checker::get(f, "id"));
    c.provenance(f, fmt::format("facility '{}'", id));
    if (!id.empty() && !by_id.emplace(id, &f).second)
      c.problem(f, fmt::format("facility '{}' is listed twice", id));
    if (const auto* k = Checker::get(f, "kind"); k && !kind_service.count(c.text(k)))
      c.problem(*k, fmt::format("unknown facility kind '{}' (not under kinds:)", c.text(k)));
    if (const auto* s = Checker::get(f, "street"))
      if (c.text(s) != "outside" && !streets.count(c.text(s)))
        c.problem(
            *s, fmt::format("unknown street '{}' (not in streets.yaml, nor 'outside')", c.text(s)));
    double x = 0;
    if (const auto* n = Checker::get(f, "capacity"); n && c.number(*n, x) && x < 0)
      c.problem(*n, fmt::format("expected a capacity >= 0, got {}", x));
    if (const auto* n = Checker::get(f, "price_month"); n && c.number(*n, x) && x < 0)
      c.problem(*n, fmt::format("expected a price >= 0, got {}", x));
    if (const auto* n = Checker::get(f, "quality"); n && c.number(*n, x) && (x < 0 || x > 1))
      c.problem(*n, fmt::format("expected a quality in [0, 1], got {}", x));
  }
  for (const auto& f : list->items) {
    const auto* h = Checker::get(f, "host");
    if (!h) continue;
    const auto it = by_id.find(c.text(h));
    if (it == by_id.end()) {
      c.problem(*h, fmt::format("unknown host facility '{}'", c.text(h)));
      continue;
    }
    const ConfigNode& host = *it->second;
    if (kind_service[c.text(Checker::get(host, "kind"))] != "kindergarten")
      c.problem(*h, fmt::format("host '{}' is not a kindergarten", c.text(h)));
    else if (c.text(Checker::get(host, "street")) != c.text(Checker::get(f, "street")))
      c.problem(
          *h, fmt::format("host '{}' is in street '{}', the class in '{}'", c.text(h),
                          c.text(Checker::get(host, "street")), c.text(Checker::get(f, "street"))));
  }
  return static_cast<int>(list->items.size());
}

int check_targets(Checker& c, const ConfigNode& root) {
  const auto* list = Checker::get(root, "targets");
  if (!list || !list->is_sequence()) return 0;
  std::set<std::string> ids;
  for (const auto& t : list->items) {
    const std::string id = c.text(Checker::get(t, "id"));
    c.provenance(t, fmt::format("target '{}'", id));
    if (!id.empty() && !ids.insert(id).second)
      c.problem(t, fmt::format("target '{}' is listed twice", id));
  }
  return static_cast<int>(list->items.size());
}

}  // namespace

const std::vector<std::string>& data_pack_files() {
  static const std::vector<std::string> files{
      "pack.yaml",      "streets.yaml",    "population.yaml", "fertility.yaml",
      "mortality.yaml", "parameters.yaml", "facilities.yaml", "targets.yaml"};
  return files;
}

DataCheck check_data_pack(const std::filesystem::path& dir) {
  DataCheck out;
  Checker c(out);
  if (!std::filesystem::is_directory(dir)) {
    out.problems.emplace_back(config::Origin{dir.string(), 0, 0}, "",
                              "no such directory (a data pack is a directory of YAML files: "
                              "docs/data-packs.md)");
    return out;
  }
  // 1. Each file alone: present, readable, YAML.
  std::map<std::string, ConfigNode> tree;
  for (const auto& name : data_pack_files()) {
    const auto file = (dir / name).lexically_normal();
    if (!std::filesystem::exists(file)) {
      if (name != "pack.yaml")
        out.problems.emplace_back(config::Origin{file.string(), 0, 0}, "",
                                  "missing file: every data pack has it (docs/data-packs.md)");
      continue;
    }
    try {
      tree[name] = config::load_config_file_unmerged(file);
    } catch (const ConfigError& e) {
      out.problems.push_back(e);
    }
  }
  auto find = [&](const char* name) -> const ConfigNode* {
    const auto it = tree.find(name);
    return it == tree.end() ? nullptr : &it->second;
  };
  // 2. Every problem of the classes of data_check.hpp, without stopping.
  std::set<std::string> street_ids;
  double residents = 0;
  check_pack_and_streets(c, find("pack.yaml"), find("streets.yaml"), street_ids, residents);
  if (const auto* t = find("population.yaml")) check_population(c, *t, residents);
  if (const auto* t = find("fertility.yaml")) check_fertility(c, *t);
  if (const auto* t = find("mortality.yaml")) c.walk_numbers(*t);
  if (const auto* t = find("parameters.yaml")) check_parameters(c, *t);
  if (const auto* t = find("facilities.yaml")) out.facilities = check_facilities(c, *t, street_ids);
  if (const auto* t = find("targets.yaml")) out.targets = check_targets(c, *t);
  out.streets = static_cast<int>(street_ids.size());
  out.population_2020 = residents;

  // 3. The readers the model uses, each file's first structural problem (keys, types, lengths)
  // unless the walk above already reported a problem on that line.
  const std::size_t walked = out.problems.size();
  auto structural = [&](auto&& read) {
    try {
      read();
    } catch (const ConfigError& e) {
      const bool seen = std::any_of(
          out.problems.begin(), out.problems.begin() + static_cast<std::ptrdiff_t>(walked),
          [&](const ConfigError& p) {
            return p.origin().file == e.origin().file && p.origin().line == e.origin().line;
          });
      if (!seen) out.problems.push_back(e);
      return false;
    }
    return true;
  };
  const bool all_read = std::all_of(data_pack_files().begin() + 1, data_pack_files().end(),
                                    [&](const std::string& f) { return tree.count(f) > 0; });
  if (all_read) {
    BaseData base;
    if (structural([&] { base = load_base_data(dir); })) {
      out.pack = base.pack;
      out.districts = static_cast<int>(base.districts.size());
      if (find("facilities.yaml"))
        structural([&] { load_facilities(base, YearMonth{2024, 1}, 1); });
    }
    if (find("targets.yaml")) structural([&] { load_targets(dir / "targets.yaml"); });
  }
  // In file order (the order of data_pack_files), then by line.
  auto rank = [](const ConfigError& e) {
    const auto name = std::filesystem::path(e.origin().file).filename().string();
    const auto& files = data_pack_files();
    return static_cast<int>(std::find(files.begin(), files.end(), name) - files.begin());
  };
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [&](const ConfigError& a, const ConfigError& b) {
                     const int ra = rank(a), rb = rank(b);
                     return ra != rb ? ra < rb : a.origin().line < b.origin().line;
                   });
  return out;
}

}  // namespace childsim
