// indicators_test: the 15-minute walk and the yearly indicators against independent
// recomputations from the facility tables, the state and the other outputs; targets; threads.
#include "sim/demography/population.hpp"      // build_initial_state
#include "sim/model/model.hpp"                // Model, step_month
#include "sim/run/ensemble.hpp"               // run_scenario
#include "sim/scenario/investments.hpp"       // apply_investments
#include "sim/services/access.hpp"            // is_access_month
#include "sim/services/indicator_counts.hpp"  // count_children
#include "sim/services/services.hpp"          // record_facilities
#include "sim/services/targets.hpp"           // load_targets, target_met
#include "test_support.hpp"

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads
#include <catch2/catch.hpp>

#include <algorithm>  // std::min, std::max
#include <cmath>      // std::isnan, std::abs
#include <fstream>    // std::ofstream
#include <limits>     // std::numeric_limits
#include <tuple>      // std::tuple
#include <variant>    // std::get, std::holds_alternative

using namespace childsim;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// A short run of the small test scenario; the facility schedules keep the file's horizon.
Scenario small(int months, int replicates = 1) {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = replicates;
  sc.end = sc.start.plus(months - 1);
  return sc;
}

void set_capacity(Scenario& sc, Service s, std::int32_t cap) {
  auto& F = sc.facilities;
  for (std::size_t f = 0; f < F.size(); ++f)
    if (F.service_of(f) == s)
      for (int t = 0; t < F.n_months; ++t)
        F.capacity_schedule[f * static_cast<std::size_t>(F.n_months) +
                            static_cast<std::size_t>(t)] = cap;
}

const std::vector<double>& reals(const io::Dataset& ds, const std::string& name) {
  const io::Variable* v = ds.find_variable(name);
  REQUIRE(v != nullptr);
  return std::get<std::vector<double>>(v->data);
}

double ratio(double a, double b) {
  return b > 0 ? a / b : kNaN;
}

// Equal, NaN equal to NaN, up to a relative tolerance.
bool same(double a, double b, double rel = 1e-9) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::abs(a - b) <= rel * std::max(1.0, std::max(std::abs(a), std::abs(b)));
}

bool compare(const std::string& op, double v, double threshold) {
  if (std::isnan(v)) return false;
  if (op == ">=") return v >= threshold;
  if (op == ">") return v > threshold;
  if (op == "<=") return v <= threshold;
  if (op == "<") return v < threshold;
  REQUIRE(op == "==");
  return v == threshold;
}

// The walk by brute force: every child against every facility of the kind.
struct Brute {
  std::vector<double> share, nearest;  // [street × kind]
  double chc_share = kNaN;
};

Brute brute_access(const Scenario& sc, const ServiceParams& P, const State& st) {
  const Facilities& F = sc.facilities;
  const Children& c = st.children;
  const Households& h = st.households;
  const int t = st.month;
  const std::size_t nk = F.kinds.size(), ns = sc.base.streets.size();
  std::vector<int> enrolled(F.size(), 0);
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c.present[i]) continue;
    if (c.nursery[i] >= 0) enrolled[static_cast<std::size_t>(c.nursery[i])] += 1;
    if (c.kindergarten[i] >= 0) enrolled[static_cast<std::size_t>(c.kindergarten[i])] += 1;
  }
  const double reach = P.walk_speed_m_per_min * P.walk_minutes;
  std::vector<double> n(ns * nk, 0), in(ns * nk, 0), sum(ns * nk, 0), reached(ns * nk, 0);
  double chc_n = 0, chc_in = 0;
  const int chc = F.kind_index("chc_clinic");
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c.present[i]) continue;
    const int age = t - c.birth_month[i];
    const auto hh = static_cast<std::size_t>(c.household[i]);
    const auto s = static_cast<std::size_t>(h.street[hh]);
    for (std::size_t k = 0; k < nk; ++k) {
      if (age < F.kinds[k].min_age_months || age >= F.kinds[k].max_age_months) continue;
      double best = std::numeric_limits<double>::infinity();
      bool within = false, within_open = false;
      for (std::size_t f = 0; f < F.size(); ++f) {
        if (F.kind[f] != static_cast<int>(k) || F.capacity(f, t) <= 0) continue;
        const double d = P.walk_m(h.x_m[hh], h.y_m[hh], F.x_m[f], F.y_m[f]);
        best = std::min(best, d);
        const Service sv = F.service_of(f);
        const bool places = sv == Service::nursery || sv == Service::kindergarten;
        const bool free = places ? enrolled[f] < F.capacity(f, t) : true;
        within = within || (free && d <= reach);
        within_open = within_open || d <= reach;
      }
      n[s * nk + k] += 1;
      in[s * nk + k] += within;
      if (best < std::numeric_limits<double>::infinity()) {
        sum[s * nk + k] += best;
        reached[s * nk + k] += 1;
      }
      if (static_cast<int>(k) == chc) {
        chc_n += 1;
        chc_in += within_open;
      }
    }
  }
  Brute b;
  for (std::size_t j = 0; j < ns * nk; ++j) {
    b.share.push_back(ratio(in[j], n[j]));
    b.nearest.push_back(ratio(sum[j], reached[j]));
  }
  if (chc >= 0) b.chc_share = ratio(chc_in, chc_n);
  return b;
}

// Run month by month, calling `check(state, recorder)` after each month.
template <class Check>
void run_months(const Model& model, Check check) {
  const Scenario& sc = model.scenario;
  io::Recorder rec(sc, 1);
  State st = build_initial_state(sc, model.rates, model.counts, 0);
  record_facilities(sc, rec);
  for (int t = 0; t < sc.n_months(); ++t) {
    st.month = t;
    step_month(model, st, rec);
    check(st, rec);
  }
}

}  // namespace

TEST_CASE("indicators, access equals a brute-force walk to every facility", "[indicators]") {
  Scenario sc = small(13);
  set_capacity(sc, Service::nursery, 3);  // some nurseries full, some not
  const Model model(sc);
  const std::size_t nk = sc.facilities.kinds.size(), ns = sc.base.streets.size();
  int computed = 0;
  run_months(model, [&](const State& st, io::Recorder& rec) {
    const int t = st.month;
    const double* share = rec.real_block("access_within_walk", 0, t);
    const double* nearest = rec.real_block("access_nearest_walk_m", 0, t);
    if (!is_access_month(sc, t)) {
      for (std::size_t j = 0; j < ns * nk; ++j) {
        REQUIRE(std::isnan(share[j]));
        REQUIRE(std::isnan(nearest[j]));
      }
      return;
    }
    computed += 1;
    const Brute b = brute_access(sc, model.services, st);
    for (std::size_t j = 0; j < ns * nk; ++j) {
      INFO("month " << t << " street " << j / nk << " kind " << sc.facilities.kinds[j % nk].id);
      REQUIRE(same(share[j], b.share[j]));
      REQUIRE(same(nearest[j], b.nearest[j]));
    }
    const int y = rec.year_index(t);
    if (sc.start.plus(t).month == 12)
      REQUIRE(same(*rec.real_block("indicator_walk_15min_chc_share", 0, y), b.chc_share));
  });
  CHECK(computed == 3);  // June, December, and January 2025 as the last month
}

TEST_CASE("indicators, access is 1 when every home is within reach", "[indicators]") {
  Scenario sc = small(12);
  for (const Service s : {Service::nursery, Service::babyroom, Service::kindergarten,
                          Service::holiday, Service::clinic})
    set_capacity(sc, s, 1000000);  // everything open, with free places
  Model model(sc);
  model.services.walk_minutes = 1e7;  // the whole district is a short walk
  const std::size_t nk = sc.facilities.kinds.size(), ns = sc.base.streets.size();
  run_months(model, [&](const State& st, io::Recorder& rec) {
    if (!is_access_month(sc, st.month)) return;
    const double* share = rec.real_block("access_within_walk", 0, st.month);
    const double* nearest = rec.real_block("access_nearest_walk_m", 0, st.month);
    int with_children = 0;
    for (std::size_t j = 0; j < ns * nk; ++j) {
      if (std::isnan(share[j])) continue;  // no child of that age in the street
      with_children += 1;
      REQUIRE(share[j] == 1.0);
      REQUIRE(nearest[j] >= 0);
    }
    CHECK(with_children > static_cast<int>(ns));
  });
}

TEST_CASE("indicators, access is 0 and clinic indicators fall when a service is closed",
          "[indicators]") {
  Scenario sc = small(12);
  set_capacity(sc, Service::clinic, 0);
  set_capacity(sc, Service::nursery, 0);
  Model model(sc);
  model.services.walk_minutes = 1e7;  // closed is closed however far one walks
  const std::size_t nk = sc.facilities.kinds.size(), ns = sc.base.streets.size();
  run_months(model, [&](const State& st, io::Recorder& rec) {
    if (!is_access_month(sc, st.month)) return;
    const double* share = rec.real_block("access_within_walk", 0, st.month);
    const double* nearest = rec.real_block("access_nearest_walk_m", 0, st.month);
    for (std::size_t k = 0; k < nk; ++k) {
      const Service sv = sc.facilities.kinds[k].service;
      if (sv != Service::clinic && sv != Service::nursery) continue;
      for (std::size_t s = 0; s < ns; ++s) {
        REQUIRE((std::isnan(share[s * nk + k]) || share[s * nk + k] == 0.0));
        REQUIRE(std::isnan(nearest[s * nk + k]));
      }
    }
    if (sc.start.plus(st.month).month != 12) return;
    const int y = rec.year_index(st.month);
    CHECK(*rec.real_block("indicator_walk_15min_chc_share", 0, y) == 0.0);
    CHECK(*rec.real_block("indicator_paediatric_doctors_per_1000_children", 0, y) == 0.0);
    CHECK(*rec.real_block("indicator_nursery_places_per_1000", 0, y) == 0.0);
    CHECK(std::isnan(*rec.real_block("indicator_nursery_utilisation", 0, y)));
    CHECK(std::isnan(*rec.real_block("indicator_inclusive_nursery_share", 0, y)));
    if (sc.facilities.kind_index("chc_clinic") >= 0)
      CHECK(*rec.real_block("indicator_chc_paediatric_clinic_share", 0, y) == 0.0);
  });
}

TEST_CASE("indicators, each equals a recomputation from the facility tables and outputs",
          "[indicators]") {
  Scenario sc = small(30, 2);  // 2024, 2025 and half of 2026 (the last year ends in June)
  // A closure, an opening and a cut, so that the year-to-year figures move.
  auto& F = sc.facilities;
  for (std::size_t f = 0, done = 0; f < F.size() && done < 3; ++f) {
    if (F.service_of(f) != Service::nursery || F.host[f] < 0) continue;
    for (int t = 0; t < F.n_months; ++t) {
      auto& cap = F.capacity_schedule[f * static_cast<std::size_t>(F.n_months) +
                                      static_cast<std::size_t>(t)];
      if (done == 0 && t >= 8) cap = 0;         // closes in September 2024
      if (done == 1) cap = t >= 14 ? 45 : 0;    // opens in March 2025
      if (done == 2 && t >= 20) cap = cap / 2;  // halved in September 2025
    }
    ++done;
  }
  // Targets on every comparison, on int and float indicators, besides the place's own.
  for (const auto& [ind, op, thr] : std::vector<std::tuple<std::string, std::string, double>>{
           {"indicator_nursery_places_per_1000", ">=", 4.5},
           {"indicator_summer_classes", ">", 0},
           {"indicator_winter_classes", "<", 1e6},
           {"indicator_nursery_utilisation", "<=", 0.5},
           {"indicator_chc_paediatric_clinic_share", "==", 1.0},
           {"indicator_nursery_class_places_added", ">=", 1}}) {
    Target tg;
    tg.id = "test_" + std::to_string(sc.targets.size());
    tg.indicator = ind;
    tg.comparison = op;
    tg.threshold = thr;
    sc.targets.push_back(tg);
  }
  const auto ds = run_scenario(sc);
  const int R = sc.replicates, T = sc.n_months();
  const int S = static_cast<int>(sc.base.streets.size()), NF = static_cast<int>(F.size());
  const int Y = static_cast<int>(ds.find_dim("year")->size());
  REQUIRE(Y == 3);
  const auto& residents = test::ints(ds, "residents");
  const auto& population = test::ints(ds, "population");
  const auto& enrolled = test::ints(ds, "nursery_enrolled");
  const auto& waiting = test::ints(ds, "nursery_waiting");
  const auto& waiting_street = test::ints(ds, "nursery_children_waiting");
  const auto& unmet = test::ints(ds, "nursery_unmet");
  const auto& cost = reals(ds, "facility_running_cost");
  const int chc = F.kind_index("chc_clinic");
  int added_nonzero = 0;

  for (int r = 0; r < R; ++r)
    for (int y = 0; y < Y; ++y) {
      const int t = std::min(12 * y + 11, T - 1), t0 = 12 * y;  // the run starts in January
      const int ry = r * Y + y;
      INFO("replicate " << r << " year " << 2024 + y);
      auto cap = [&](int f, int m) {
        return static_cast<double>(F.capacity(static_cast<std::size_t>(f), m));
      };
      auto svc = [&](int f) { return F.service_of(static_cast<std::size_t>(f)); };

      // Nursery places per 1,000 residents, district and by street; inclusive share.
      double places = 0, incl = 0, all_places = 0, res = 0;
      std::vector<double> by_street(static_cast<std::size_t>(S), 0.0);
      for (int f = 0; f < NF; ++f) {
        if (svc(f) != Service::nursery) continue;
        all_places += cap(f, t);
        if (F.street[static_cast<std::size_t>(f)] < 0) continue;
        places += cap(f, t);
        by_street[static_cast<std::size_t>(F.street[static_cast<std::size_t>(f)])] += cap(f, t);
        if (F.inclusive[static_cast<std::size_t>(f)]) incl += cap(f, t);
      }
      for (int s = 0; s < S; ++s) {
        const double rs = residents[(r * T + t) * S + s];
        res += rs;
        CHECK(same(reals(ds, "indicator_nursery_places_per_1000_by_street")[ry * S + s],
                   ratio(by_street[static_cast<std::size_t>(s)] * 1000, rs)));
      }
      CHECK(same(reals(ds, "indicator_nursery_places_per_1000")[ry], places / res * 1000));
      CHECK(same(reals(ds, "indicator_inclusive_nursery_share")[ry], ratio(incl, places)));

      // Kindergartens with a nursery class, by hand from the host links.
      double kgs = 0, kgs_with = 0;
      for (int k = 0; k < NF; ++k) {
        if (svc(k) != Service::kindergarten || F.street[static_cast<std::size_t>(k)] < 0 ||
            cap(k, t) <= 0)
          continue;
        kgs += 1;
        bool has = false;
        for (int f = 0; f < NF; ++f)
          has = has || (F.host[static_cast<std::size_t>(f)] == k && svc(f) == Service::nursery &&
                        cap(f, t) > 0);
        kgs_with += has;
      }
      CHECK(
          same(reals(ds, "indicator_kindergarten_nursery_class_share")[ry], ratio(kgs_with, kgs)));

      // Streets with a baby room.
      double streets = 0;
      for (int s = 0; s < S; ++s) {
        bool room = false;
        for (int f = 0; f < NF; ++f)
          room = room || (svc(f) == Service::babyroom &&
                          F.street[static_cast<std::size_t>(f)] == s && cap(f, t) > 0);
        streets += room;
      }
      CHECK(same(reals(ds, "indicator_babyroom_street_share")[ry], streets / S));

      // Summer and winter classes open in their months of the year.
      int summer = 0, winter = 0;
      for (int f = 0; f < NF; ++f) {
        if (svc(f) != Service::holiday || F.street[static_cast<std::size_t>(f)] < 0) continue;
        const std::string& id = F.kind_of(static_cast<std::size_t>(f)).id;
        const std::string& zh = F.kind_of(static_cast<std::size_t>(f)).label_zh;
        bool in_summer = false, in_winter = false;
        for (int m = t0; m <= t; ++m) {
          const int cal = m % 12 + 1;
          in_summer = in_summer || ((cal == 7 || cal == 8) && cap(f, m) > 0);
          in_winter = in_winter || ((cal == 1 || cal == 2) && cap(f, m) > 0);
        }
        const bool is_summer =
            id.find("summer") != std::string::npos || zh.find("暑") != std::string::npos;
        const bool is_winter =
            id.find("winter") != std::string::npos || zh.find("寒") != std::string::npos;
        summer += is_summer && in_summer;
        winter += is_winter && in_winter;
      }
      CHECK(test::ints(ds, "indicator_summer_classes")[ry] == summer);
      CHECK(test::ints(ds, "indicator_winter_classes")[ry] == winter);

      // CHCs with a paediatric clinic; doctors per 1,000 children aged 0–14.
      double chcs = 0, chcs_open = 0, sessions = 0, young = 0;
      for (int f = 0; f < NF; ++f) {
        if (F.kind[static_cast<std::size_t>(f)] == chc) {
          chcs += 1;
          chcs_open += cap(f, t) > 0;
        }
        if (svc(f) == Service::clinic && F.street[static_cast<std::size_t>(f)] >= 0)
          sessions += cap(f, t);
      }
      for (int s = 0; s < S; ++s)
        for (int a = 0; a < 15; ++a) young += population[((r * T + t) * S + s) * 18 + a];
      CHECK(same(reals(ds, "indicator_chc_paediatric_clinic_share")[ry], ratio(chcs_open, chcs)));
      const Parameter* per = sc.base.parameters.find("indicators.sessions_per_doctor_month");
      CHECK(same(reals(ds, "indicator_paediatric_doctors_per_1000_children")[ry],
                 sessions / (per ? per->value : 20.0) / young * 1000));

      // Nursery-class places added since the previous year end (the first month in 2024).
      const int before = y == 0 ? 0 : t0 - 1;
      int added = 0;
      for (int f = 0; f < NF; ++f)
        if (svc(f) == Service::nursery && F.host[static_cast<std::size_t>(f)] >= 0 &&
            F.street[static_cast<std::size_t>(f)] >= 0)
          added += static_cast<int>(cap(f, t) - cap(f, before));
      CHECK(test::ints(ds, "indicator_nursery_class_places_added")[ry] == added);
      added_nonzero += added != 0;
      int since_start = 0;
      for (int f = 0; f < NF; ++f)
        if (svc(f) == Service::nursery && F.host[static_cast<std::size_t>(f)] >= 0 &&
            F.street[static_cast<std::size_t>(f)] >= 0 && F.is_public(static_cast<std::size_t>(f)))
          since_start += static_cast<int>(cap(f, t) - cap(f, 0));
      CHECK(test::ints(ds, "indicator_public_nursery_places_added")[ry] == since_start);

      // Waiting lists, unmet demand, utilisation, running cost.
      int wait = 0;
      double held = 0;
      for (int f = 0; f < NF; ++f) {
        wait += waiting[(r * T + t) * NF + f];
        held += enrolled[(r * T + t) * NF + f];
      }
      CHECK(test::ints(ds, "indicator_nursery_waiting")[ry] == wait);
      for (int s = 0; s < S; ++s)
        CHECK(test::ints(ds, "indicator_nursery_waiting_by_street")[ry * S + s] ==
              waiting_street[(r * T + t) * S + s]);
      double unmet_all = 0;
      for (int s = 0; s < S; ++s) {
        double u = 0;
        for (int m = t0; m <= t; ++m) u += unmet[(r * T + m) * S + s];
        unmet_all += u;
        CHECK(same(reals(ds, "indicator_nursery_unmet_by_street")[ry * S + s], u / (t - t0 + 1)));
      }
      CHECK(same(reals(ds, "indicator_nursery_unmet")[ry], unmet_all / (t - t0 + 1)));
      CHECK(same(reals(ds, "indicator_nursery_utilisation")[ry], ratio(held, all_places)));
      double c = 0;
      for (int f = 0; f < NF; ++f) c += cost[y * NF + f];
      CHECK(same(reals(ds, "indicator_running_cost")[ry], c));

      // Every target against its threshold.
      const auto& met = test::ints(ds, "indicator_target_met");
      for (std::size_t k = 0; k < sc.targets.size(); ++k) {
        const Target& tg = sc.targets[k];
        if (tg.indicator.empty()) {  // known to the model, not evaluated
          CHECK(met[static_cast<std::size_t>(ry) * sc.targets.size() + k] == -1);
          continue;
        }
        const io::Variable* v = ds.find_variable(tg.indicator);
        REQUIRE(v != nullptr);
        const double value = std::holds_alternative<std::vector<double>>(v->data)
                                 ? std::get<std::vector<double>>(v->data)[ry]
                                 : test::ints(ds, tg.indicator)[ry];
        INFO("target " << tg.id << ": " << tg.indicator << " = " << value << " " << tg.comparison
                       << " " << tg.threshold);
        CHECK(met[static_cast<std::size_t>(ry) * sc.targets.size() + k] ==
              compare(tg.comparison, value, tg.threshold));
      }
    }
  CHECK(added_nonzero > 0);
}

TEST_CASE("indicators, identical results at 1 and 3 threads", "[indicators][threads]") {
  Scenario sc = small(13, 2);
  RunOptions one, three;
  one.threads = 1;
  three.threads = 3;
  const auto a = run_scenario(sc, one), b = run_scenario(sc, three);
  int compared = 0;
  for (const auto& v : a.variables) {
    if (v.name.rfind("indicator_", 0) != 0 && v.name.rfind("access_", 0) != 0) continue;
    INFO(v.name);
    const io::Variable* w = b.find_variable(v.name);
    REQUIRE(w != nullptr);
    if (const auto* x = std::get_if<std::vector<double>>(&v.data)) {
      const auto& z = std::get<std::vector<double>>(w->data);
      REQUIRE(x->size() == z.size());
      for (std::size_t j = 0; j < x->size(); ++j)
        REQUIRE((((*x)[j] == z[j]) || (std::isnan((*x)[j]) && std::isnan(z[j]))));
    } else {
      REQUIRE(std::get<std::vector<std::int32_t>>(v.data) ==
              std::get<std::vector<std::int32_t>>(w->data));
    }
    ++compared;
  }
  CHECK(compared >= 21);
}

TEST_CASE("indicators, targets are read, mapped to indicators and validated", "[indicators]") {
  const auto dir = test::fresh_dir("targets");
  auto write = [&](const std::string& text) {
    std::ofstream(dir / "targets.yaml") << text;
    return dir / "targets.yaml";
  };
  CHECK(load_targets(dir / "none.yaml").empty());

  // The place's own file: every target tests an indicator, or is known not to be computed.
  const Scenario sc = small(1);
  for (const Target& t : sc.targets) {
    INFO(t.id);
    CHECK((!t.indicator.empty() || !not_computed_reason(t.id).empty()));
  }

  const auto ts = load_targets(write(R"(targets:
  - id: nursery_places_per_1000
    description: "places per 1,000 residents"
    threshold: 4.5
    comparison: ">="
    year: 2025
    source: "14th Five-Year Plan"
    plan_item: 19
  - id: kindergarten_nursery_class_share_2024
    threshold: 0.8
    source: plan
  - id: public_places_2024
    indicator: nursery_class_places_added
    threshold: 250
    comparison: ">"
    assumed: "reading of item 19"
  - id: babyroom_served_share_1_3
    threshold: 0.15
    source: municipal
)"));
  REQUIRE(ts.size() == 4);
  CHECK(ts[3].indicator == "indicator_babyroom_served_share_1_3");
  CHECK(not_computed_reason(ts[3].id).empty());
  CHECK(ts[0].indicator == "indicator_nursery_places_per_1000");
  CHECK(ts[0].year == 2025);
  CHECK(ts[0].plan_item == "19");
  CHECK(ts[0].threshold == 4.5);
  CHECK(ts[1].indicator == "indicator_kindergarten_nursery_class_share");
  CHECK(ts[1].comparison == ">=");
  CHECK(ts[1].year == 0);
  CHECK(ts[2].indicator == "indicator_nursery_class_places_added");
  CHECK(ts[2].source.find("assumed") == 0);

  CHECK(target_met(ts[0], 4.5));
  CHECK_FALSE(target_met(ts[0], 4.49));
  CHECK_FALSE(target_met(ts[0], kNaN));
  CHECK_FALSE(target_met(ts[2], 250));
  CHECK(target_met(ts[2], 251));

  CHECK_THROWS_WITH(
      load_targets(write("targets:\n  - {id: no_such_thing, threshold: 1, source: x}\n")),
      Catch::Contains("give 'indicator:'") && Catch::Contains("summer_classes"));
  CHECK_THROWS_WITH(load_targets(write("targets:\n  - {id: summer_classes, threshold: 26}\n")),
                    Catch::Contains("source"));
  CHECK_THROWS_WITH(
      load_targets(write(
          "targets:\n  - {id: summer_classes, threshold: 26, comparison: '=>', source: x}\n")),
      Catch::Contains(">="));
  CHECK_THROWS_WITH(
      load_targets(write("targets:\n  - {id: summer_classes, threshold: 26, source: x, "
                         "deadline: 2025}\n")),
      Catch::Contains("deadline"));
  CHECK_THROWS_WITH(
      load_targets(write("targets:\n  - {id: summer_classes, threshold: 26, source: x}\n"
                         "  - {id: summer_classes, threshold: 10, source: x}\n")),
      Catch::Contains("twice"));
}

TEST_CASE("indicators, a place without targets has an empty target dimension in the file",
          "[indicators]") {
  Scenario sc = small(2);
  sc.targets.clear();
  const auto ds = run_scenario(sc);
  REQUIRE(ds.find_dim("target")->size() == 0);
  REQUIRE(test::ints(ds, "indicator_target_met").empty());
  const auto dir = test::fresh_dir("no-targets");
  REQUIRE_NOTHROW(io::write_dataset(ds, dir / "run.h5"));
  CHECK(std::filesystem::file_size(dir / "run.h5") > 0);
}

// A hand-made facility set with known answers for plan item 19's counts: who runs a place and
// whether it is designated 普惠 are per facility, and a class opened by an investment takes
// its host kindergarten's.
TEST_CASE("indicators, item-19 counts on a hand-made facility set", "[indicators][targets]") {
  const Scenario base = small(12);
  Facilities F;
  F.kinds = base.facilities.kinds;
  F.n_months = 12;
  auto add = [&](const char* id, const char* kind, int cap, RunBy by, bool incl) {
    const int k = F.kind_index(kind);
    REQUIRE(k >= 0);
    const int f = add_facility(F, id, id, k, 0, 0.0, 0.0, 0.0, 0.5);
    F.run_by[static_cast<std::size_t>(f)] = by;
    F.inclusive[static_cast<std::size_t>(f)] = incl ? 1 : 0;
    for (int t = 0; t < F.n_months; ++t)
      F.capacity_schedule[F.at(static_cast<std::size_t>(f), t)] = cap;
    return f;
  };
  const int kg_pub = add("kg-public", "kindergarten", 300, RunBy::education_bureau, true);
  const int kg_priv = add("kg-private", "kindergarten", 300, RunBy::private_operator, false);
  add("kg-public-2", "kindergarten", 300, RunBy::education_bureau, true);
  const int nc_pub = add("kg-public-nc", "nursery_class", 20, RunBy::education_bureau, true);
  const int nc_priv = add("kg-private-nc", "nursery_class", 25, RunBy::private_operator, false);
  F.host[static_cast<std::size_t>(nc_pub)] = kg_pub;
  F.host[static_cast<std::size_t>(nc_priv)] = kg_priv;
  add("inc", "inclusive_nursery", 50, RunBy::private_operator, true);
  add("market", "market_nursery", 80, RunBy::private_operator, false);
  add("employer", "employer_nursery", 40, RunBy::employer, false);
  add("room", "baby_room", 660, RunBy::public_body, true);  // not a full-day place
  const int outside = add("far", "inclusive_nursery", 1000, RunBy::private_operator, true);
  F.street[static_cast<std::size_t>(outside)] = -1;  // outside the district: not counted

  // Known answers in January: places 20 + 25 + 50 + 80 + 40 = 215; designated 普惠 20 + 50;
  // public kindergartens' classes 20.
  const NurseryPlaces jan = count_nursery_places(F, 0);
  CHECK(jan.all == 215);
  CHECK(jan.inclusive == 70);
  CHECK(jan.public_classes == 20);

  // September: +30 in the public class, +10 in the private one, a new class of 25 in the
  // second public kindergarten and one of 15 in the private one (host's run_by and 普惠).
  const auto dir = test::fresh_dir("item19");
  {
    std::ofstream out(dir / "inv.yaml");
    out << "investments:\n"
           "- {action: add_capacity, facility: kg-public-nc, amount: 30, start: 2024-09}\n"
           "- {action: add_capacity, facility: kg-private-nc, amount: 10, start: 2024-09}\n"
           "- {action: open, id: new-pub-nc, kind: nursery_class, street: huayanglu, host: "
           "kg-public-2, capacity: 25, start: 2024-09}\n"
           "- {action: open, id: new-priv-nc, kind: nursery_class, street: huayanglu, host: "
           "kg-private, capacity: 15, start: 2024-09}\n"
           "- {action: open, id: new-emp, kind: employer_nursery, street: huayanglu, capacity: 30, "
           "inclusive: true, start: 2024-09}\n";
  }
  const auto root = config::load_config_file(dir / "inv.yaml");
  apply_investments(*root.find("investments"), base.base, base.start, base.end, F);
  const int new_pub = F.index("new-pub-nc"), new_priv = F.index("new-priv-nc");
  CHECK(F.run_by[static_cast<std::size_t>(new_pub)] == RunBy::education_bureau);
  CHECK(F.inclusive[static_cast<std::size_t>(new_pub)] == 1);
  CHECK(F.run_by[static_cast<std::size_t>(new_priv)] == RunBy::private_operator);
  CHECK(F.inclusive[static_cast<std::size_t>(new_priv)] == 0);
  CHECK(F.run_by[static_cast<std::size_t>(F.index("new-emp"))] == RunBy::employer);
  const NurseryPlaces dec = count_nursery_places(F, 11);
  CHECK(dec.all == 215 + 30 + 10 + 25 + 15 + 30);
  CHECK(dec.inclusive == 70 + 30 + 25 + 30);  // the employer nursery opened as designated
  CHECK(dec.public_classes - jan.public_classes == 55);  // not the 25 of the private host
  std::filesystem::remove_all(dir);
}

TEST_CASE("indicators, the children counted in parallel equal a plain loop over the rows",
          "[indicators][threads]") {
  // count_children (one pass in parallel over blocks of rows) against the two serial loops
  // record_indicators ran before (fc4ff87), at 1 and 3 threads, month by month on a real run
  // (nursery places cut so that children wait).
  Scenario sc = small(13);
  set_capacity(sc, Service::nursery, 3);
  const Model model(sc);
  const ServiceContext cx{model.scenario, model.services};
  const std::size_t ns = sc.base.streets.size();
  const int saved = omp_get_max_threads();
  std::int64_t waiting_seen = 0, served_seen = 0;
  run_months(model, [&](const State& st, io::Recorder&) {
    const Children& c = st.children;
    const int t = st.month, year = sc.start.plus(t).year;
    double toddlers = 0, served = 0, young = 0, enrolled = 0;
    std::int32_t waiting = 0;
    std::vector<std::int32_t> by_street(ns, 0);
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!c.present[i]) continue;
      const int age = t - c.birth_month[i];
      if (age >= 12 && age < 36) {
        toddlers += 1;
        served += c.babyroom_year[i] == year;
      }
      if (age < 15 * 12) young += 1;
      if (c.nursery[i] >= 0) enrolled += 1;
      if (c.waiting[i] >= 0) {
        waiting += 1;
        by_street[st.households.street[static_cast<std::size_t>(c.household[i])]] += 1;
      }
    }
    waiting_seen += waiting;
    served_seen += static_cast<std::int64_t>(served);
    for (const int threads : {1, 3}) {
      omp_set_num_threads(threads);
      const ChildCounts n = count_children(cx, st);
      INFO("month " << t << ", " << threads << " threads");
      CHECK(static_cast<double>(n.toddlers) == toddlers);
      CHECK(static_cast<double>(n.served) == served);
      CHECK(static_cast<double>(n.young) == young);
      CHECK(static_cast<double>(n.enrolled) == enrolled);
      CHECK(n.waiting == waiting);
      CHECK(n.waiting_by_street == by_street);
    }
    omp_set_num_threads(saved);
  });
  CHECK(waiting_seen > 0);
  CHECK(served_seen > 0);
}
