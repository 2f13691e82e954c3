// investments: applying dated capacity changes to the facility schedules.
#include "sim/scenario/investments.hpp"
#include "sim/config/month_value.hpp"  // config::as_month

#include "sim/data/base_data.hpp"       // BaseData
#include "sim/scenario/list_edits.hpp"  // edited_items, id_or_name

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::max, std::min
#include <cmath>      // std::hypot
#include <iterator>   // std::prev

namespace childsim {
namespace {

int read_facility(const config::ConfigNode& node, const Facilities& fac) {
  const std::string id = config::as_string(node);
  const int f = fac.index(id);
  if (f >= 0) return f;
  // "Did you mean": the nearest ids (at most 3 edits away), else a pointer to the list.
  std::size_t best = 4;
  std::string near;
  for (std::size_t k = 0; k < fac.size(); ++k) {
    const std::size_t d = config::edit_distance(id, fac.id[k]);
    if (d < best) best = d, near = fac.id[k];
  }
  node.fail(near.empty()
                ? fmt::format("unknown facility '{}' (`childsim facilities` lists the ids)", id)
                : fmt::format("unknown facility '{}' (did you mean '{}'? `childsim facilities` "
                              "lists the ids)",
                              id, near));
}

}  // namespace

// A number, or a map `year: value` (a step path).
YearPath read_year_path(const config::ConfigNode& node, double lo, double hi) {
  YearPath p;
  if (node.is_scalar()) {
    p.points[0] = config::check_range(node, config::as_double(node), lo, hi);
    return p;
  }
  if (!node.is_map() || node.entries.empty())
    node.fail(
        "expected a number or a map 'year: value' (each value holds from January of its "
        "year)");
  for (const auto& [year_text, v] : node.entries) {
    int year = 0;
    try {
      year = std::stoi(year_text);
    } catch (...) {
      v.fail(fmt::format("expected a year, got '{}'", year_text));
    }
    if (year < 1900 || year > 2200) v.fail(fmt::format("expected a year, got '{}'", year_text));
    p.points[year] = config::check_range(v, config::as_double(v), lo, hi);
  }
  return p;
}

double YearPath::at(int year) const {
  if (points.empty()) return 0.0;
  auto it = points.upper_bound(year);
  if (it == points.begin()) return it->second;
  return std::prev(it)->second;
}

double Subsidy::month_amount(YearMonth month, double national_year) const {
  if (month < start || !(month < end)) return 0.0;
  return (from_parameter ? national_year : amount_year.at(month.year)) / 12.0;
}

double PriceCap::at(YearMonth month) const {
  if (!set || month < start || !(month < end)) return std::numeric_limits<double>::infinity();
  return cap_month.at(month.year);
}

Policy read_policy(config::MapReader& r) {
  Policy p;
  if (const auto* n = r.optional("subsidy_start"))
    n->fail(
        "'subsidy_start' is no longer read: it moved the national subsidy and silently dropped "
        "it before that month. To add a subsidy from a month, write 'subsidies: [{id: top-up, "
        "amount_year: 2400, start: 2026-01}]' (it adds to the national one); to start the "
        "national subsidy later, write 'subsidies: [{replace: national, amount_year: 3600, "
        "start: 2026-01}]' (docs/scenarios.md, Policy levers)");
  // The national subsidy is the first item, so that a scenario can remove or replace it by id.
  config::ConfigNode list;
  list.kind = config::ConfigNode::Kind::sequence;
  config::ConfigNode national;
  national.kind = config::ConfigNode::Kind::map;
  national.origin = {"<built-in national subsidy>", 0, 0};
  config::ConfigNode id_node;
  id_node.kind = config::ConfigNode::Kind::scalar;
  id_node.scalar = "national";
  national.entries.emplace_back("id", id_node);
  list.items.push_back(national);
  const auto* given = r.optional("subsidies");
  if (given) {
    if (!given->is_sequence()) given->fail("expected a list of subsidies");
    for (const auto& item : given->items) list.items.push_back(item);
    list.origin = given->origin;
    list.path = given->path;
  }
  p.subsidies.clear();  // rebuilt from the list, the national subsidy included
  for (const auto* item : edited_items(list, "subsidy", id_or_name)) {
    Subsidy sub;
    if (item->origin.file == national.origin.file) {
      sub.id = "national";
      sub.from_parameter = true;
      p.subsidies.push_back(sub);
      continue;
    }
    config::MapReader s(*item);
    s.allow("replace");
    sub.id = s.require_string("id");
    sub.amount_year = read_year_path(s.required("amount_year"), 0, 1e6);
    sub.start = config::as_month(s.required("start"));
    if (const auto* e = s.optional("end")) {
      sub.end = config::as_month(*e);
      if (!(sub.start < sub.end)) e->fail("expected an end after the start");
    }
    sub.enrolled_only = s.get_choice("paid_to", "every_child_under_3",
                                     {"every_child_under_3", "enrolled"}) == "enrolled";
    s.allow("note");
    s.finish();
    p.subsidies.push_back(sub);
  }
  if (const auto* cap = r.optional("inclusive_price_cap")) {
    p.inclusive_price_cap.set = true;
    if (cap->is_scalar()) {
      p.inclusive_price_cap.cap_month = read_year_path(*cap, 0, 1e6);  // the whole run
    } else {
      config::MapReader c(*cap);
      p.inclusive_price_cap.cap_month = read_year_path(c.required("cap_month"), 0, 1e6);
      if (const auto* n = c.optional("start")) p.inclusive_price_cap.start = config::as_month(*n);
      if (const auto* e = c.optional("end")) {
        p.inclusive_price_cap.end = config::as_month(*e);
        if (!(p.inclusive_price_cap.start < p.inclusive_price_cap.end))
          e->fail("expected an end after the start");
      }
      c.allow("note");
      c.finish();
    }
  }
  p.public_hukou_only = r.get_bool("public_nursery_hukou_only", false);
  r.optional("kindergarten_catchment");  // read with the facilities: apply_kindergarten_catchment
  if (const auto* o = r.optional("babyroom_outreach")) {  // {start: YYYY-MM, end: YYYY-MM}
    config::MapReader orr(*o);
    p.babyroom_outreach = true;
    p.babyroom_outreach_start = config::as_month(orr.required("start"));
    if (const auto* e = orr.optional("end")) {
      p.babyroom_outreach_end = config::as_month(*e);
      p.babyroom_outreach_has_end = true;
      if (!(p.babyroom_outreach_start < p.babyroom_outreach_end))
        e->fail("expected an end after the start");
    }
    orr.finish();
  }
  return p;
}

void apply_kindergarten_catchment(const config::ConfigNode& node, const BaseData& base,
                                  Facilities& fac) {
  const int ns = base.n_streets();
  fac.catchment_streets = ns;
  fac.catchment.assign(fac.size() * static_cast<std::size_t>(ns), 0);
  auto set = [&](std::size_t f, int s) {
    fac.catchment[f * static_cast<std::size_t>(ns) + static_cast<std::size_t>(s)] = 1;
  };
  if (!node.is_sequence()) {
    if (config::as_string(node) != "street")
      node.fail(
          "expected 'street' (each kindergarten serves its own street) or a list of "
          "{kindergarten: <id>, streets: [<street id>, ...]}");
    for (std::size_t f = 0; f < fac.size(); ++f)
      if (fac.service_of(f) == Service::kindergarten && fac.street[f] >= 0) set(f, fac.street[f]);
    return;
  }
  for (const auto& item : node.items) {
    config::MapReader r(item);
    const int f = read_facility(r.required("kindergarten"), fac);
    if (fac.service_of(static_cast<std::size_t>(f)) != Service::kindergarten)
      r.required("kindergarten").fail("expected the id of a kindergarten");
    const auto& streets = r.required("streets");
    if (!streets.is_sequence() || streets.items.empty())
      streets.fail("expected a list of street ids");
    for (const auto& s : streets.items) set(static_cast<std::size_t>(f), base.read_street(s));
    r.finish();
  }
}

std::vector<Investment> apply_investments(const config::ConfigNode& list, const BaseData& base,
                                          YearMonth start, YearMonth /*end*/, Facilities& fac) {
  std::vector<Investment> out;
  const int n_months = fac.n_months;
  for (const auto* item_ptr : edited_items(list, "investment", id_or_name)) {
    const config::ConfigNode& item = *item_ptr;
    config::MapReader r(item);
    r.allow("replace");
    Investment inv;
    inv.id = id_or_name(item);
    inv.action = r.get_choice("action", "", {"add_capacity", "remove_capacity", "open", "close"});
    if (inv.action.empty()) r.required("action");
    inv.name = r.get_string("name", fmt::format("investment {}", out.size() + 1));
    inv.start = config::as_month(r.required("start"));
    // A start outside the run is allowed, so that a what-if may shorten or move the horizon
    // of the scenario it extends: an investment that starts after the last month has no
    // effect in this run (it is still validated, and an opened facility is still listed,
    // with zero capacity); one that started before the first month is in effect from the
    // first month, and its capital cost, spent before the run, is not recorded.
    const int t0 = std::max(0, months_between(start, inv.start));
    int t1 = n_months;
    if (const auto* e = r.optional("end")) {
      const YearMonth em = config::as_month(*e);
      if (em <= inv.start) e->fail("expected an end after the start");
      t1 = std::min(n_months, months_between(start, em));
    }
    inv.capital_cost = r.get_double("capital_cost", 0, 0, 1e12);
    inv.running_cost_year = r.get_double("running_cost_year", 0, 0, 1e12);

    if (inv.action == "open") {
      const std::string id = r.require_string("id");
      if (fac.index(id) >= 0)
        r.required("id").fail(fmt::format("facility '{}' already exists", id));
      const auto& kind_node = r.required("kind");
      const int k = fac.kind_index(config::as_string(kind_node));
      if (k < 0) {
        std::string kinds;
        for (const auto& kk : fac.kinds) kinds += (kinds.empty() ? "" : ", ") + kk.id;
        kind_node.fail(fmt::format("unknown facility kind '{}' (expected one of: {})",
                                   kind_node.scalar, kinds));
      }
      int s = -1;
      double x = 0, y = 0;
      if (const auto* loc = r.optional("location")) {
        config::MapReader l(*loc);
        const double lat = l.require_double("lat", -90, 90),
                     lon = l.require_double("lon", -180, 180);
        l.finish();
        base.to_local(lat, lon, x, y);
        // The street is the one whose centre is nearest, unless given.
        double best = 1e300;
        for (int i = 0; i < base.n_streets(); ++i) {
          const auto& st = base.streets[static_cast<std::size_t>(i)];
          const double d = std::hypot(st.x_m - x, st.y_m - y);
          if (d < best) best = d, s = i;
        }
        if (const auto* sn = r.optional("street")) s = base.read_street(*sn);
      } else {
        s = base.read_street(r.required("street"));
        const auto& st = base.streets[static_cast<std::size_t>(s)];
        x = st.x_m;  // no location given: the street's centre
        y = st.y_m;
      }
      const double price = r.get_double("price_month", 0, 0, 1e6);
      const double quality = r.get_double("quality", 0.5, 0, 1);
      const int f = add_facility(fac, id, r.get_string("facility_name", inv.name), k, s, x, y,
                                 price, quality);
      fac.visits_per_session[static_cast<std::size_t>(f)] =
          r.get_double("visits_per_session", 0, 0, 1000);
      if (const auto* h = r.optional("host")) {
        const int hf = read_facility(*h, fac);
        if (fac.service_of(static_cast<std::size_t>(hf)) != Service::kindergarten)
          h->fail("expected the id of a kindergarten");
        fac.host[static_cast<std::size_t>(f)] = hf;
        // A class in a kindergarten is run by whoever runs the kindergarten and is designated
        // 普惠 when its host is (targets.yaml, plan item 19), unless the investment says.
        fac.run_by[static_cast<std::size_t>(f)] = fac.run_by[static_cast<std::size_t>(hf)];
        fac.inclusive[static_cast<std::size_t>(f)] = fac.inclusive[static_cast<std::size_t>(hf)];
      }
      if (const auto* rb = r.optional("run_by"))
        fac.run_by[static_cast<std::size_t>(f)] = read_run_by(*rb);
      if (r.has("inclusive"))
        fac.inclusive[static_cast<std::size_t>(f)] = r.get_bool("inclusive", false) ? 1 : 0;
      inv.facility = f;
      inv.amount = static_cast<int>(r.require_int("capacity", 0, 1000000000));
      fac.running_cost_year[static_cast<std::size_t>(f)] = inv.running_cost_year;
      for (int t = t0; t < t1; ++t) {
        fac.capacity_schedule[fac.at(static_cast<std::size_t>(f), t)] = inv.amount;
        fac.running_cost_schedule[fac.at(static_cast<std::size_t>(f), t)] =
            inv.running_cost_year / 12.0;
      }
    } else {
      r.allow("id");  // the investment's own id (for `remove:` / `replace:` in a what-if)
      inv.facility = read_facility(r.required("facility"), fac);
      const auto f = static_cast<std::size_t>(inv.facility);
      if (inv.action == "close") {
        for (int t = t0; t < t1; ++t) {
          fac.capacity_schedule[fac.at(f, t)] = 0;
          fac.running_cost_schedule[fac.at(f, t)] = 0.0;
        }
      } else {
        inv.amount = static_cast<int>(r.require_int("amount", 1, 1000000000));
        const int sign = inv.action == "add_capacity" ? 1 : -1;
        for (int t = t0; t < t1; ++t) {
          auto& cap = fac.capacity_schedule[fac.at(f, t)];
          cap = std::max(0, cap + sign * inv.amount);
          fac.running_cost_schedule[fac.at(f, t)] = std::max(
              0.0, fac.running_cost_schedule[fac.at(f, t)] + sign * inv.running_cost_year / 12.0);
        }
      }
    }
    if (!(inv.start < start) && t0 < n_months)
      fac.capital_cost_schedule[fac.at(static_cast<std::size_t>(inv.facility), t0)] +=
          inv.capital_cost;
    r.allow("note");
    r.finish();
    out.push_back(inv);
  }
  return out;
}

}  // namespace childsim
