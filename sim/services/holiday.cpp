// holiday: summer and winter holiday classes (爱心暑托班 / 寒托班) for primary pupils whose
// parents work.
//
// Sessions (docs/model.md, "Holiday classes"). Summer has two sessions, one in July and one in
// August (the two three-week sessions of 2023 ran 3–21 July and 24 July–11 August); winter
// has one, in January (the two-week session of 2024 ran 22 January–2 February, at the start
// of the school winter break). A summer_class facility offers capacity(f, t) places in each
// summer session month, a winter_class facility in the winter session month; a class is open
// only when its capacity is positive. Nothing is held between sessions: each session month
// is allocated afresh, and no state is kept on the children.
//
// Each month:
//  1. Eligibility: a pupil of holiday-class age (age at the last 1 September 6–11) whose
//     parents all work and whose family has no grandparent care is eligible (counted every
//     month, also outside the windows).
//  2. Demand (session months only): an eligible pupil seeks a place with probability
//     holiday.take_up, compared with a uniform fixed per child and window — the first word of
//     the child's `holiday` stream keyed on the model month of the window's first session
//     (July for both summer sessions, January for winter) — so a family decides once a year
//     per window and seeks in each session of it.
//  3. Allocation: seekers are taken in a random order drawn afresh for each session from their
//     own stream (words 1–2 of the `holiday` stream keyed on the session month: places go
//     first come, first served, as the sign-ups sell out within hours); each takes the
//     nearest open class of the window's kind with a free place within
//     nursery.max_distance_km walking distance, or is unmet. Capacity is never exceeded.
// Draws are made in parallel over chunks of rows, the seekers listed in row order; the
// allocation is serial, in the sorted order, so results do not depend on the thread count.
#include "sim/services/holiday.hpp"

#include "sim/core/parallel.hpp"      // par::for_chunks
#include "sim/core/rng.hpp"           // Stream
#include "sim/services/reach.hpp"     // facilities_within_reach
#include "sim/services/services.hpp"  // ServiceContext

#include <algorithm>  // std::sort
#include <limits>     // std::numeric_limits
#include <utility>    // std::pair

namespace childsim {

namespace io {
std::vector<OutputSpec> holiday_outputs() {
  using V = std::vector<std::string>;
  const V rtf{"replicate", "time", "facility"}, rts{"replicate", "time", "street"};
  return {
      {"holiday_eligible", rts, "children", "pupils eligible for holiday classes",
       "children whose age at the last 1 September is 6–11, whose parents all work and whose "
       "family has no grandparent care, by home street (every month)"},
      {"holiday_seekers", rts, "children", "pupils seeking a holiday-class place",
       "eligible pupils whose family seeks a place in this month's session (summer: July and "
       "August; winter: January); 0 outside the session months"},
      {"holiday_placed", rts, "children", "pupils placed in a holiday class",
       "seekers who got a place in this month's session, by home street"},
      {"holiday_unmet", rts, "children", "pupils seeking a place without one",
       "seekers with no free place in an open class of the session's kind within "
       "nursery.max_distance_km (seekers − placed)"},
      {"holiday_enrolled", rtf, "children", "places filled in the class",
       "pupils placed in the holiday class in this month's session (0 for other facilities "
       "and outside the session months)"},
      {"holiday_fill", rtf, "1", "share of the class's places filled",
       "places filled / places per session of holiday classes in session; NaN for classes "
       "closed or not in session this month and for other facilities",
       true},
      {"holiday_walk_m", rts, "m", "mean walking distance to the holiday class",
       "mean walking distance from home to the class of pupils placed this month (NaN when "
       "none)",
       true},
  };
}
}  // namespace io

HolidayWindow holiday_window(int calendar_month) {
  if (calendar_month == holiday_summer_first || calendar_month == holiday_summer_second)
    return HolidayWindow::summer;
  if (calendar_month == holiday_winter) return HolidayWindow::winter;
  return HolidayWindow::none;
}

int holiday_window_first_month(int month, YearMonth start) {
  const int calendar_month = start.plus(month).month;
  return calendar_month == holiday_summer_second ? month - 1 : month;
}

HolidayAllocation allocate_holiday_places(const std::vector<HolidayClass>& classes,
                                          const std::vector<double>& home_x,
                                          const std::vector<double>& home_y, const ServiceParams& P,
                                          double max_m) {
  HolidayAllocation a;
  const std::size_t n = home_x.size();
  a.place.assign(n, -1);
  a.walk_m.assign(n, 0.0);
  a.filled.assign(classes.size(), 0);
  for (std::size_t k = 0; k < n; ++k) {
    int best = -1;
    double best_d = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < classes.size(); ++j) {
      if (a.filled[j] >= classes[j].capacity) continue;  // closed or full
      const double d = P.walk_m(home_x[k], home_y[k], classes[j].x_m, classes[j].y_m);
      if (d <= max_m && d < best_d) {
        best = static_cast<int>(j);
        best_d = d;
      }
    }
    if (best < 0) continue;
    a.place[k] = best;
    a.walk_m[k] = best_d;
    a.filled[static_cast<std::size_t>(best)] += 1;
  }
  return a;
}

HolidayAllocation allocate_holiday_places_nearby(const std::vector<HolidayClass>& classes,
                                                 const std::vector<double>& home_x,
                                                 const std::vector<double>& home_y,
                                                 const std::vector<std::int16_t>& home_street,
                                                 const std::vector<std::vector<int>>& reach,
                                                 const ServiceParams& P, double max_m) {
  HolidayAllocation a;
  const std::size_t n = home_x.size();
  a.place.assign(n, -1);
  a.walk_m.assign(n, 0.0);
  a.filled.assign(classes.size(), 0);
  auto has_room = [&](int j) {
    const auto ju = static_cast<std::size_t>(j);
    return a.filled[ju] < classes[ju].capacity;
  };
  // Places left per street in the classes of its list (a street with none left: its seekers are
  // unmet without a scan), and the streets of each class's lists, told when it takes a pupil.
  const std::size_t ns = reach.size();
  std::vector<std::int64_t> left(ns, 0);
  std::vector<std::vector<std::uint32_t>> streets_of(classes.size());
  for (std::size_t s = 0; s < ns; ++s)
    for (const int j : reach[s]) {
      const auto ju = static_cast<std::size_t>(j);
      if (classes[ju].capacity <= 0) continue;
      left[s] += classes[ju].capacity;
      streets_of[ju].push_back(static_cast<std::uint32_t>(s));
    }
  // Seekers in batches, in order: each batch's distances are to the classes with a place when
  // it starts (classes fill early, and the plain scan skipped the full ones before computing a
  // distance), so that the parallel work stays near the plain scan's.
  std::vector<std::vector<int>> open(ns);
  NearbyFacilities nearby;
  constexpr std::size_t batch = 1024;
  for (std::size_t b0 = 0; b0 < n; b0 += batch) {
    const std::size_t b1 = std::min(n, b0 + batch);
    for (std::size_t s = 0; s < ns; ++s) {
      open[s].clear();
      if (left[s] > 0)
        for (const int j : reach[s])
          if (has_room(j)) open[s].push_back(j);
    }
    nearby.compute(
        b1 - b0,
        [&](std::size_t k) -> const std::vector<int>* {
          const auto& list = open[static_cast<std::size_t>(home_street[b0 + k])];
          return list.empty() ? nullptr : &list;
        },
        [&](std::size_t k) { return std::pair<double, double>(home_x[b0 + k], home_y[b0 + k]); },
        [&](int j) {
          const HolidayClass& h = classes[static_cast<std::size_t>(j)];
          return std::pair<double, double>(h.x_m, h.y_m);
        },
        P, max_m);
    for (std::size_t k = b0; k < b1; ++k) {
      const auto s = static_cast<std::size_t>(home_street[k]);
      double d;
      const int best = left[s] > 0 ? nearby.nearest(k - b0, has_room, d) : -1;
      if (best < 0) continue;
      a.place[k] = best;
      a.walk_m[k] = d;
      a.filled[static_cast<std::size_t>(best)] += 1;
      for (const std::uint32_t s2 : streets_of[static_cast<std::size_t>(best)]) left[s2] -= 1;
    }
  }
  return a;
}

void step_holiday(const ServiceContext& cx, State& st, io::Recorder& rec) {
  const Scenario& sc = cx.scenario;
  const Facilities& F = sc.facilities;
  const ServiceParams& P = cx.params;
  const Children& c = st.children;
  std::vector<HomeRow> own_homes;
  const HomeRow* home = homes_for(cx, st, own_homes);
  const int t = st.month, r = st.replicate;
  // The passes run over the pupils' rows (services.hpp, pupil_rows): the others are of no
  // holiday-class age.
  const RowSet rows = pupil_rows(cx, st);
  const std::size_t n = rows.size(), ns = sc.base.streets.size(), nf = F.size();
  const auto rep = static_cast<std::uint32_t>(r);
  const HolidayWindow window = holiday_window(sc.start.plus(t).month);
  const auto wish_month = static_cast<std::uint32_t>(holiday_window_first_month(t, sc.start));

  // 1–2. Eligibility and demand, in parallel over chunks of rows: eligible pupils counted per
  // thread (added up), seekers listed per chunk in row order with their order keys.
  const bool in_session = window != HolidayWindow::none;
  const double take_up = P.holiday_take_up;
  const std::size_t nb = par::n_blocks();
  std::vector<std::vector<std::int32_t>> eligible_parts(nb, std::vector<std::int32_t>(ns, 0));
  // A seeker, with its order key and what the serial passes read of its household (copied
  // here, in parallel, rather than read through each child's household there); sorted by key,
  // then row.
  struct Seeker {
    std::uint64_t key;
    std::size_t row;
    float x_m, y_m;
    std::int16_t street;
    bool operator<(const Seeker& o) const { return key != o.key ? key < o.key : row < o.row; }
  };
  std::vector<std::vector<Seeker>> found(par::n_chunks(n));
  const int september = t - (sc.start.plus(t).month - 9 + 12) % 12;  // age_at_last_september
  par::for_chunks(
      n, nb, [&](std::size_t thread, std::size_t chunk, std::size_t begin, std::size_t end) {
        std::int32_t* k_eligible = eligible_parts[thread].data();
        // Households of pupils of the age are fetched a few pupils ahead.
        auto of_age = [&](std::size_t i) {
          if (!c.present[i]) return false;
          const int months = september - c.birth_month[i];
          const int age = months < 0 ? -1 : months / 12;
          return age >= holiday_min_age && age <= holiday_max_age;
        };
        auto fetch = [&](std::size_t i) { __builtin_prefetch(&home[c.household[i]]); };
        for_rows_fetched_ahead(rows, begin, end, of_age, fetch, [&](std::size_t i) {
          const HomeRow& o = home[c.household[i]];
          if (!o.all_parents_work() || o.grandparent_care()) return;
          k_eligible[o.street] += 1;
          if (!in_session) return;
          Stream wish(sc.seed, rep, c.id[i], wish_month, Purpose::holiday);
          if (wish.uniform() >= take_up) return;
          Stream draw(sc.seed, rep, c.id[i], static_cast<std::uint32_t>(t), Purpose::holiday);
          draw();  // word 0 is the wish of a window's first session
          const std::uint64_t hi = draw();
          found[chunk].push_back({(hi << 32) | draw(), i, o.x_m, o.y_m, o.street});
        });
      });

  std::int32_t* eligible = rec.block("holiday_eligible", r, t);
  std::int32_t* seekers = rec.block("holiday_seekers", r, t);
  std::int32_t* placed = rec.block("holiday_placed", r, t);
  std::int32_t* unmet = rec.block("holiday_unmet", r, t);
  std::int32_t* enrolled = rec.block("holiday_enrolled", r, t);
  double* fill = rec.real_block("holiday_fill", r, t);
  double* walk = rec.real_block("holiday_walk_m", r, t);
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::fill(fill, fill + nf, nan);
  std::fill(walk, walk + ns, nan);

  par::add_counts(eligible_parts, eligible);
  std::vector<Seeker> queue;
  if (!in_session) return;

  // 3. Allocation in the session's random order (ties, vanishingly rare, by row: rows are in
  // the same order for every thread count).
  sort_concatenated(found, queue);
  const int kind = F.kind_index(window == HolidayWindow::summer ? "summer_class" : "winter_class");
  std::vector<int> class_facility;
  std::vector<HolidayClass> classes;
  for (std::size_t f = 0; f < nf; ++f) {
    if (F.kind[f] != kind || F.capacity(f, t) <= 0) continue;
    class_facility.push_back(static_cast<int>(f));
    classes.push_back({F.x_m[f], F.y_m[f], F.capacity(f, t)});
  }
  std::vector<double> hx(queue.size()), hy(queue.size());
  std::vector<std::int16_t> hs(queue.size());
  for (std::size_t k = 0; k < queue.size(); ++k) {
    hx[k] = queue[k].x_m;
    hy[k] = queue[k].y_m;
    hs[k] = queue[k].street;
  }
  // The classes that a home of each street may reach (reach.hpp), as indices into `classes`
  // (in their order).
  const double max_m = P.max_distance_km * 1000.0;
  const auto reach_f = facilities_within_reach(sc.base, F, class_facility, P, max_m);
  std::vector<int> class_of(nf, -1);
  for (std::size_t j = 0; j < class_facility.size(); ++j)
    class_of[static_cast<std::size_t>(class_facility[j])] = static_cast<int>(j);
  std::vector<std::vector<int>> reach(ns);
  for (std::size_t s = 0; s < ns; ++s)
    for (const int f : reach_f[s]) reach[s].push_back(class_of[static_cast<std::size_t>(f)]);
  const HolidayAllocation a = allocate_holiday_places_nearby(classes, hx, hy, hs, reach, P, max_m);

  std::vector<double> walk_sum(ns, 0.0);
  for (std::size_t k = 0; k < queue.size(); ++k) {
    const auto s = static_cast<std::size_t>(queue[k].street);
    seekers[s] += 1;
    if (a.place[k] < 0) {
      unmet[s] += 1;
      continue;
    }
    placed[s] += 1;
    walk_sum[s] += a.walk_m[k];
  }
  for (std::size_t j = 0; j < classes.size(); ++j) {
    const auto f = static_cast<std::size_t>(class_facility[j]);
    enrolled[f] = a.filled[j];
    fill[f] = static_cast<double>(a.filled[j]) / classes[j].capacity;
  }
  for (std::size_t s = 0; s < ns; ++s)
    if (placed[s] > 0) walk[s] = walk_sum[s] / placed[s];
}

}  // namespace childsim
