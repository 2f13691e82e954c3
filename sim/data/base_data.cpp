// base_data: reading and checking the files of scenarios/<place>/.
#include "sim/data/base_data.hpp"

#include <fmt/format.h>  // fmt::format

#include <cctype>   // std::tolower
#include <cmath>    // std::cos, std::sqrt
#include <numeric>  // std::accumulate

namespace childsim {
namespace {

constexpr double pi = 3.14159265358979323846;

// A number written as {value: x, source|assumed: ...} (the provenance is documented in the
// file; the loader insists it is present so that no bare number slips in).
double sourced_value(const config::ConfigNode& node) {
  config::MapReader r(node);
  const config::ConfigNode& v = r.required("value");
  if (!r.has("source") && !r.has("assumed"))
    node.fail("expected 'source:' or 'assumed:' next to the value");
  r.allow("source");
  r.allow("assumed");
  r.allow("range");
  r.allow("unit");
  r.allow("note");
  r.finish();
  return config::as_double(v);
}

// A vector written as {values: [...], source|assumed: ..., ages_from?: n, range_factor?: [a,b]}.
std::vector<double> sourced_vector(const config::ConfigNode& node, std::size_t expected_size,
                                   int expected_ages_from = -1) {
  config::MapReader r(node);
  const config::ConfigNode& vals = r.required("values");
  if (!r.has("source") && !r.has("assumed"))
    node.fail("expected 'source:' or 'assumed:' next to the values");
  r.allow("source");
  r.allow("assumed");
  r.allow("range_factor");
  r.allow("note");
  if (expected_ages_from >= 0) {
    const auto from = r.get_int("ages_from", expected_ages_from, 0, 120);
    if (from != expected_ages_from)
      r.required("ages_from").fail(fmt::format("expected ages_from: {}", expected_ages_from));
  }
  r.finish();
  if (!vals.is_sequence()) vals.fail("expected a list of numbers");
  if (expected_size && vals.items.size() != expected_size)
    vals.fail(fmt::format("expected {} numbers, got {}", expected_size, vals.items.size()));
  std::vector<double> out;
  for (const auto& item : vals.items) {
    const double x = config::as_double(item);
    if (!(x >= 0)) item.fail("expected a non-negative number");
    out.push_back(x);
  }
  return out;
}

config::ConfigNode load_file(const std::filesystem::path& dir, const char* name) {
  const std::filesystem::path file = (dir / name).lexically_normal();
  std::string text, reason;
  if (!config::read_text_file(file, text, reason))
    throw config::ConfigError(
        config::Origin{}, "",
        fmt::format("cannot read base data file '{}' ({})", file.string(), reason));
  return config::load_config_text(text, file.string(), file.parent_path());
}

void normalise(std::vector<double>& v, const config::ConfigNode& at) {
  const double s = std::accumulate(v.begin(), v.end(), 0.0);
  if (!(s > 0)) at.fail("expected weights with a positive sum");
  for (double& x : v) x /= s;
}

// pack.yaml (optional): the pack's name and its districts. Without it the pack is one district
// named after the directory, whose population is the sum of its streets (set in read_streets).
void read_pack(BaseData& d) {
  const std::filesystem::path file = d.dir / "pack.yaml";
  if (!std::filesystem::exists(file)) {
    d.pack = d.dir.lexically_normal().filename().string();
    if (d.pack.empty() || d.pack == ".")
      d.pack = d.dir.lexically_normal().parent_path().filename().string();
    d.districts.push_back({d.pack, "", d.pack, 0.0});
    return;
  }
  const auto root = load_file(d.dir, "pack.yaml");
  config::MapReader top(root);
  d.pack = top.require_string("pack");
  top.allow("description");
  if (const auto* total = top.optional("population_2020")) sourced_value(*total);
  const auto& list = top.required("districts");
  if (!list.is_sequence() || list.items.empty()) list.fail("expected a list of districts");
  for (const auto& item : list.items) {
    config::MapReader r(item);
    District x;
    x.id = r.require_string("id");
    if (d.district_index(x.id) >= 0)
      r.required("id").fail(fmt::format("district '{}' is listed twice", x.id));
    x.name_zh = r.get_string("name_zh", "");
    x.name_en = r.get_string("name_en", x.id);
    x.population_2020 = sourced_value(r.required("population_2020"));
    if (!(x.population_2020 > 0))
      r.required("population_2020").fail("expected a positive population");
    r.finish();
    d.districts.push_back(std::move(x));
  }
  top.finish();
}

void read_streets(BaseData& d) {
  const auto root = load_file(d.dir, "streets.yaml");
  config::MapReader top(root);
  {
    config::MapReader ref(top.required("reference_point"));
    ref.allow("source");
    ref.allow("assumed");
    d.ref_lat_deg = ref.require_double("lat", -90, 90);
    d.ref_lon_deg = ref.require_double("lon", -180, 180);
    ref.finish();
  }
  const auto& list = top.required("streets");
  if (!list.is_sequence() || list.items.empty()) list.fail("expected a list of streets");
  for (const auto& item : list.items) {
    config::MapReader r(item);
    Street s;
    s.id = r.require_string("id");
    if (d.street_index(s.id) >= 0) item.fail(fmt::format("street '{}' is listed twice", s.id));
    s.name_zh = r.require_string("name_zh");
    s.name_en = r.get_string("name_en", s.id);
    s.kind = r.get_choice("kind", "street", {"street", "town"});
    if (const auto* dn = r.optional("district")) {
      s.district = d.district_index(config::as_string(*dn));
      if (s.district < 0) {
        std::string ids;
        for (const auto& x : d.districts) ids += (ids.empty() ? "" : ", ") + x.id;
        dn->fail(fmt::format("unknown district '{}' (pack.yaml lists: {})", dn->scalar, ids));
      }
    } else if (d.districts.size() > 1) {
      item.fail("expected 'district:' (pack.yaml lists more than one district)");
    }
    s.lat_deg = sourced_value(r.required("lat"));
    s.lon_deg = sourced_value(r.required("lon"));
    s.area_km2 = sourced_value(r.required("area_km2"));
    if (!(s.area_km2 > 0)) r.required("area_km2").fail("expected a positive area");
    s.population_2020 = sourced_value(r.required("population_2020"));
    if (!(s.population_2020 > 0))
      r.required("population_2020").fail("expected a positive population");
    r.finish();
    d.to_local(s.lat_deg, s.lon_deg, s.x_m, s.y_m);
    s.radius_m = std::sqrt(s.area_km2 * 1e6 / pi);
    d.streets.push_back(std::move(s));
  }
  if (const auto* nb = top.optional("neighbours")) {
    if (!nb->is_sequence()) nb->fail("expected a list of [street, street] pairs");
    for (const auto& pair : nb->items) {
      if (!pair.is_sequence() || pair.items.size() != 2) pair.fail("expected [street, street]");
      const int a = d.street_index(config::as_string(pair.items[0]));
      const int b = d.street_index(config::as_string(pair.items[1]));
      if (a < 0) pair.items[0].fail("unknown street id");
      if (b < 0) pair.items[1].fail("unknown street id");
      if (a == b) pair.fail("a street cannot neighbour itself");
      d.neighbours.emplace_back(a, b);
    }
  }
  top.allow("neighbours_source");
  top.finish();
  if (!std::filesystem::exists(d.dir / "pack.yaml"))
    for (const Street& s : d.streets) d.districts[0].population_2020 += s.population_2020;
}

void read_population(BaseData& d) {
  const auto root = load_file(d.dir, "population.yaml");
  config::MapReader top(root);
  d.children_by_age = sourced_vector(top.required("children_by_age"), BaseData::max_child_age + 1);
  d.women_age_weights = sourced_vector(top.required("women_age_weights"),
                                       BaseData::women_age_max - BaseData::women_age_min + 1,
                                       BaseData::women_age_min);
  normalise(d.women_age_weights, top.required("women_age_weights"));
  d.adult_age_weights =
      sourced_vector(top.required("adult_age_weights"),
                     BaseData::max_age - BaseData::women_age_min + 1, BaseData::women_age_min);
  normalise(d.adult_age_weights, top.required("adult_age_weights"));
  top.finish();
}

void read_fertility(BaseData& d) {
  const auto root = load_file(d.dir, "fertility.yaml");
  config::MapReader top(root);
  d.asfr_shape = sourced_vector(top.required("asfr_shape"),
                                BaseData::women_age_max - BaseData::women_age_min + 1,
                                BaseData::women_age_min);
  normalise(d.asfr_shape, top.required("asfr_shape"));
  const auto& paths = top.required("tfr_paths");
  if (!paths.is_map()) paths.fail("expected a map of named TFR paths");
  for (const auto& [name, node] : paths.entries) {
    config::MapReader r(node);
    const auto& values = r.required("values");
    if (!r.has("source") && !r.has("assumed"))
      node.fail("expected 'source:' or 'assumed:' next to the values");
    r.allow("source");
    r.allow("assumed");
    r.allow("note");
    r.finish();
    if (!values.is_map() || values.entries.empty()) values.fail("expected a map year: TFR");
    TfrPath path;
    for (const auto& [year_text, v] : values.entries) {
      int year = 0;
      try {
        year = std::stoi(year_text);
      } catch (...) {
        v.fail(fmt::format("expected a year, got '{}'", year_text));
      }
      path.points[year] = config::check_range(v, config::as_double(v), 0.0, 10.0);
    }
    d.tfr_paths[name] = path;
  }
  for (const char* required : {"medium", "low", "high"})
    if (!d.tfr_paths.count(required))
      paths.fail(fmt::format("expected a TFR path named '{}'", required));
  top.finish();
}

void read_mortality(BaseData& d) {
  const auto root = load_file(d.dir, "mortality.yaml");
  config::MapReader top(root);
  d.child_death_probability =
      sourced_vector(top.required("child_death_probability"), BaseData::max_child_age + 1);
  for (const double q : d.child_death_probability)
    if (q >= 1.0) top.required("child_death_probability").fail("expected probabilities below 1");
  top.finish();
}

}  // namespace

double TfrPath::at(double year) const {
  if (points.empty()) return 0.0;
  if (year <= points.begin()->first) return points.begin()->second;
  if (year >= points.rbegin()->first) return points.rbegin()->second;
  auto hi = points.upper_bound(static_cast<int>(year));
  auto lo = std::prev(hi);
  const double w = (year - lo->first) / static_cast<double>(hi->first - lo->first);
  return lo->second + w * (hi->second - lo->second);
}

int BaseData::read_street(const config::ConfigNode& node) const {
  const std::string id = config::as_string(node);
  int s = street_index(id);
  // Also by its Chinese name (新泾镇, or without 街道/镇: 新泾) or English name ("Xinjing
  // Town", any case), as planners write them.
  auto lower = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  for (std::size_t k = 0; s < 0 && k < streets.size(); ++k) {
    const Street& st = streets[k];
    std::string short_zh = st.name_zh;
    for (const std::string suffix : {"街道", "镇"})
      if (short_zh.size() > suffix.size() &&
          short_zh.compare(short_zh.size() - suffix.size(), suffix.size(), suffix) == 0)
        short_zh.resize(short_zh.size() - suffix.size());
    if (id == st.name_zh || id == short_zh || lower(id) == lower(st.name_en))
      s = static_cast<int>(k);
  }
  if (s < 0) {
    std::string ids;
    for (const auto& st : streets)
      ids += fmt::format("{}{} ({}, {})", ids.empty() ? "" : ", ", st.id, st.name_zh, st.name_en);
    node.fail(
        fmt::format("unknown street '{}' (expected an id, Chinese or English name: {})", id, ids));
  }
  return s;
}

void BaseData::to_local(double lat_deg, double lon_deg, double& x_m, double& y_m) const {
  x_m = (lon_deg - ref_lon_deg) * 111320.0 * std::cos(ref_lat_deg * pi / 180.0);
  y_m = (lat_deg - ref_lat_deg) * 110574.0;
}

void BaseData::point_in_street(int s, double u1, double u2, double& x_m, double& y_m) const {
  const Street& st = streets[static_cast<std::size_t>(s)];
  const double r = st.radius_m * std::sqrt(u1);
  x_m = st.x_m + r * std::cos(2.0 * pi * u2);
  y_m = st.y_m + r * std::sin(2.0 * pi * u2);
}

int BaseData::district_index(const std::string& id) const {
  for (std::size_t i = 0; i < districts.size(); ++i)
    if (districts[i].id == id) return static_cast<int>(i);
  return -1;
}

int BaseData::street_index(const std::string& id) const {
  for (std::size_t i = 0; i < streets.size(); ++i)
    if (streets[i].id == id) return static_cast<int>(i);
  return -1;
}

BaseData load_base_data(const std::filesystem::path& dir) {
  BaseData d;
  d.dir = dir;
  read_pack(d);
  read_streets(d);
  read_population(d);
  read_fertility(d);
  read_mortality(d);
  d.parameters = ParameterTable::load(load_file(dir, "parameters.yaml"));
  return d;
}

}  // namespace childsim
