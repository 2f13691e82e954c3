// facilities: reading facilities.yaml into flat tables.
#include "sim/services/facilities.hpp"
#include "sim/config/month_value.hpp"  // config::as_month

#include "sim/core/rng.hpp"  // mix64

#include <fmt/format.h>  // fmt::format

namespace childsim {
namespace {

Service read_service(const config::ConfigNode& node) {
  const std::string s = config::as_string(node);
  if (s == "nursery") return Service::nursery;
  if (s == "babyroom") return Service::babyroom;
  if (s == "kindergarten") return Service::kindergarten;
  if (s == "holiday") return Service::holiday;
  if (s == "clinic") return Service::clinic;
  node.fail(
      fmt::format("unknown service '{}' (expected one of: nursery, babyroom, kindergarten, "
                  "holiday, clinic)",
                  s));
}

}  // namespace

const char* run_by_name(RunBy r) {
  switch (r) {
    case RunBy::education_bureau:
      return "education_bureau";
    case RunBy::public_body:
      return "public_body";
    case RunBy::private_operator:
      return "private";
    case RunBy::employer:
      return "employer";
  }
  return "?";
}

RunBy read_run_by(const config::ConfigNode& node) {
  const std::string s = config::as_string(node);
  for (const RunBy r :
       {RunBy::education_bureau, RunBy::public_body, RunBy::private_operator, RunBy::employer})
    if (s == run_by_name(r)) return r;
  node.fail(fmt::format(
      "unknown run_by '{}' (expected one of: education_bureau, public_body, private, employer)",
      s));
}

NurseryPlaces count_nursery_places(const Facilities& fac, int month) {
  NurseryPlaces n;
  for (std::size_t f = 0; f < fac.size(); ++f) {
    if (fac.service_of(f) != Service::nursery || fac.street[f] < 0) continue;
    const double cap = fac.capacity(f, month);
    n.all += cap;
    if (fac.inclusive[f]) n.inclusive += cap;
    if (fac.host[f] >= 0 && fac.is_public(f)) n.public_classes += cap;
  }
  return n;
}

const char* service_name(Service s) {
  switch (s) {
    case Service::nursery:
      return "nursery";
    case Service::babyroom:
      return "babyroom";
    case Service::kindergarten:
      return "kindergarten";
    case Service::holiday:
      return "holiday";
    case Service::clinic:
      return "clinic";
  }
  return "?";
}

int Facilities::kind_index(const std::string& kind_id) const {
  for (std::size_t k = 0; k < kinds.size(); ++k)
    if (kinds[k].id == kind_id) return static_cast<int>(k);
  return -1;
}

int Facilities::index(const std::string& facility_id) const {
  for (std::size_t f = 0; f < id.size(); ++f)
    if (id[f] == facility_id) return static_cast<int>(f);
  return -1;
}

std::vector<int> Facilities::of_service(Service s) const {
  std::vector<int> out;
  for (std::size_t f = 0; f < size(); ++f)
    if (service_of(f) == s) out.push_back(static_cast<int>(f));
  return out;
}

int add_facility(Facilities& fac, const std::string& id, const std::string& name, int kind,
                 int street, double x_m, double y_m, double price, double quality) {
  fac.id.push_back(id);
  fac.name.push_back(name);
  fac.kind.push_back(kind);
  fac.street.push_back(street);
  fac.x_m.push_back(x_m);
  fac.y_m.push_back(y_m);
  fac.price.push_back(price);
  fac.quality.push_back(quality);
  fac.running_cost_year.push_back(0.0);
  fac.capital_cost.push_back(0.0);
  fac.visits_per_session.push_back(0.0);
  fac.host.push_back(-1);
  fac.run_by.push_back(fac.kinds[static_cast<std::size_t>(kind)].run_by);
  fac.inclusive.push_back(fac.kinds[static_cast<std::size_t>(kind)].inclusive ? 1 : 0);
  fac.capacity_schedule.resize(
      fac.capacity_schedule.size() + static_cast<std::size_t>(fac.n_months), 0);
  fac.running_cost_schedule.resize(
      fac.running_cost_schedule.size() + static_cast<std::size_t>(fac.n_months), 0.0);
  fac.capital_cost_schedule.resize(
      fac.capital_cost_schedule.size() + static_cast<std::size_t>(fac.n_months), 0.0);
  return static_cast<int>(fac.size()) - 1;
}

Facilities load_facilities(const BaseData& base, YearMonth start, int n_months) {
  const auto root = config::load_config_file(base.dir / "facilities.yaml");
  config::MapReader top(root);
  Facilities fac;
  fac.n_months = n_months;

  const auto& kinds = top.required("kinds");
  if (!kinds.is_map()) kinds.fail("expected a map of facility kinds");
  for (const auto& [kid, node] : kinds.entries) {
    config::MapReader r(node);
    FacilityKind k;
    k.id = kid;
    k.label_zh = r.get_string("label_zh", "");
    k.service = read_service(r.required("service"));
    k.capacity_unit = r.require_string("capacity_unit");
    k.min_age_months = static_cast<int>(r.get_int("min_age_months", 0, 0, 216));
    k.max_age_months = static_cast<int>(r.get_int("max_age_months", 216, 1, 216));
    if (k.max_age_months <= k.min_age_months)
      node.fail("expected max_age_months above min_age_months");
    k.inclusive = r.get_bool("inclusive", false);
    if (const auto* rb = r.optional("run_by")) k.run_by = read_run_by(*rb);
    if (!r.has("source") && !r.has("assumed")) node.fail("expected 'source:' or 'assumed:'");
    r.allow("source");
    r.allow("assumed");
    r.allow("note");
    r.finish();
    fac.kinds.push_back(k);
  }

  const auto& list = top.required("facilities");
  if (!list.is_sequence()) list.fail("expected a list of facilities");
  std::vector<std::string> hosts;  // resolved after all ids are known
  std::vector<const config::ConfigNode*> host_nodes;
  for (const auto& item : list.items) {
    config::MapReader r(item);
    const std::string id = r.require_string("id");
    if (fac.index(id) >= 0) r.required("id").fail(fmt::format("facility '{}' is listed twice", id));
    const auto& kind_node = r.required("kind");
    const int k = fac.kind_index(config::as_string(kind_node));
    if (k < 0) kind_node.fail(fmt::format("unknown facility kind '{}'", kind_node.scalar));
    const auto& street_node = r.required("street");
    const std::string street_id = config::as_string(street_node);
    const int s = street_id == "outside" ? -1 : base.street_index(street_id);
    if (s < 0 && street_id != "outside")
      street_node.fail(fmt::format("unknown street '{}'", street_id));
    fac.id.push_back(id);
    fac.name.push_back(r.get_string("name", id));
    fac.kind.push_back(k);
    fac.street.push_back(s);
    const double capacity = r.require_double("capacity", 0, 1e9);
    fac.price.push_back(r.get_double("price_month", 0, 0, 1e6));
    fac.quality.push_back(r.get_double("quality", 0.5, 0, 1));
    fac.running_cost_year.push_back(r.get_double("running_cost_year", 0, 0, 1e12));
    fac.capital_cost.push_back(r.get_double("capital_cost", 0, 0, 1e12));
    fac.visits_per_session.push_back(r.get_double("visits_per_session", 0, 0, 1000));
    const FacilityKind& fk = fac.kinds[static_cast<std::size_t>(k)];
    const auto* rb = r.optional("run_by");
    fac.run_by.push_back(rb ? read_run_by(*rb) : fk.run_by);
    fac.inclusive.push_back(r.get_bool("inclusive", fk.inclusive) ? 1 : 0);
    if (const auto* h = r.optional("host")) {
      hosts.push_back(config::as_string(*h));
      host_nodes.push_back(h);
    } else {
      hosts.emplace_back();
      host_nodes.push_back(nullptr);
    }
    // Location: given, or drawn in the street from the id (stable across runs and scenarios).
    double x = 0, y = 0;
    if (const auto* loc = r.optional("location")) {
      config::MapReader l(*loc);
      const double lat = l.require_double("lat", -90, 90), lon = l.require_double("lon", -180, 180);
      l.finish();
      base.to_local(lat, lon, x, y);
    } else if (s >= 0) {
      std::uint64_t h = 1469598103934665603ull;
      for (const char c : id) h = mix64(h ^ static_cast<unsigned char>(c));
      const double u1 = static_cast<double>(h >> 11) * 0x1p-53;
      const double u2 = static_cast<double>(mix64(h) >> 11) * 0x1p-53;
      base.point_in_street(s, u1, u2, x, y);
      x = static_cast<float>(x);  // stored as homes are (float precision: ample for metres)
      y = static_cast<float>(y);
    } else {
      x = y = 1e5;  // outside the district: far from every home (distance-based choices)
    }
    fac.x_m.push_back(x);
    fac.y_m.push_back(y);
    int from = 0, until = n_months;
    if (const auto* o = r.optional("opens"))
      from = std::max(0, months_between(start, config::as_month(*o)));
    if (const auto* c = r.optional("closes"))
      until = std::min(n_months, months_between(start, config::as_month(*c)));
    for (int t = 0; t < n_months; ++t) {
      const bool open = t >= from && t < until && capacity > 0;
      fac.capacity_schedule.push_back(open ? static_cast<std::int32_t>(capacity) : 0);
      fac.running_cost_schedule.push_back(open ? fac.running_cost_year.back() / 12.0 : 0.0);
      fac.capital_cost_schedule.push_back(0.0);
    }
    if (!r.has("source") && !r.has("assumed")) item.fail("expected 'source:' or 'assumed:'");
    r.allow("source");
    r.allow("assumed");
    r.allow("note");
    r.finish();
  }
  for (std::size_t f = 0; f < fac.size(); ++f) {
    fac.host.push_back(-1);
    if (hosts[f].empty()) continue;
    const int h = fac.index(hosts[f]);
    if (h < 0 ||
        fac.kinds[static_cast<std::size_t>(fac.kind[static_cast<std::size_t>(h)])].service !=
            Service::kindergarten)
      host_nodes[f]->fail(fmt::format("host '{}' is not a kindergarten in the list", hosts[f]));
    fac.host.back() = h;
  }
  top.allow("note");
  top.finish();
  return fac;
}

}  // namespace childsim
