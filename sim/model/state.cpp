// state: stable compaction of the agent tables.
#include "sim/model/state.hpp"

#include "sim/core/check.hpp"     // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"  // par::for_each_unit, par::for_blocks

#include <algorithm>   // std::find
#include <cstdint>     // UINT32_MAX
#include <cstring>     // std::memmove
#include <functional>  // std::function
#include <memory>      // std::unique_ptr
#include <vector>      // std::vector

namespace childsim {
namespace {
// The rows to keep as runs of consecutive rows, [from, from + n) moving to [to, to + n),
// listed once for all the arrays of a table; runs already in place (before the first removed
// row) are not listed. Most rows stay (about 95 % a year) in runs of tens to thousands of
// rows: each array is then a few thousand block moves instead of a gather row by row (which
// GCC does not vectorise for bytes), and the list is small (the list of every kept row it
// replaced was 0.7 MB of fresh pages for the households).
struct Run {
  std::uint32_t from, to, n;
};
struct KeptRuns {
  std::vector<Run> runs;
  std::size_t kept = 0;
};
KeptRuns kept_runs(const std::vector<std::uint8_t>& present) {
  KeptRuns k;
  const std::uint8_t* const p = present.data();
  const std::uint8_t* const end = p + present.size();
  const std::uint8_t* i = std::find(p, end, std::uint8_t{1});
  while (i != end) {
    const std::uint8_t* const j = std::find(i, end, std::uint8_t{0});
    const auto from = static_cast<std::size_t>(i - p), n = static_cast<std::size_t>(j - i);
    if (from != k.kept)
      k.runs.push_back({static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(k.kept),
                        static_cast<std::uint32_t>(n)});
    k.kept += n;
    i = std::find(j, end, std::uint8_t{1});
  }
  return k;
}

// In place: runs move down (to ≤ from) in increasing order, so no row is read after it was
// overwritten; memmove allows a run to overlap its new place.
template <class T>
void keep_runs(std::vector<T>& v, const KeptRuns& k) {
  T* const d = v.data();
  for (const Run& r : k.runs) std::memmove(d + r.to, d + r.from, r.n * sizeof(T));
  v.resize(k.kept);
}
}  // namespace

std::int64_t ResidentCounts::street_total(int street) const {
  std::int64_t total = 0;
  for (int sex = 0; sex < n_sexes; ++sex) {
    const auto first = static_cast<std::size_t>((street * n_sexes + sex) * n_cohorts);
    for (std::size_t k = 0; k < static_cast<std::size_t>(n_cohorts); ++k) total += n[first + k];
  }
  return total;
}

std::size_t AgentCensus::index(int row, int birth_month) const {
  const int k = birth_month - first_birth_month;
  // Events are few (hundreds a month): the check costs nothing and keeps a wrong birth month
  // from counting in a neighbouring row.
  CHILDSIM_CHECK(k >= 0 && k < n_birth_months, "a birth month outside the agent census");
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(n_birth_months) +
         static_cast<std::size_t>(k);
}

void start_census(State& s, int n_months) {
  AgentCensus& a = s.census;
  const Households& h = s.households;
  const Children& c = s.children;
  const int n_streets = s.residents.n_streets;
  a.first_birth_month = s.residents.first_birth_month;
  a.n_birth_months = n_months - a.first_birth_month;
  CHILDSIM_CHECK(a.n_birth_months > 0, "the resident counts must be made first");
  const auto n = static_cast<std::size_t>(a.n_birth_months);
  a.children.assign(static_cast<std::size_t>(n_streets) * n_sexes * n, 0);
  a.women.assign(static_cast<std::size_t>(n_streets) * n, 0);
  a.women_by_parity.assign(n * 6, 0);
  a.recent_deliveries.clear();
  // The children and the women at once (two units: they write different arrays), a serial
  // pass of the main thread at the start of every replicate.
  par::for_each_unit(2, [&](std::size_t unit) {
    if (unit == 0) {
      for (std::size_t i = 0; i < c.size(); ++i)
        if (c.present[i])
          a.add_child(h.street[static_cast<std::size_t>(c.household[i])], c.sex[i],
                      c.birth_month[i], 1);
      return;
    }
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (!h.present[i] || !h.has_mother[i]) continue;
      a.add_woman(h, i, 1);
      if (h.last_birth_month[i] != no_birth_month)
        a.recent_deliveries.push_back(static_cast<std::uint32_t>(i));  // pruned at first births
    }
  });
}

State recycled(State&& used) {
  State s;
  auto take = [](auto& to, auto& from) {
    from.clear();
    to.swap(from);
  };
  for_each_household_column(take, s.households, used.households);
  for_each_column(take, s.children, used.children);
  take(s.residents.n, used.residents.n);
  take(s.census.children, used.census.children);
  take(s.census.women, used.census.women);
  take(s.census.women_by_parity, used.census.women_by_parity);
  take(s.census.recent_deliveries, used.census.recent_deliveries);
  take(s.homes.rows, used.homes.rows);
  take(s.homes.changed, used.homes.changed);
  return s;
}

void compact(State& s) {
  Households& h = s.households;
  Children& c = s.children;
  // A household stays while it has a present child or a mother of reproductive age; the
  // caller clears `present` for households that leave or no longer matter.
  CHILDSIM_CHECK(h.size() <= UINT32_MAX && c.size() <= UINT32_MAX, "agent tables too large");
  // The serial parts of this function were ~1 % of the main thread at 2 threads: the two
  // tables' runs are found at once (two units), the households' new row numbers by a blocked
  // scan (count per block, offsets, then fill, in parallel), the children's renumbering in
  // parallel over blocks of rows (each row its own).
  KeptRuns keep_h, keep_c;
  par::for_each_unit(2, [&](std::size_t k) {
    if (k == 0) {
      keep_h = kept_runs(h.present);
    } else {
      keep_c = kept_runs(c.present);
    }
  });
  const std::size_t nh = h.size(), nb = par::n_blocks();
  const std::unique_ptr<std::int32_t[]> new_row(new std::int32_t[nh]);  // every row written
  std::vector<std::int32_t> first(nb + 1, 0);  // first new row number of each block
  par::for_blocks(nh, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int32_t n = 0;
    for (std::size_t i = begin; i < end; ++i) n += h.present[i] != 0 ? 1 : 0;
    first[b + 1] = n;
  });
  for (std::size_t b = 0; b < nb; ++b) first[b + 1] += first[b];
  par::for_blocks(nh, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int32_t next = first[b];
    for (std::size_t i = begin; i < end; ++i) new_row[i] = h.present[i] ? next++ : -1;
  });
  // Each array is compacted on its own: the arrays are shared out among the threads.
  auto h_rows = [&](auto& v) { return [&] { keep_runs(v, keep_h); }; };
  auto c_rows = [&](auto& v) { return [&] { keep_runs(v, keep_c); }; };
  std::vector<std::function<void()>> jobs;
  for_each_household_column([&](auto& v) { jobs.push_back(h_rows(v)); }, h);
  for_each_column([&](auto& v) { jobs.push_back(c_rows(v)); }, c);
  // The services' copy of the households (HomeRows), when it has a row for each, is compacted
  // as a column: it need not be made whole next month. Else it is made whole then.
  const bool homes_kept = s.homes.made_month != HomeRows::never && s.homes.rows.size() == nh;
  if (homes_kept) jobs.push_back(h_rows(s.homes.rows));
  par::for_each_unit(jobs.size(), [&](std::size_t k) { jobs[k](); });
  par::for_blocks(c.size(), nb, [&](std::size_t, std::size_t begin, std::size_t end) {
    std::int32_t* const household = c.household.data();
    for (std::size_t i = begin; i < end; ++i)
      household[i] = new_row[static_cast<std::size_t>(household[i])];  // renumbered
  });
  // The census's list of recent deliveries, renumbered (rows that go are no longer counted).
  std::vector<std::uint32_t>& recent = s.census.recent_deliveries;
  std::size_t kept = 0;
  for (const std::uint32_t i : recent)
    if (new_row[i] >= 0) recent[kept++] = static_cast<std::uint32_t>(new_row[i]);
  recent.resize(kept);
  if (!homes_kept) s.homes.made_month = HomeRows::never;  // made whole next month
}

}  // namespace childsim
