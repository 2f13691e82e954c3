// kindergarten: places for children aged 3–5 by the school-year rule, and leaving for school.
//
// Kindergarten age follows the September rule: a child is in its kindergarten years while its
// age at the most recent 1 September is 3, 4 or 5 (so the intake is each September, and a
// child arriving mid-year is placed at once). Each month (docs/model.md, "Kindergarten"):
//  1. children whose age at the last 1 September is 6 leave for primary school;
//  2. where capacity has fallen below enrolment, the latest enrolled lose their places;
//  3. children of kindergarten age without a place whose family wants one (kindergarten
//     .take_up, a number fixed per child) are placed in priority order: where the scenario
//     gives catchments (对口, policy kindergarten_catchment), first every child whose home
//     street has catchment kindergartens takes the nearest of them with a free place (at any
//     distance: it is the family's assigned kindergarten), so catchment children come before
//     others; then every child still without a place takes the nearest kindergarten with a
//     free place within nursery.max_distance_km; otherwise it is unplaced this month and
//     tries again next month.
#include "sim/core/parallel.hpp"          // par::for_chunks
#include "sim/core/rng.hpp"               // Stream
#include "sim/demography/demography.hpp"  // age_in_months
#include "sim/services/choice.hpp"        // priority_key
#include "sim/services/reach.hpp"         // facilities_within_reach
#include "sim/services/services.hpp"      // ServiceContext

#include <algorithm>  // std::sort
#include <limits>     // std::numeric_limits

namespace childsim {

namespace io {
std::vector<OutputSpec> kindergarten_outputs() {
  using V = std::vector<std::string>;
  const V rtf{"replicate", "time", "facility"}, rts{"replicate", "time", "street"};
  return {
      {"kindergarten_enrolled", rtf, "children", "children holding a kindergarten place",
       "children enrolled at the end of the month"},
      {"kindergarten_eligible", rts, "children", "children of kindergarten age",
       "children whose age at the last 1 September is 3, 4 or 5, by home street"},
      {"kindergarten_children_enrolled", rts, "children", "children in kindergarten by home street",
       "children holding a kindergarten place, by the street they live in"},
      {"kindergarten_unplaced", rts, "children", "children wanting a place without one",
       "children of kindergarten age whose family wants a place but found none free within "
       "reach this month"},
      {"kindergarten_outside_catchment", rts, "children", "children placed outside their catchment",
       "children placed this month in a kindergarten other than their home street's catchment "
       "(对口) kindergartens, because those were full (0 when the scenario gives no "
       "catchments)"},
      {"kindergarten_displaced", rts, "children", "children who lost a kindergarten place",
       "children whose place ended because capacity fell below enrolment"},
      {"kindergarten_walk_m", rts, "m", "mean walking distance to the kindergarten",
       "mean walking distance of enrolled children (NaN when none)", true},
  };
}
}  // namespace io

void step_kindergarten(const ServiceContext& cx, State& st, io::Recorder& rec) {
  const Scenario& sc = cx.scenario;
  const Facilities& F = sc.facilities;
  const ServiceParams& P = cx.params;
  Children& c = st.children;
  std::vector<HomeRow> own_homes;
  const HomeRow* home = homes_for(cx, st, own_homes);
  const int t = st.month, r = st.replicate;
  const std::vector<int> kgs = F.of_service(Service::kindergarten);
  // The passes run over the young children's rows (services.hpp, young_rows): the others are
  // of no kindergarten age and hold no place.
  const RowSet rows = young_rows(cx, st);
  const std::size_t n = rows.size(), ns = sc.base.streets.size();
  auto street_of = [&](std::size_t i) {
    return static_cast<std::size_t>(home[c.household[i]].street);
  };
  // Age at the last 1 September, with the September found once per month (not per child).
  const int september = t - (sc.start.plus(t).month - 9 + 12) % 12;
  auto kg_age = [&](std::size_t i) {
    const int months = september - c.birth_month[i];
    return months < 0 ? -1 : months / 12;
  };

  // 1. Leaving for school; count enrolment; and who seeks a place (step 3), decided from each
  // child's own stream. One pass: each row changes only itself; counts per thread, added up;
  // seekers listed per chunk (their order does not matter: they are sorted by key and row).
  const std::size_t nb = par::n_blocks();
  const auto rep = static_cast<std::uint32_t>(r);
  // A child seeking a place, with its home (copied, so that the serial placement below reads
  // the seekers in order rather than each child's household); sorted by key, then row.
  struct Seeker {
    std::uint64_t key;
    std::size_t row;
    float x_m, y_m;
    std::int16_t street;
    bool placed;  // in the catchment round
    bool operator<(const Seeker& o) const { return key != o.key ? key < o.key : row < o.row; }
  };
  // Appends child i to `out` if it is of kindergarten age, has no place and its family wants
  // one (kindergarten.take_up against a number fixed per child).
  auto seek = [&](std::size_t i, std::vector<Seeker>& out) {
    const int a = kg_age(i);
    if (a < 3 || a > 5) return;
    Stream wish(sc.seed, rep, c.id[i], 0, Purpose::kindergarten);
    if (wish.uniform() >= P.kindergarten_take_up) return;
    const HomeRow& o = home[c.household[i]];
    out.push_back({priority_key(o.all_parents_work(), o.hukou_local(), 0, mix64(c.id[i])), i, o.x_m,
                   o.y_m, o.street, false});
  };
  std::vector<std::vector<std::int32_t>> enrolled_parts(nb, std::vector<std::int32_t>(F.size(), 0));
  std::vector<std::vector<Seeker>> seeker_parts(par::n_chunks(n));
  par::for_chunks(n, nb,
                  [&](std::size_t thread, std::size_t chunk, std::size_t begin, std::size_t end) {
                    std::int32_t* e = enrolled_parts[thread].data();
                    // A plain loop: only the seekers (a few a month, but for the September
                    // intake) read their household, so fetching every row's ahead, as the
                    // recording pass does, cost more than it saved.
                    for (std::size_t k = begin; k < end; ++k) {
                      const std::size_t i = rows[k];
                      if (!c.present[i]) continue;
                      if (c.kindergarten[i] < 0) {
                        seek(i, seeker_parts[chunk]);
                      } else if (kg_age(i) >= 6) {
                        c.kindergarten[i] = -1;  // of school age: not a seeker either
                      } else {
                        e[static_cast<std::size_t>(c.kindergarten[i])] += 1;
                      }
                    }
                  });
  std::vector<std::int32_t> enrolled(F.size(), 0);
  par::add_counts(enrolled_parts, enrolled.data());
  // 2. Displacement. The children displaced seek again at once, like any child without a
  // place.
  std::int32_t* displaced = rec.block("kindergarten_displaced", r, t);
  std::vector<Seeker> seekers;
  for (const std::size_t i :
       displace_latest(F, t, kgs, c, c.kindergarten, c.kindergarten_since, enrolled)) {
    displaced[street_of(i)] += 1;
    seek(i, seekers);
  }
  // 3. Placement in priority order, nearest free kindergarten within reach.
  sort_concatenated(seeker_parts, seekers);
  std::int32_t* unplaced = rec.block("kindergarten_unplaced", r, t);
  std::int32_t* outside = rec.block("kindergarten_outside_catchment", r, t);
  const double max_m = P.max_distance_km * 1000.0;
  // Kindergartens that a home of each street may reach (reach.hpp: same result, less time).
  const auto reach = facilities_within_reach(sc.base, F, kgs, P, max_m);
  // Each street's catchment kindergartens (open or not), in the order of `kgs`.
  std::vector<std::vector<int>> catchment_of(ns);
  for (int f : kgs)
    for (std::size_t s = 0; s < ns; ++s)
      if (F.in_catchment(static_cast<std::size_t>(f), static_cast<int>(s)))
        catchment_of[s].push_back(f);
  // The nearest of the child's catchment kindergartens (any distance) with a free place; -1
  // when none.
  auto nearest_free_in_catchment = [&](const Seeker& q) {
    int best = -1;
    double best_d = std::numeric_limits<double>::infinity();
    for (int f : catchment_of[static_cast<std::size_t>(q.street)]) {
      const auto fu = static_cast<std::size_t>(f);
      if (enrolled[fu] >= F.capacity(fu, t)) continue;
      const double d = P.walk_m(q.x_m, q.y_m, F.x_m[fu], F.y_m[fu]);
      if (d < best_d) {
        best = f;
        best_d = d;
      }
    }
    return best;
  };
  auto place = [&](std::size_t i, int f) {
    c.kindergarten[i] = f;
    c.kindergarten_since[i] = t;
    enrolled[static_cast<std::size_t>(f)] += 1;
    c.nursery[i] = -1;  // a kindergarten place ends nursery care and waiting
    c.waiting[i] = -1;
  };
  if (!F.catchment.empty())
    for (Seeker& q : seekers) {
      if (catchment_of[static_cast<std::size_t>(q.street)].empty()) continue;
      const int f = nearest_free_in_catchment(q);
      if (f < 0) continue;
      place(q.row, f);
      q.placed = true;
    }
  // The nearest kindergarten within reach of each seeker whose street has a kindergarten with
  // a free place, found among distances computed in parallel (services.hpp, NearbyFacilities):
  // the plain scan of reach[s] per seeker, a square root per kindergarten with a free place,
  // was most of this step's time on the main thread. The seekers are taken in batches, in
  // order, and each batch's distances are to the kindergartens still free when it starts (the
  // full stay full) and only for seekers of streets with a place left, so that the parallel
  // work stays near the plain scan's (which skipped full kindergartens and full streets) when
  // places run out during the intake.
  //
  // Free places left per kindergarten, and per street in the kindergartens of its list: a
  // street with none left has no kindergarten with a free place in reach, so its seekers are
  // unplaced without a scan (in a September intake most seekers are in such streets). Each
  // kindergarten's streets are told when it takes a child.
  std::vector<std::int32_t> room(F.size(), 0);
  std::vector<std::int64_t> left(ns, 0);
  std::vector<std::vector<std::uint32_t>> streets_of(F.size());
  for (std::size_t s = 0; s < ns; ++s)
    for (const int f : reach[s]) {
      const auto fu = static_cast<std::size_t>(f);
      room[fu] = std::max(0, F.capacity(fu, t) - enrolled[fu]);
      left[s] += room[fu];
      if (room[fu] > 0) streets_of[fu].push_back(static_cast<std::uint32_t>(s));
    }
  auto has_room = [&](int f) { return room[static_cast<std::size_t>(f)] > 0; };
  std::vector<std::vector<int>> free_in_reach(ns);
  NearbyFacilities nearby;
  constexpr std::size_t batch = 1024;
  for (std::size_t b0 = 0; b0 < seekers.size(); b0 += batch) {
    const std::size_t b1 = std::min(seekers.size(), b0 + batch);
    for (std::size_t s = 0; s < ns; ++s) {
      free_in_reach[s].clear();
      if (left[s] > 0)
        for (const int f : reach[s])
          if (has_room(f)) free_in_reach[s].push_back(f);
    }
    nearby.compute(
        b1 - b0,
        [&](std::size_t k) -> const std::vector<int>* {
          const Seeker& q = seekers[b0 + k];
          const auto& list = free_in_reach[static_cast<std::size_t>(q.street)];
          return q.placed || list.empty() ? nullptr : &list;
        },
        [&](std::size_t k) {
          return std::pair<double, double>(seekers[b0 + k].x_m, seekers[b0 + k].y_m);
        },
        [&](int f) {
          const auto fu = static_cast<std::size_t>(f);
          return std::pair<double, double>(F.x_m[fu], F.y_m[fu]);
        },
        P, max_m);
    for (std::size_t k = b0; k < b1; ++k) {
      const Seeker& q = seekers[k];
      if (q.placed) continue;
      const auto s = static_cast<std::size_t>(q.street);
      double d;
      const int f = left[s] > 0 ? nearby.nearest(k - b0, has_room, d) : -1;
      if (f < 0) {
        unplaced[s] += 1;
        continue;
      }
      place(q.row, f);
      room[static_cast<std::size_t>(f)] -= 1;
      for (const std::uint32_t s2 : streets_of[static_cast<std::size_t>(f)]) left[s2] -= 1;
      if (!catchment_of[s].empty()) outside[s] += 1;
    }
  }
  if (!cx.record) return;
  // Recording: counts per block (added up); the walking distances are listed per block in row
  // order and summed serially in that order (a sum of doubles depends on its order).
  std::int32_t* enr = rec.block("kindergarten_enrolled", r, t);
  std::int32_t* eligible = rec.block("kindergarten_eligible", r, t);
  std::int32_t* by_street = rec.block("kindergarten_children_enrolled", r, t);
  double* walk = rec.real_block("kindergarten_walk_m", r, t);
  struct Counts {
    std::vector<std::int32_t> enr, eligible, by_street;
  };
  // Chunks, for the uneven work (children of kindergarten age are a band of rows); counts per
  // thread, distances per chunk.
  std::vector<Counts> parts(nb);
  for (Counts& k : parts) {
    k.enr.assign(F.size(), 0);
    k.eligible.assign(ns, 0);
    k.by_street.assign(ns, 0);
  }
  std::vector<std::vector<std::pair<std::size_t, double>>> walks(par::n_chunks(n));
  // Each chunk's distances regrouped by street (a stable counting sort, so in row order within
  // a street), from street_begin[chunk][s] to street_begin[chunk][s + 1]: each street's sum can
  // then be added up on its own, the streets in parallel, in the order of a serial loop. With
  // one thread there is no one to share the sums with: the plain serial loop, without the
  // extra pass.
  const bool by_street_in_parallel = par::n_threads() > 1;
  std::vector<std::vector<double>> walks_by_street(par::n_chunks(n));
  std::vector<std::vector<std::uint32_t>> street_begin(par::n_chunks(n));
  // The children of kindergarten age (3 to 5 at the last 1 September) by street come from the
  // agent census when it is kept (services.hpp, add_children_by_street): the pass then reads
  // the household only of the children holding a place.
  const bool eligible_from_census = st.census.enabled();
  if (eligible_from_census) add_children_by_street(st.census, september, 36, 72, eligible);
  par::for_chunks(n, nb,
                  [&](std::size_t thread, std::size_t chunk, std::size_t begin, std::size_t end) {
                    Counts& k = parts[thread];
                    // Room for every row of the chunk: the list grew from nothing in each chunk and
                    // month.
                    walks[chunk].reserve(end - begin);
                    // Only children holding a place, or without the census of kindergarten age,
                    // read their household (fetched a few rows ahead).
                    auto of_age = [&](std::size_t i) {
                      const int a = kg_age(i);
                      return a >= 3 && a <= 5;
                    };
                    for_rows_fetched_ahead(
                        rows, begin, end,
                        [&](std::size_t i) {
                          return c.present[i] &&
                                 (c.kindergarten[i] >= 0 || (!eligible_from_census && of_age(i)));
                        },
                        [&](std::size_t i) { __builtin_prefetch(&home[c.household[i]]); },
                        [&](std::size_t i) {
                          const std::size_t s = street_of(i);
                          if (!eligible_from_census && of_age(i)) k.eligible[s] += 1;
                          if (c.kindergarten[i] < 0) return;
                          const auto f = static_cast<std::size_t>(c.kindergarten[i]);
                          const HomeRow& o = home[c.household[i]];
                          k.enr[f] += 1;
                          k.by_street[s] += 1;
                          walks[chunk].emplace_back(s, P.walk_m(o.x_m, o.y_m, F.x_m[f], F.y_m[f]));
                        });
                    if (!by_street_in_parallel) return;
                    std::vector<std::uint32_t>& b = street_begin[chunk];
                    b.assign(ns + 1, 0);
                    for (const auto& [s, d] : walks[chunk]) b[s + 1] += 1;
                    for (std::size_t s = 0; s < ns; ++s) b[s + 1] += b[s];
                    std::vector<std::uint32_t> next(b.begin(), b.end() - 1);
                    std::vector<double>& w = walks_by_street[chunk];
                    w.resize(walks[chunk].size());
                    for (const auto& [s, d] : walks[chunk]) w[next[s]++] = d;
                  });
  std::vector<double> walk_sum(ns, 0.0);
  if (by_street_in_parallel) {
    par::for_each_unit(ns, [&](std::size_t s) {
      double sum = 0.0;
      for (std::size_t k = 0; k < walks_by_street.size(); ++k)  // chunks, in row order
        for (std::uint32_t j = street_begin[k][s]; j < street_begin[k][s + 1]; ++j)
          sum += walks_by_street[k][j];
      walk_sum[s] = sum;
    });
  } else {
    for (const auto& list : walks)  // (street, metres), in row order
      for (const auto& [s, d] : list) walk_sum[s] += d;
  }
  for (const Counts& k : parts) {
    for (std::size_t f = 0; f < F.size(); ++f) enr[f] += k.enr[f];
    for (std::size_t s = 0; s < ns; ++s) {
      eligible[s] += k.eligible[s];
      by_street[s] += k.by_street[s];
    }
  }
  for (std::size_t s = 0; s < ns; ++s)
    walk[s] =
        by_street[s] > 0 ? walk_sum[s] / by_street[s] : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace childsim
