// services: the child-service submodels, called once a month after demography, in a fixed
// order (docs/model.md, "Process overview"):
//   1. kindergarten  September intake and monthly placement of 3–5-year-olds; leaving for
//                    primary school (a kindergarten place ends a nursery place);
//   2. nursery       full-day care for children of nursery age: who wants it, where, waiting
//                    lists served in priority order, displacement when capacity falls;
//   3. baby rooms    short sessions for children under 3 not in full-day care;
//   4. holiday       summer and winter classes for primary pupils whose parents work;
//   5. clinic        paediatric visits, choice of provider, capacity, waiting and diversion;
//   6. access        the 15-minute walk and the distances of those served.
// Annual indicators are computed after the last month of each year.
#pragma once

#include "sim/core/parallel.hpp"            // par::for_blocks (NearbyFacilities)
#include "sim/core/philox_batch.hpp"        // FirstBlocks
#include "sim/io/recorder.hpp"              // Recorder
#include "sim/model/state.hpp"              // State
#include "sim/scenario/scenario.hpp"        // Scenario
#include "sim/services/service_params.hpp"  // ServiceParams

#include <algorithm>  // std::sort, std::merge
#include <limits>     // std::numeric_limits

namespace childsim {

/// What the service submodels read: the scenario (facilities, capacity schedules) and their
/// parameters.
struct ServiceContext {
  const Scenario& scenario;
  const ServiceParams& params;
  /// Added to the month of the monthly random streams: −N in the warm start's spin-up
  /// (warm_start.hpp), whose month m is month m − N of the run; 0 in the run.
  int rng_month_shift = 0;
  /// Whether the nursery's first month stands for the allocation that exists before it
  /// (families whose choice is full settle where there is room): in a cold start, and in the
  /// first month of a warm start's spin-up.
  bool settle_first_month = true;
  /// Whether the passes that only record run: false in the warm start's spin-up, whose records
  /// are thrown away (the kindergarten's and nursery's end-of-month counts are skipped; what
  /// the steps record while they change the state still goes to the recorder).
  bool record = true;
  /// The households of the state as HomeRows (n_homes of them), when the caller made them for
  /// this month (step_services, the spin-up); null: each step makes its own (homes_for).
  const HomeRow* homes = nullptr;
  std::size_t n_homes = 0;
  /// The rows of the young children (young_rows), in row order, when the caller listed them
  /// for this month (step_services); null: the steps run over every row.
  const std::vector<std::uint32_t>* young = nullptr;
  /// The rows of the children of holiday-class age (pupil_rows), likewise.
  const std::vector<std::uint32_t>* pupils = nullptr;
};

/// The rows a pass runs over: a list of rows in increasing order, or every row [0, n). Passes
/// split it into par::for_chunks chunks of the list (fixed, whatever the thread count), so
/// lists kept per chunk and concatenated are in row order as with every row.
struct RowSet {
  const std::uint32_t* list = nullptr;  ///< null: row k is k
  std::size_t n = 0;
  std::size_t size() const { return n; }
  std::size_t operator[](std::size_t k) const { return list != nullptr ? list[k] : k; }
};

void step_kindergarten(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_nursery(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_babyroom(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_holiday(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_clinic(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_access(const ServiceContext& cx, State& st, io::Recorder& rec);
/// After December (or the last month): the year's indicators.
void record_indicators(const ServiceContext& cx, const State& st, io::Recorder& rec);
/// Capacities and running costs (the same in every replicate; recorded once).
void record_facilities(const Scenario& sc, io::Recorder& rec);

/// All of the above for one month, in order.
void step_services(const ServiceContext& cx, State& st, io::Recorder& rec);

// Helpers shared by the submodels.

/// Every parent present in the household works (mother if present, partner if any). Inline:
/// the services ask it per child in their monthly passes.
inline bool all_parents_work(const Households& h, std::size_t row) {
  const bool mother_ok = !h.has_mother[row] || h.mother_works[row];
  const bool partner_ok = !h.partnered[row] || h.partner_works[row];
  return (h.has_mother[row] || h.partnered[row]) && mother_ok && partner_ok;
}

/// The children of an age that the kindergarten, nursery and baby-room steps can concern this
/// month: present, and younger than `oldest` months or holding a place or a waiting-list entry
/// (every other child is passed over by each of their passes). Appended to `out` in row
/// order; and, appended to `pupils`, the children of holiday-class age (age at the last 1
/// September, the model month `september`, from holiday_min_age to holiday_max_age).
void list_young(const Children& c, int month, int oldest, int september,
                std::vector<std::uint32_t>& young, std::vector<std::uint32_t>& pupils);
/// The oldest age in months (exclusive) that young_rows must keep for these facilities: a
/// kindergarten age at the last 1 September of 5 (under 84 months; 96 for a margin), and the
/// oldest age a nursery or baby-room kind admits.
int young_age_limit(const Facilities& F);
/// cx.young when set, else every row of st.children.
RowSet young_rows(const ServiceContext& cx, const State& st);
/// cx.pupils when set, else every row of st.children.
RowSet pupil_rows(const ServiceContext& cx, const State& st);

/// Adds to out[s], for each street s, the present children of s (their household's street)
/// whose age in months at month `month`, month − birth month, lies in [from, until): from the
/// agent census (state.hpp), which must be kept. A few thousand cells rather than a pass over
/// the rows that reads each child's household at random: the steps' counts of children of an
/// age by street (the nursery's and kindergarten's eligible children) come from here when the
/// census is kept, and from their passes over the rows in a state built by hand.
void add_children_by_street(const AgentCensus& census, int month, int from, int until,
                            std::int32_t* out);

/// The HomeRow of every household, in out[0, h.size()) (in parallel over rows). `out` grows
/// when it is too short and never shrinks, so that a buffer kept from month to month is not
/// faulted in and cleared again each month.
void make_homes(const Households& h, std::vector<HomeRow>& out);
/// The HomeRow of household row i.
HomeRow home_row(const Households& h, std::size_t i);
/// Brings st.homes up to date with st.households for month st.month (state.hpp: HomeRows):
/// made whole (make_homes) unless it was brought up to date last month (compaction compacts
/// it with the table) and the demography has listed this month's changed rows; then only
/// those rows and the rows added since are made again.
void update_homes(State& st);
/// cx.homes when set for this state's households, else make_homes(st.households) into `own`.
const HomeRow* homes_for(const ServiceContext& cx, const State& st, std::vector<HomeRow>& own);

/// Runs fn(i), in row order, for the rows i of [begin, end) with keep(i), calling fetch(i)
/// (a prefetch of what fn will read, e.g. the child's HomeRow) `Ahead` kept rows before fn(i),
/// so that the fetches of several rows overlap instead of each row waiting for its own: a
/// month's pass takes the children in row order, their households in no particular order. keep(i)
/// must read only what no fn(j) of an earlier row j changes (in the services: row i's own fields);
/// then the calls are those of the plain loop `for i: if (keep(i)) fn(i)`, in the same order.
/// The rows are rows[k] for k in [begin, end) (the overload without `rows`: the rows
/// [begin, end)).
template <std::size_t Ahead = 32, class Keep, class Fetch, class Fn>
void for_rows_fetched_ahead(const RowSet& rows, std::size_t begin, std::size_t end, Keep&& keep,
                            Fetch&& fetch, Fn&& fn) {
  std::size_t ring[Ahead];
  std::size_t head = 0, count = 0;
  for (std::size_t k = begin; k < end; ++k) {
    const std::size_t i = rows[k];
    if (!keep(i)) continue;
    fetch(i);
    if (count < Ahead) {
      ring[(head + count++) % Ahead] = i;
      continue;
    }
    fn(ring[head]);
    ring[head] = i;
    head = (head + 1) % Ahead;
  }
  for (std::size_t k = 0; k < count; ++k) fn(ring[(head + k) % Ahead]);
}
template <std::size_t Ahead = 32, class Keep, class Fetch, class Fn>
void for_rows_fetched_ahead(std::size_t begin, std::size_t end, Keep&& keep, Fetch&& fetch,
                            Fn&& fn) {
  for_rows_fetched_ahead<Ahead>(RowSet{nullptr, end}, begin, end, keep, fetch, fn);
}

/// Runs fn(i, words, g), in order, for the rows i = rows[k] of k in [begin, end) with keep(i),
/// where words.word(g, j) is word j of the first block of Stream(seed, replicate, c.id[i],
/// month, purpose) — the (j + 1)-th value that Stream would return — and words.uniform(g, j)
/// its uniform(): the blocks of up to FirstBlocks::capacity kept rows are computed together
/// (philox_batch.hpp: the same words to the bit, with SIMD; one Stream at a time costs a chain
/// of ten rounds of multiplications per child). fetch(i, words, g) is called for every kept
/// row of a group before fn is called for the first of them (e.g. a prefetch of the HomeRow
/// of the rows that fn will read it for, so that their fetches overlap). keep(i) must read
/// only what no fn(j) of an earlier row j changes (row i's own fields); then the calls of fn
/// are those of `for i: if (keep(i)) fn(i)` with each child's own Stream, in the same order.
/// keep(i) is called for every row and should be free of branches (`&` and `|` of comparisons):
/// kept rows are mixed with the others in no order a branch predictor learns, and each row is
/// written to the group, which advances only for a kept row (branch_free.hpp).
template <class Keep, class Fetch, class Fn>
void for_rows_with_first_words(const RowSet& rows, std::size_t begin, std::size_t end,
                               const Children& c, std::uint64_t seed, std::uint32_t replicate,
                               std::uint32_t month, Purpose purpose, Keep&& keep, Fetch&& fetch,
                               Fn&& fn) {
  constexpr std::size_t cap = FirstBlocks::capacity;
  std::size_t group[cap];
  std::uint64_t ids[cap];
  FirstBlocks words;
  std::size_t k = begin;
  while (k < end) {
    std::size_t m = 0;
    for (; k < end && m < cap; ++k) {
      const std::size_t i = rows[k];
      group[m] = i;
      ids[m] = c.id[i];
      m += keep(i) ? 1 : 0;
    }
    if (m == 0) break;
    words.fill(seed, replicate, ids, m, month, purpose);
    for (std::size_t g = 0; g < m; ++g) fetch(group[g], words, g);
    for (std::size_t g = 0; g < m; ++g) fn(group[g], words, g);
  }
}

/// Appends the lists kept per chunk (`parts`, emptied) to `out` and sorts the whole of `out`
/// with operator<, as `par::concatenate(parts, out); std::sort(out)` does, to the same order
/// when no two elements are equivalent (e.g. ordered by key, then row: the sorted order is then
/// the only one). Long lists (the September intake, the holiday sessions) are sorted list by
/// list in parallel and then merged pairwise, the merges of a round in parallel, so that the
/// main thread's share is about one merge instead of the whole sort.
template <class T>
void sort_concatenated(std::vector<std::vector<T>>& parts, std::vector<T>& out) {
  std::size_t total = out.size();
  for (const auto& p : parts) total += p.size();
  if (total < 1024 || par::n_threads() <= 1) {  // a thread pool call costs more than it saves
    par::concatenate(parts, out);
    std::sort(out.begin(), out.end());
    return;
  }
  std::vector<std::vector<T>> runs;
  if (!out.empty()) runs.push_back(std::move(out));
  for (auto& p : parts)
    if (!p.empty()) runs.push_back(std::move(p));
  par::for_each_unit(runs.size(),
                     [&](std::size_t k) { std::sort(runs[k].begin(), runs[k].end()); });
  while (runs.size() > 1) {
    std::vector<std::vector<T>> next((runs.size() + 1) / 2);
    par::for_each_unit(next.size(), [&](std::size_t k) {
      if (2 * k + 1 == runs.size()) {
        next[k] = std::move(runs[2 * k]);
        return;
      }
      const std::vector<T>&a = runs[2 * k], &b = runs[2 * k + 1];
      next[k].resize(a.size() + b.size());
      std::merge(a.begin(), a.end(), b.begin(), b.end(), next[k].begin());
    });
    runs = std::move(next);
  }
  out = std::move(runs.front());
}

/// The facilities within walking reach of each of n seekers, with their walking distances,
/// computed in parallel over blocks of seekers, so that an allocation in priority order
/// (serial: each seeker takes the nearest facility with a place left by those before it) only
/// compares stored distances instead of computing a square root per seeker and facility on
/// the main thread. Seeker k's candidates are the facilities f of its list (list_of(k): a
/// vector of facility numbers, in its order; null: none) whose walk P.walk_m(home_of(k),
/// where(f)) is at most max_m, kept in the list's order; nearest() scans them as the plain
/// scan of the list would (ties to the facility listed first, the distances to the bit), so
/// an allocation made with it is the plain one. A list should leave out what has no place
/// when the allocation starts (places are only taken during it): fewer distances.
class NearbyFacilities {
 public:
  template <class ListOf, class HomeOf, class Where>
  void compute(std::size_t n, ListOf&& list_of, HomeOf&& home_of, Where&& where,
               const ServiceParams& P, double max_m) {
    span_.resize(n);
    const std::size_t nb = par::n_blocks();
    entries_.resize(nb);
    par::for_blocks(n, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
      std::vector<Entry>& e = entries_[b];
      e.clear();
      for (std::size_t k = begin; k < end; ++k) {
        const std::vector<int>* list = list_of(k);
        const auto first = static_cast<std::uint32_t>(e.size());
        std::uint32_t nearest = none;  // the first of the nearest candidates
        if (list != nullptr) {
          const auto [x, y] = home_of(k);
          double nearest_d = std::numeric_limits<double>::infinity();
          for (const int f : *list) {
            const auto [fx, fy] = where(f);
            const double d = P.walk_m(x, y, fx, fy);
            if (!(d <= max_m)) continue;  // (NaN too, as the plain scan)
            if (d < nearest_d) {
              nearest_d = d;
              nearest = static_cast<std::uint32_t>(e.size()) - first;
            }
            e.push_back({d, f});
          }
        }
        span_[k] = {static_cast<std::uint32_t>(b), first,
                    static_cast<std::uint32_t>(e.size()) - first, nearest};
      }
    });
  }
  /// The nearest candidate f of seeker k with has_room(f) (the first listed of equally near
  /// ones), with its distance in `d`; -1 when none.
  template <class HasRoom>
  int nearest(std::size_t k, HasRoom&& has_room, double& d) const {
    const Span s = span_[k];
    const Entry* e = entries_[s.block].data() + s.begin;
    // The nearest of all, when it has room, is the nearest with room (the first listed of
    // equally near ones, as in the scan): most seekers stop here while places are left.
    if (s.nearest != none && has_room(e[s.nearest].f)) {
      d = e[s.nearest].d;
      return e[s.nearest].f;
    }
    int best = -1;
    double best_d = std::numeric_limits<double>::infinity();
    for (std::uint32_t j = 0; j < s.count; ++j)
      if (e[j].d < best_d && has_room(e[j].f)) {
        best = e[j].f;
        best_d = e[j].d;
      }
    d = best_d;
    return best;
  }

 private:
  struct Entry {
    double d;
    std::int32_t f;
  };
  static constexpr std::uint32_t none = 0xffffffffu;  // no candidate nearer than infinity
  struct Span {
    std::uint32_t block, begin, count, nearest;
  };
  std::vector<Span> span_;
  std::vector<std::vector<Entry>> entries_;  // per block
};

/// Where a facility's capacity in `month` is below `enrolled[f]`, the most recently enrolled
/// holders (latest `since`, then a fixed hash of the id) lose their place (`place` = -1)
/// until enrolment equals capacity. Returns the rows of the children displaced.
std::vector<std::size_t> displace_latest(const Facilities& F, int month,
                                         const std::vector<int>& facilities, const Children& c,
                                         std::vector<std::int32_t>& place,
                                         const std::vector<std::int32_t>& since,
                                         std::vector<std::int32_t>& enrolled);

/// Age in completed years at the most recent 1 September (the school-year rule).
int age_at_last_september(int month, int birth_month, YearMonth start);

}  // namespace childsim
