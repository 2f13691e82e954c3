// indicators: the plan's and the national indicators, once a year, and whether each target
// is met.
//
// After the last month of each calendar year (December, or the run's last month), for each
// replicate (docs/model.md, "Indicators and targets"). Capacities are those of that month
// from the facility tables; people from the state at that moment or from the outputs already
// recorded for the replicate (`residents`, `nursery_unmet`). Nursery
// places are full-day places (service nursery); "district" facilities are those in a street
// (not "outside"). Holiday classes and clinics are counted from their tables and capacities,
// not from the holiday and clinic submodels. A ratio without a denominator is NaN.
#include "sim/core/parallel.hpp"              // par::for_blocks
#include "sim/services/access.hpp"            // compute_access
#include "sim/services/indicator_counts.hpp"  // count_children, ChildCounts
#include "sim/services/services.hpp"          // ServiceContext
#include "sim/services/targets.hpp"           // target_met

#include <algorithm>  // std::max, std::fill, std::copy
#include <cmath>      // std::lround
#include <limits>     // std::numeric_limits

namespace childsim {

namespace io {
std::vector<OutputSpec> indicator_outputs() {
  using V = std::vector<std::string>;
  const V ry{"replicate", "year"}, rys{"replicate", "year", "street"};
  const bool real = true;
  return {
      {"indicator_nursery_places_per_1000", ry, "places per 1000 residents",
       "nursery places per 1,000 residents",
       "full-day nursery places (all nursery kinds) in district facilities at year end × 1000 / "
       "residents at year end (national target 4.5 by 2025)",
       real},
      {"indicator_nursery_places_per_1000_by_street", rys, "places per 1000 residents",
       "nursery places per 1,000 residents, by street",
       "full-day nursery places in the street's facilities at year end × 1000 / the street's "
       "residents",
       real},
      {"indicator_kindergarten_nursery_class_share", ry, "1",
       "share of kindergartens with a nursery class",
       "open district kindergartens hosting an open nursery class (a nursery facility whose "
       "host is the kindergarten) / open district kindergartens, at year end (plan item 19)",
       real},
      {"indicator_inclusive_nursery_share", ry, "1", "share of 普惠 nursery places",
       "full-day nursery places designated 普惠 (facility_inclusive = 1: at the capped price) "
       "/ all full-day nursery places, district facilities at year end (plan item 19)",
       real},
      {"indicator_babyroom_street_share", ry, "1", "share of streets with a baby room",
       "streets with at least one open baby room at year end / all streets (plan item 20)", real},
      {"indicator_babyroom_served_share_1_3", ry, "1",
       "share of 1-3-year-olds served by baby rooms",
       "children aged 12-35 months at year end who received at least one baby-room session "
       "during the calendar year / all children aged 12-35 months at year end",
       real},
      {"indicator_summer_classes", ry, "classes", "summer holiday classes",
       "district holiday facilities of a summer kind (kind id containing 'summer' or label "
       "containing 暑) open in July or August of the year (plan item 44)"},
      {"indicator_winter_classes", ry, "classes", "winter holiday classes",
       "district holiday facilities of a winter kind (kind id containing 'winter' or label "
       "containing 寒) open in January or February of the year (plan item 44)"},
      {"indicator_chc_paediatric_clinic_share", ry, "1", "share of CHCs with a paediatric clinic",
       "facilities of kind chc_clinic with capacity > 0 at year end / all facilities of kind "
       "chc_clinic (plan item 31)",
       real},
      {"indicator_paediatric_doctors_per_1000_children", ry, "doctors per 1000 children",
       "paediatric doctors per 1,000 children",
       "doctor sessions per month of all district clinics at year end / sessions per doctor "
       "per month (docs/model.md) × 1000 / children aged 0–14 living in the district",
       real},
      {"indicator_nursery_class_places_added", ry, "places",
       "nursery-class places added in the year",
       "places in nursery classes hosted by kindergartens at year end minus those at the end "
       "of the previous year (the first month of the run for its first year; plan item 19)"},
      {"indicator_public_nursery_places_added", ry, "places",
       "public nursery-class places added since the start",
       "places in nursery classes of public kindergartens (facility_run_by education_bureau or "
       "public_body) at year end minus those in the run's first month (plan item 19: +250 public "
       "places in 2024; targets.yaml "
       "public_nursery_places_added_2024)"},
      {"indicator_nursery_waiting", ry, "children", "children on nursery waiting lists",
       "children on a nursery waiting list at year end"},
      {"indicator_nursery_waiting_by_street", rys, "children",
       "children on nursery waiting lists, by street",
       "children on a nursery waiting list at year end, by home street"},
      {"indicator_nursery_unmet", ry, "children", "unmet nursery demand",
       "mean over the year's months (within the run) of nursery_unmet summed over streets", real},
      {"indicator_nursery_unmet_by_street", rys, "children", "unmet nursery demand, by street",
       "mean over the year's months (within the run) of nursery_unmet", real},
      {"indicator_nursery_utilisation", ry, "1", "nursery utilisation",
       "children holding a full-day nursery place / full-day nursery places (all nursery "
       "facilities), at year end",
       real},
      {"indicator_running_cost", ry, "yuan", "running cost of the year",
       "facility_running_cost of the year summed over all facilities", real},
      {"indicator_walk_15min_chc_share", ry, "1",
       "share of children within the walk of a CHC with a paediatric clinic",
       "children of the chc_clinic kind's age range living within access.walk_speed_m_per_min "
       "× access.walk_minutes metres of walking of a chc_clinic with capacity > 0 at year end "
       "/ all such children (plan items 31, 85)",
       real},
      {"indicator_target_met",
       {"replicate", "year", "target"},
       "1",
       "target met",
       "1 when the target's indicator meets its threshold in the year (indicator "
       "target_comparison target_threshold), else 0 (also when the indicator is NaN); -1 when "
       "the model does not compute the target's indicator (target_indicator is empty); "
       "recorded for every year, target_first_year says from when it is required"},
  };
}
}  // namespace io

namespace {

/// Doctor sessions per month that one paediatric doctor provides (a named assumption:
/// about 5 half-day sessions a week; docs/model.md, "Indicators and targets"). A parameter
/// `indicators.sessions_per_doctor_month` in parameters.yaml, when defined, replaces it.
constexpr double kSessionsPerDoctorMonth = 20.0;

/// Children aged 0–14 (completed years), the age range of the national indicator.
constexpr int kDoctorChildAgeMonths = 15 * 12;

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

double ratio(double num, double den) {
  return den > 0 ? num / den : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

ChildCounts count_children(const ServiceContext& cx, const State& st) {
  const Children& c = st.children;
  const Households& h = st.households;
  const int t = st.month;
  const int year = cx.scenario.start.plus(t).year;
  const std::size_t ns = cx.scenario.base.streets.size(), nb = par::n_blocks();
  // Counted per block of rows in parallel and added up: integer counts, whatever the order.
  std::vector<ChildCounts> parts(nb);
  par::for_blocks(c.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    ChildCounts& k = parts[b];
    k.waiting_by_street.assign(ns, 0);
    for (std::size_t i = begin; i < end; ++i) {
      if (!c.present[i]) continue;
      const int age = t - c.birth_month[i];
      if (age >= 12 && age < 36) {
        k.toddlers += 1;
        k.served += c.babyroom_year[i] == year;
      }
      if (age < kDoctorChildAgeMonths) k.young += 1;
      if (c.nursery[i] >= 0) k.enrolled += 1;
      if (c.waiting[i] >= 0) {
        k.waiting += 1;
        k.waiting_by_street[static_cast<std::size_t>(
            h.street[static_cast<std::size_t>(c.household[i])])] += 1;
      }
    }
  });
  ChildCounts n;
  n.waiting_by_street.assign(ns, 0);
  for (const ChildCounts& k : parts) {
    n.toddlers += k.toddlers;
    n.served += k.served;
    n.young += k.young;
    n.enrolled += k.enrolled;
    n.waiting += k.waiting;
    for (std::size_t s = 0; s < ns; ++s) n.waiting_by_street[s] += k.waiting_by_street[s];
  }
  return n;
}

void record_indicators(const ServiceContext& cx, const State& st, io::Recorder& rec) {
  const Scenario& sc = cx.scenario;
  const Facilities& F = sc.facilities;
  const int t = st.month, r = st.replicate, y = rec.year_index(t);
  const std::size_t ns = sc.base.streets.size(), nf = F.size();
  // Months of this calendar year within the run: [t0, t].
  const int t0 = std::max(0, t - (sc.start.plus(t).month - 1));
  auto real = [&](const char* name) { return rec.real_block(name, r, y); };
  auto cap = [&](std::size_t f, int month) { return static_cast<double>(F.capacity(f, month)); };

  // Nursery places and residents.
  const std::int32_t* residents = rec.block("residents", r, t);
  double places = 0, inclusive = 0, all_places = 0, residents_all = 0;
  std::vector<double> places_street(ns, 0.0);
  for (std::size_t f = 0; f < nf; ++f) {
    if (F.service_of(f) != Service::nursery) continue;
    all_places += cap(f, t);
    if (F.street[f] < 0) continue;
    places += cap(f, t);
    places_street[static_cast<std::size_t>(F.street[f])] += cap(f, t);
    if (F.inclusive[f]) inclusive += cap(f, t);  // as count_nursery_places
  }
  double* per_street = real("indicator_nursery_places_per_1000_by_street");
  for (std::size_t s = 0; s < ns; ++s) {
    residents_all += residents[s];
    per_street[s] = ratio(places_street[s] * 1000.0, residents[s]);
  }
  *real("indicator_nursery_places_per_1000") = ratio(places * 1000.0, residents_all);
  *real("indicator_inclusive_nursery_share") = ratio(inclusive, places);

  // Kindergartens with an open nursery class.
  std::vector<std::uint8_t> hosts_class(nf, 0);
  for (std::size_t f = 0; f < nf; ++f)
    if (F.service_of(f) == Service::nursery && F.host[f] >= 0 && F.capacity(f, t) > 0)
      hosts_class[static_cast<std::size_t>(F.host[f])] = 1;
  double kgs = 0, kgs_with = 0;
  for (std::size_t f = 0; f < nf; ++f) {
    if (F.service_of(f) != Service::kindergarten || F.street[f] < 0 || F.capacity(f, t) <= 0)
      continue;
    kgs += 1;
    kgs_with += hosts_class[f];
  }
  *real("indicator_kindergarten_nursery_class_share") = ratio(kgs_with, kgs);

  // Baby rooms by street.
  std::vector<std::uint8_t> has_room(ns, 0);
  for (std::size_t f = 0; f < nf; ++f)
    if (F.service_of(f) == Service::babyroom && F.street[f] >= 0 && F.capacity(f, t) > 0)
      has_room[static_cast<std::size_t>(F.street[f])] = 1;
  double streets_with = 0;
  for (const auto v : has_room) streets_with += v;
  *real("indicator_babyroom_street_share") = ratio(streets_with, static_cast<double>(ns));
  const ChildCounts n = count_children(cx, st);
  *real("indicator_babyroom_served_share_1_3") =
      ratio(static_cast<double>(n.served), static_cast<double>(n.toddlers));

  // Holiday classes open in their window.
  std::int32_t summer = 0, winter = 0;
  for (std::size_t f = 0; f < nf; ++f) {
    if (F.service_of(f) != Service::holiday || F.street[f] < 0) continue;
    const FacilityKind& k = F.kind_of(f);
    const bool is_summer = contains(k.id, "summer") || contains(k.label_zh, "暑");
    const bool is_winter = contains(k.id, "winter") || contains(k.label_zh, "寒");
    bool open_summer = false, open_winter = false;
    for (int m = t0; m <= t; ++m) {
      const int cal = sc.start.plus(m).month;
      if (F.capacity(f, m) <= 0) continue;
      open_summer = open_summer || cal == 7 || cal == 8;
      open_winter = open_winter || cal == 1 || cal == 2;
    }
    summer += is_summer && open_summer;
    winter += is_winter && open_winter;
  }
  *rec.block("indicator_summer_classes", r, y) = summer;
  *rec.block("indicator_winter_classes", r, y) = winter;

  // Clinics: CHCs with a paediatric clinic; doctors per 1,000 children.
  const int chc = F.kind_index("chc_clinic");
  double chcs = 0, chcs_open = 0, sessions = 0;
  for (std::size_t f = 0; f < nf; ++f) {
    if (chc >= 0 && F.kind[f] == chc) {
      chcs += 1;
      chcs_open += F.capacity(f, t) > 0;
    }
    if (F.service_of(f) == Service::clinic && F.street[f] >= 0) sessions += cap(f, t);
  }
  *real("indicator_chc_paediatric_clinic_share") = ratio(chcs_open, chcs);
  const Parameter* per_doctor = sc.base.parameters.find("indicators.sessions_per_doctor_month");
  const double doctors = sessions / (per_doctor ? per_doctor->value : kSessionsPerDoctorMonth);

  // People at year end: young children, nursery places held and waiting lists.
  std::int32_t* waiting_street = rec.block("indicator_nursery_waiting_by_street", r, y);
  std::copy(n.waiting_by_street.begin(), n.waiting_by_street.end(), waiting_street);
  *real("indicator_paediatric_doctors_per_1000_children") =
      ratio(doctors * 1000.0, static_cast<double>(n.young));
  *rec.block("indicator_nursery_waiting", r, y) = static_cast<std::int32_t>(n.waiting);
  *real("indicator_nursery_utilisation") = ratio(static_cast<double>(n.enrolled), all_places);

  // Nursery-class places added since the end of the previous year (or the first month).
  const int before = t0 > 0 ? t0 - 1 : 0;
  std::int64_t added = 0;
  for (std::size_t f = 0; f < nf; ++f)
    if (F.service_of(f) == Service::nursery && F.host[f] >= 0 && F.street[f] >= 0)
      added += F.capacity(f, t) - F.capacity(f, before);
  *rec.block("indicator_nursery_class_places_added", r, y) = static_cast<std::int32_t>(added);
  // Public (公办) kindergartens' classes only (plan item 19).
  const auto since_start = std::lround(count_nursery_places(F, t).public_classes -
                                       count_nursery_places(F, 0).public_classes);
  *rec.block("indicator_public_nursery_places_added", r, y) =
      static_cast<std::int32_t>(since_start);

  // Unmet demand: mean of the year's months.
  double* unmet_street = real("indicator_nursery_unmet_by_street");
  std::fill(unmet_street, unmet_street + ns, 0.0);
  double unmet = 0;
  for (int m = t0; m <= t; ++m) {
    const std::int32_t* u = rec.block("nursery_unmet", r, m);
    for (std::size_t s = 0; s < ns; ++s) unmet_street[s] += u[s];
  }
  const double months = t - t0 + 1;
  for (std::size_t s = 0; s < ns; ++s) {
    unmet += unmet_street[s];
    unmet_street[s] /= months;
  }
  *real("indicator_nursery_unmet") = unmet / months;

  // Running cost of the year, from the facilities' cost schedules (not from the recorded
  // facility_running_cost: that is written once, with replicate 0, and a replicate must not
  // depend on another having run in the same process — MPI ranks run replicates apart).
  double total_cost = 0;
  for (std::size_t f = 0; f < nf; ++f)
    for (int m = t0; m <= t; ++m) total_cost += F.running_cost_schedule[F.at(f, m)];
  *real("indicator_running_cost") = total_cost;

  // The walk to a CHC with a clinic.
  double walk_share = std::numeric_limits<double>::quiet_NaN();
  if (chc >= 0) {
    std::vector<std::uint8_t> available(nf, 0), wanted(F.kinds.size(), 0);
    for (std::size_t f = 0; f < nf; ++f) available[f] = F.capacity(f, t) > 0;
    wanted[static_cast<std::size_t>(chc)] = 1;
    const KindAccess a = compute_access(cx, st, available, wanted)[static_cast<std::size_t>(chc)];
    double within = 0, children = 0;
    for (std::size_t s = 0; s < ns; ++s) {
      within += a.within[s];
      children += a.children[s];
    }
    walk_share = ratio(within, children);
  }
  *real("indicator_walk_15min_chc_share") = walk_share;

  // Targets.
  std::int32_t* met = rec.block("indicator_target_met", r, y);
  for (std::size_t k = 0; k < sc.targets.size(); ++k) {
    const Target& tg = sc.targets[k];
    if (tg.indicator.empty()) {  // not evaluated (targets.hpp)
      met[k] = -1;
      continue;
    }
    const io::OutputSpec* o = io::find_output(tg.indicator);
    const double v = o->real ? *rec.real_block(tg.indicator, r, y) : *rec.block(tg.indicator, r, y);
    met[k] = target_met(tg, v);
  }
}

}  // namespace childsim
