// access_reference_test: the 15-minute walk's sort and availability as they were before they
// ran in parallel (main at fc4ff87: the counting sort of the children and the places taken
// counted serially), kept as the reference that compute_access and available_facilities must
// equal to the bit, at 1 and 3 threads, on real states (issue #14).
#include "sim/core/check.hpp"             // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"          // par::for_blocks, par::for_each_unit
#include "sim/demography/demography.hpp"  // age_in_months
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model, step_month
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "sim/services/access.hpp"        // compute_access, available_facilities
#include "sim/services/services.hpp"      // ServiceContext, homes_for
#include "test_support.hpp"

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads
#include <catch2/catch.hpp>

#include <algorithm>  // std::min, std::max, std::clamp
#include <cmath>      // std::sqrt
#include <cstring>    // std::memcmp
#include <limits>     // std::numeric_limits
#include <vector>     // std::vector

using namespace childsim;

namespace {

constexpr double kCell = 400.0;  // grid cell side, metres
constexpr double kRel = 1e-9;    // relative margin: cell-level decisions stay clear of rounding

struct Grid {
  double x0 = 0, y0 = 0;
  int nx = 0, ny = 0;
  int cell_of(double x, double y) const {
    const double u = (x - x0) * (1 / kCell), v = (y - y0) * (1 / kCell);
    if (!(u >= 0 && v >= 0 && u < nx && v < ny)) return -1;  // NaN too
    return static_cast<int>(v) * nx + static_cast<int>(u);   // truncation = floor here
  }
};

// The cells cover every street's disc (where homes are drawn) with a margin.
Grid street_grid(const BaseData& base) {
  double xlo = std::numeric_limits<double>::infinity(), ylo = xlo, xhi = -xlo, yhi = -xlo;
  for (const auto& s : base.streets) {
    xlo = std::min(xlo, s.x_m - s.radius_m);
    ylo = std::min(ylo, s.y_m - s.radius_m);
    xhi = std::max(xhi, s.x_m + s.radius_m);
    yhi = std::max(yhi, s.y_m + s.radius_m);
  }
  Grid g;
  if (base.streets.empty()) return g;
  g.x0 = xlo - kCell;
  g.y0 = ylo - kCell;
  g.nx = static_cast<int>((xhi - xlo) / kCell) + 3;
  g.ny = static_cast<int>((yhi - ylo) / kCell) + 3;
  return g;
}

// One kind's open facilities (capacity > 0); distances here are straight-line and squared, the
// detour factor is applied at the end.
struct KindFacilities {
  std::vector<double> fx, fy;
  std::vector<std::uint8_t> usable;  // available (can take the child)
  double reach2 = 0;                 // squared straight-line reach

  double d2(std::int32_t j, double x, double y) const {
    const double dx = x - fx[static_cast<std::size_t>(j)], dy = y - fy[static_cast<std::size_t>(j)];
    return dx * dx + dy * dy;
  }
};

KindFacilities kind_facilities(const Facilities& F, int kind, int month,
                               const std::vector<std::uint8_t>& available, double reach_straight) {
  KindFacilities kf;
  kf.reach2 = reach_straight * reach_straight;
  for (std::size_t f = 0; f < F.size(); ++f)
    if (F.kind[f] == kind && F.capacity(f, month) > 0) {
      kf.fx.push_back(F.x_m[f]);
      kf.fy.push_back(F.y_m[f]);
      kf.usable.push_back(available[f]);
    }
  return kf;
}

// What one cell needs for one kind: the facilities that can be nearest to some point of it
// (no farther from the cell than the smallest farthest-point distance of any facility), and
// whether every point (status 1), none (0) or some (2: check `reach`) are within reach of an
// available facility. Margins of kRel keep the shortcuts on the safe side of rounding.
struct CellPlan {
  std::vector<std::int32_t> near, reach;
  int status = 0;
};

void plan_cell(const KindFacilities& kf, double cx0, double cy0, std::vector<double>& dmin2,
               CellPlan& plan) {
  const double cx1 = cx0 + kCell, cy1 = cy0 + kCell;
  const std::size_t n = kf.fx.size();
  dmin2.resize(n);
  double bound2 = std::numeric_limits<double>::infinity();
  bool all_in = false;
  for (std::size_t j = 0; j < n; ++j) {
    const double fx = kf.fx[j], fy = kf.fy[j];
    const double ex = std::max(0.0, std::max(cx0 - fx, fx - cx1));
    const double ey = std::max(0.0, std::max(cy0 - fy, fy - cy1));
    const double gx = std::max(fx - cx0, cx1 - fx), gy = std::max(fy - cy0, cy1 - fy);
    dmin2[j] = ex * ex + ey * ey;
    const double dmax2 = gx * gx + gy * gy;
    bound2 = std::min(bound2, dmax2);
    all_in = all_in || (kf.usable[j] && dmax2 <= kf.reach2 * (1 - kRel));
  }
  plan.near.clear();
  plan.reach.clear();
  for (std::size_t j = 0; j < n; ++j) {
    if (dmin2[j] <= bound2 * (1 + kRel)) plan.near.push_back(static_cast<std::int32_t>(j));
    if (!all_in && kf.usable[j] && dmin2[j] <= kf.reach2 * (1 + kRel))
      plan.reach.push_back(static_cast<std::int32_t>(j));
  }
  plan.status = all_in ? 1 : plan.reach.empty() ? 0 : 2;
}

// A child's home, age and street, sorted by cell and age.
struct Home {
  float x, y;
  std::int32_t age, street;
};

struct SortScratch {
  std::vector<std::int32_t> key, at, next;
  std::vector<Home> rows, homes;
};

std::vector<std::uint8_t> available_facilities_reference(const Scenario& sc, const State& st) {
  const Facilities& F = sc.facilities;
  const Children& c = st.children;
  std::vector<std::int32_t> enrolled(F.size(), 0);
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c.present[i]) continue;
    if (c.nursery[i] >= 0) enrolled[static_cast<std::size_t>(c.nursery[i])] += 1;
    if (c.kindergarten[i] >= 0) enrolled[static_cast<std::size_t>(c.kindergarten[i])] += 1;
  }
  std::vector<std::uint8_t> out(F.size(), 0);
  for (std::size_t f = 0; f < F.size(); ++f) {
    const std::int32_t cap = F.capacity(f, st.month);
    const Service s = F.service_of(f);
    const bool counts_places = s == Service::nursery || s == Service::kindergarten;
    out[f] = counts_places ? enrolled[f] < cap : cap > 0;
  }
  return out;
}

std::vector<KindAccess> compute_access_reference(const ServiceContext& cx, const State& st,
                                                 const std::vector<std::uint8_t>& available,
                                                 const std::vector<std::uint8_t>& wanted) {
  const Scenario& sc = cx.scenario;
  const Facilities& F = sc.facilities;
  const ServiceParams& P = cx.params;
  const Children& c = st.children;
  const Households& h = st.households;
  const int t = st.month;
  const std::size_t nk = F.kinds.size(), ns = sc.base.streets.size();
  const double reach = P.walk_speed_m_per_min * P.walk_minutes;
  const Grid g = street_grid(sc.base);
  CHILDSIM_CHECK(g.nx > 0, "access: no streets");

  std::vector<KindAccess> out(nk);
  std::vector<int> kinds;  // wanted kinds
  for (std::size_t k = 0; k < nk; ++k) {
    if (!wanted[k]) continue;
    kinds.push_back(static_cast<int>(k));
    out[k].children.assign(ns, 0);
    out[k].within.assign(ns, 0);
    out[k].reached.assign(ns, 0);
    out[k].nearest_sum_m.assign(ns, 0.0);
  }

  // Children sorted by cell (the outside ones last) and, within a cell, by year of age (a
  // counting sort, stable in row order): each cell's candidates and decisions are looked up
  // once, and the children of a kind's age range are one run of each cell's list, give or
  // take the months at its ends.
  constexpr int n_years = 19;  // 0..17, and 18 for none (children are under 18)
  const std::size_t ncell = static_cast<std::size_t>(g.nx * g.ny);
  const std::size_t n_rows = c.size();
  // Scratch memory kept between calls, so that a call does not fault in megabytes of fresh
  // pages; it carries nothing from one call to the next.
  SortScratch scratch;
  std::vector<std::int32_t>& key = scratch.key;
  std::vector<Home>& rows = scratch.rows;  // in row order: each child's household is read once
  key.resize(n_rows);
  rows.resize(n_rows);
  // Each child's household as its HomeRow (services.hpp): one memory access, not three.
  std::vector<HomeRow> own_homes;
  const HomeRow* home = homes_for(cx, st, own_homes);
  const std::size_t n_homes = h.size();
  par::for_blocks(n_rows, par::n_blocks(), [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      // Households are read in no particular order: fetch those of a few rows ahead (GCC, Clang).
      constexpr std::size_t ahead = 32;
      if (i + ahead < n_rows) {
        const auto later = static_cast<std::size_t>(c.household[i + ahead]);
        __builtin_prefetch(&home[later < n_homes ? later : 0]);
      }
      key[i] = -1;
      if (!c.present[i]) continue;
      const HomeRow& o = home[c.household[i]];
      const float x = o.x_m, y = o.y_m;
      const int cell = g.cell_of(x, y);
      const int age = age_in_months(t, c.birth_month[i]);
      const std::size_t slot = cell < 0 ? ncell : static_cast<std::size_t>(cell);
      key[i] = static_cast<std::int32_t>(slot * n_years) + std::clamp(age / 12, 0, n_years - 1);
      rows[i] = {x, y, age, o.street};
    }
  });
  std::vector<std::int32_t>& at = scratch.at;  // counts, then starts, per key
  at.assign((ncell + 1) * n_years + 1, 0);
  for (std::size_t i = 0; i < n_rows; ++i)
    if (key[i] >= 0) at[static_cast<std::size_t>(key[i]) + 1] += 1;
  for (std::size_t k = 1; k < at.size(); ++k) at[k] += at[k - 1];
  std::vector<Home>& homes = scratch.homes;
  homes.resize(static_cast<std::size_t>(at.back()));
  std::vector<std::int32_t>& next = scratch.next;
  next.assign(at.begin(), at.end() - 1);
  for (std::size_t i = 0; i < n_rows; ++i)
    if (key[i] >= 0)
      homes[static_cast<std::size_t>(next[static_cast<std::size_t>(key[i])]++)] = rows[i];

  // Kinds in parallel: each writes only its own sums, in a fixed order.
  par::for_each_unit(kinds.size(), [&](std::size_t w) {
    const int k = kinds[w];
    const FacilityKind& kind = F.kinds[static_cast<std::size_t>(k)];
    const int lo = kind.min_age_months, hi = kind.max_age_months;
    const KindFacilities kf = kind_facilities(F, k, t, available, reach / P.detour_factor);
    KindAccess& a = out[static_cast<std::size_t>(k)];
    // Years of age that hold some of the kind's months.
    const auto lo_key = static_cast<std::size_t>(std::clamp(lo / 12, 0, n_years));
    const auto hi_key = static_cast<std::size_t>(std::clamp((hi + 11) / 12, 0, n_years));
    CellPlan plan;
    std::vector<double> dmin2;
    for (std::size_t cell = 0; cell <= ncell; ++cell) {
      const Home* begin = homes.data() + at[cell * n_years + lo_key];
      const Home* end = homes.data() + at[cell * n_years + hi_key];
      if (begin == end) continue;
      if (kf.fx.empty()) {  // nothing open: children counted, none within
        for (const Home* p = begin; p != end; ++p)
          if (p->age >= lo && p->age < hi) a.children[static_cast<std::size_t>(p->street)] += 1;
        continue;
      }
      if (cell == ncell) {  // outside the grid: every facility is a candidate, none is sure
        plan.near.clear();
        plan.reach.clear();
        for (std::size_t j = 0; j < kf.fx.size(); ++j) {
          plan.near.push_back(static_cast<std::int32_t>(j));
          if (kf.usable[j]) plan.reach.push_back(static_cast<std::int32_t>(j));
        }
        plan.status = 2;
      } else {
        plan_cell(kf, g.x0 + static_cast<double>(cell % static_cast<std::size_t>(g.nx)) * kCell,
                  g.y0 + static_cast<double>(cell / static_cast<std::size_t>(g.nx)) * kCell, dmin2,
                  plan);
      }
      const std::int32_t* near = plan.near.data();
      const auto n_near = static_cast<std::int32_t>(plan.near.size());
      const std::int32_t* rch = plan.reach.data();
      const auto n_reach = static_cast<std::int32_t>(plan.reach.size());
      const int status = plan.status;
      // Sums kept in registers while the street stays the same (it mostly does in a cell).
      std::int32_t street = -1, n = 0, n_within = 0;
      double sum = 0;
      auto flush = [&] {
        if (street < 0) return;
        const auto s = static_cast<std::size_t>(street);
        a.children[s] += n;
        a.reached[s] += n;
        a.within[s] += n_within;
        a.nearest_sum_m[s] += sum;
      };
      for (const Home* p = begin; p != end; ++p) {
        if (p->age < lo || p->age >= hi) continue;
        if (p->street != street) {
          flush();
          street = p->street;
          n = n_within = 0;
          sum = 0;
        }
        double nearest2 = kf.d2(near[0], p->x, p->y);
        for (std::int32_t q = 1; q < n_near; ++q)
          nearest2 = std::min(nearest2, kf.d2(near[q], p->x, p->y));
        bool within = status == 1;
        if (status == 2)
          for (std::int32_t q = 0; q < n_reach && !within; ++q)
            within = kf.d2(rch[q], p->x, p->y) <= kf.reach2;
        n += 1;
        n_within += within;
        sum += P.detour_factor * std::sqrt(nearest2);
      }
      flush();
    }
  });
  return out;
}

/// Same sizes and bits (the sums of doubles too).
bool same_bits(const std::vector<KindAccess>& a, const std::vector<KindAccess>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const KindAccess &x = a[k], &y = b[k];
    if (x.children != y.children || x.within != y.within || x.reached != y.reached) return false;
    if (x.nearest_sum_m.size() != y.nearest_sum_m.size()) return false;
    if (!x.nearest_sum_m.empty() && std::memcmp(x.nearest_sum_m.data(), y.nearest_sum_m.data(),
                                                x.nearest_sum_m.size() * sizeof(double)) != 0)
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("access, the sort and the places taken in parallel equal the serial reference to the bit",
          "[indicators][access][threads]") {
  // Month by month on the states of a real run (the small scenario, 13 months), for every kind
  // and for the clinic kind alone: compute_access and available_facilities at 1 and 3 threads
  // equal the serial reference above, sums of doubles to the bit.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(12);
  const Model m(sc);
  const ServiceContext cx{m.scenario, m.services};
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  io::Recorder run(sc, 1);
  const std::size_t nk = sc.facilities.kinds.size();
  const std::vector<std::uint8_t> all(nk, 1);
  std::vector<std::uint8_t> clinic(nk, 0);
  clinic[static_cast<std::size_t>(sc.facilities.kind_index("chc_clinic"))] = 1;
  const int saved = omp_get_max_threads();
  long children = 0;
  for (int t = 0; t < sc.n_months(); ++t) {
    st.month = t;
    step_month(m, st, run);
    const std::vector<std::uint8_t> available = available_facilities_reference(sc, st);
    const std::vector<KindAccess> ref_all = compute_access_reference(cx, st, available, all);
    const std::vector<KindAccess> ref_clinic = compute_access_reference(cx, st, available, clinic);
    for (const KindAccess& a : ref_all)
      for (const std::int32_t n : a.children) children += n;
    for (const int threads : {1, 3}) {
      omp_set_num_threads(threads);
      INFO("month " << t << ", " << threads << " threads");
      CHECK(available_facilities(sc, st) == available);
      CHECK(same_bits(compute_access(cx, st, available, all), ref_all));
      CHECK(same_bits(compute_access(cx, st, available, clinic), ref_clinic));
    }
    omp_set_num_threads(saved);
  }
  CHECK(children > 100000);  // the children of every kind's ages, over the months
}
