// access: the 15-minute walk ("15-minute community life circle", plan item 85).
//
// For every facility kind and street: the share of children of the kind's age range who live
// within a walk of walk_speed × walk_minutes metres (ServiceParams::walk_m: straight line ×
// detour factor) of a facility of that kind that can take them — a nursery or kindergarten
// with enrolment below capacity, any other facility open (capacity > 0) — and their mean
// walking distance to the nearest open facility of the kind. Computed after the other services
// in June, December and the run's last month (docs/model.md, "Accessibility"): access changes
// slowly, and this keeps the cost near 2.5 % of a run; other months are NaN.
//
// Exact and fast: the plane over the streets is cut into square cells. For each kind and each
// cell holding children of its ages, the code finds the open facilities that can be nearest to
// some point of the cell (those whose nearest point of the cell is no farther than the closest
// farthest point of any facility) and whether every, no, or only some points of the cell are
// within the walk of an available facility. A child then needs a few distances instead of one
// per facility, and the answer is the same as comparing every facility (homes outside the grid
// do exactly that).
#include "sim/services/access.hpp"

#include "sim/core/check.hpp"             // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"          // par::for_blocks, par::for_each_unit
#include "sim/demography/demography.hpp"  // age_in_months

#include <algorithm>  // std::min, std::max, std::clamp
#include <cmath>      // std::sqrt
#include <limits>     // std::numeric_limits

namespace childsim {

namespace io {
std::vector<OutputSpec> access_outputs() {
  using V = std::vector<std::string>;
  const V rtsk{"replicate", "time", "street", "kind"};
  return {
      {"access_within_walk", rtsk, "1", "share of children within the walk",
       "share of the children of the kind's age range living in the street whose home is within "
       "access.walk_speed_m_per_min × access.walk_minutes metres of walking of a facility of "
       "the kind that can take them (nursery, kindergarten: enrolment below capacity; other "
       "kinds: open); June, December and the last month only, NaN in other months and where "
       "no child is of the kind's age",
       true},
      {"access_nearest_walk_m", rtsk, "m", "mean walking distance to the nearest facility",
       "mean, over the children of the kind's age range living in the street, of the walking "
       "distance to the nearest open facility of the kind (full or not); June, December and "
       "the last month only, NaN in other months, where no child is of the kind's age or no "
       "facility of the kind is open",
       true},
  };
}
}  // namespace io

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
  std::vector<std::int32_t> key, at, counts;
  std::vector<Home> rows, homes;
};

}  // namespace

bool is_access_month(const Scenario& sc, int month) {
  const int m = sc.start.plus(month).month;
  return m == 6 || m == 12 || month == sc.n_months() - 1;
}

std::vector<std::uint8_t> available_facilities(const Scenario& sc, const State& st) {
  const Facilities& F = sc.facilities;
  const Children& c = st.children;
  // Places taken, counted per block of rows in parallel and added up (integer counts).
  std::vector<std::int32_t> enrolled(F.size(), 0);
  std::vector<std::vector<std::int32_t>> parts(par::n_blocks(),
                                               std::vector<std::int32_t>(F.size(), 0));
  par::for_blocks(c.size(), parts.size(), [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int32_t* k = parts[b].data();
    for (std::size_t i = begin; i < end; ++i) {
      if (!c.present[i]) continue;
      if (c.nursery[i] >= 0) k[c.nursery[i]] += 1;
      if (c.kindergarten[i] >= 0) k[c.kindergarten[i]] += 1;
    }
  });
  par::add_counts(parts, enrolled.data());
  std::vector<std::uint8_t> out(F.size(), 0);
  for (std::size_t f = 0; f < F.size(); ++f) {
    const std::int32_t cap = F.capacity(f, st.month);
    const Service s = F.service_of(f);
    const bool counts_places = s == Service::nursery || s == Service::kindergarten;
    out[f] = counts_places ? enrolled[f] < cap : cap > 0;
  }
  return out;
}

std::vector<KindAccess> compute_access(const ServiceContext& cx, const State& st,
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
  // The sort runs in parallel over blocks of rows and is the serial sort's to the element:
  // each block counts its rows' keys; then, key by key, each block's rows start after those
  // of the blocks before it (rows of a key stay in row order, since blocks are runs of rows
  // in increasing order); only the prefix sum over the keys' totals is serial.
  constexpr int n_years = 19;  // 0..17, and 18 for none (children are under 18)
  const std::size_t ncell = static_cast<std::size_t>(g.nx * g.ny);
  const std::size_t n_keys = (ncell + 1) * n_years;
  const std::size_t n_rows = c.size();
  // Blocks of the sort: each adds a pass over the keys (zeroed, then offset), which costs far
  // less per key than a row (a random read of its household), so blocks are limited to 4 per
  // key's worth of rows (a city-wide grid has many keys and few rows per key); one block is the
  // serial sort.
  const std::size_t nb = std::clamp<std::size_t>(4 * n_rows / n_keys, 1, par::n_blocks());
  // Scratch memory kept between calls, so that a call does not fault in megabytes of fresh
  // pages; it carries nothing from one call to the next.
  SortScratch& scratch = st.kept.get<SortScratch>();
  std::vector<std::int32_t>& key = scratch.key;
  std::vector<Home>& rows = scratch.rows;  // in row order: each child's household is read once
  std::vector<std::int32_t>& counts = scratch.counts;  // per block and key: rows, then offsets
  key.resize(n_rows);
  rows.resize(n_rows);
  counts.resize(nb * n_keys);
  // Each child's household as its HomeRow (services.hpp): one memory access, not three.
  std::vector<HomeRow> own_homes;
  const HomeRow* home = homes_for(cx, st, own_homes);
  const std::size_t n_homes = h.size();
  par::for_blocks(n_rows, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int32_t* count = &counts[b * n_keys];
    std::fill(count, count + n_keys, 0);
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
      count[key[i]] += 1;
      rows[i] = {x, y, age, o.street};
    }
  });
  std::vector<std::int32_t>& at = scratch.at;  // totals, then starts, per key
  at.resize(n_keys + 1);
  at[0] = 0;
  par::for_blocks(n_keys, nb, [&](std::size_t, std::size_t k_begin, std::size_t k_end) {
    for (std::size_t k = k_begin; k < k_end; ++k) {
      std::int32_t before = 0;  // the key's rows in the blocks before
      for (std::size_t b = 0; b < nb; ++b) {
        std::int32_t& n = counts[b * n_keys + k];
        const std::int32_t here = n;
        n = before;
        before += here;
      }
      at[k + 1] = before;
    }
  });
  for (std::size_t k = 1; k < at.size(); ++k) at[k] += at[k - 1];
  std::vector<Home>& homes = scratch.homes;
  homes.resize(static_cast<std::size_t>(at.back()));
  par::for_blocks(n_rows, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int32_t* next = &counts[b * n_keys];  // the block's next row of each key, after at[key]
    for (std::size_t i = begin; i < end; ++i) {
      if (key[i] < 0) continue;
      const auto k = static_cast<std::size_t>(key[i]);
      homes[static_cast<std::size_t>(at[k] + next[k]++)] = rows[i];
    }
  });

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

void step_access(const ServiceContext& cx, State& st, io::Recorder& rec) {
  const Scenario& sc = cx.scenario;
  const std::size_t nk = sc.facilities.kinds.size(), ns = sc.base.streets.size();
  double* share = rec.real_block("access_within_walk", st.replicate, st.month);
  double* nearest = rec.real_block("access_nearest_walk_m", st.replicate, st.month);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::fill(share, share + ns * nk, nan);
  std::fill(nearest, nearest + ns * nk, nan);
  if (!is_access_month(sc, st.month)) return;
  const auto access =
      compute_access(cx, st, available_facilities(sc, st), std::vector<std::uint8_t>(nk, 1));
  for (std::size_t k = 0; k < nk; ++k) {
    const KindAccess& a = access[k];
    for (std::size_t s = 0; s < ns; ++s) {
      if (a.children[s] > 0) share[s * nk + k] = static_cast<double>(a.within[s]) / a.children[s];
      if (a.reached[s] > 0) nearest[s * nk + k] = a.nearest_sum_m[s] / a.reached[s];
    }
  }
}

}  // namespace childsim
