// state: the agents of one replicate, stored as structures of arrays.
//
// Storage rules (read before changing a process):
// - One std::vector per attribute; row i of every vector of a table is the same agent.
// - Rows are kept in creation order and that order is identical for every thread count:
//   agents are only created in serial code, in a fixed order (street, then arrival number;
//   mother's row for newborns).
// - Processes never erase rows while looping. They clear `present`; `compact()` at the end of
//   each year removes those rows with a stable erase, so order is preserved, and rewrites
//   `Children::household` to the households' new row numbers.
// - A parallel loop may write only to the row it owns (or to per-row scratch arrays) and may
//   read anything. Counts shared between rows are added up afterwards, in serial code or with
//   integer reductions (integer sums do not depend on order).
#pragma once

#include "sim/core/kept_scratch.hpp"  // KeptScratch

#include <algorithm>  // std::max, std::min
#include <cstdint>    // fixed-width integers
#include <limits>     // std::numeric_limits
#include <vector>     // std::vector

namespace childsim {

/// Family households: a woman of reproductive age (or a mother) and the children with her.
struct Households {
  std::vector<std::uint64_t> id;
  std::vector<std::int16_t> street;
  std::vector<float> x_m, y_m;                   ///< home on the local plane
  std::vector<std::int32_t> mother_birth_month;  ///< model month index (negative: before start)
  std::vector<std::uint8_t> has_mother;          ///< 0 once the mother has died
  std::vector<std::uint8_t> partnered;           ///< a partner lives in the household
  std::vector<std::uint8_t> mother_works;
  std::vector<std::uint8_t> partner_works;
  std::vector<std::uint8_t> grandparent_care;  ///< a grandparent can give regular childcare
  std::vector<std::uint8_t> income_band;       ///< 0 low, 1 middle, 2 high
  std::vector<std::uint8_t> hukou_local;       ///< Shanghai hukou
  std::vector<float> taste;                    ///< family's taste for formal care, N(0, 1)
  std::vector<std::uint16_t> n_children;       ///< children present
  /// Children the woman has borne (all ages, also those who left or grew up), saturating at
  /// 255; sets the order of her next birth (births.hpp).
  std::vector<std::uint8_t> parity;
  /// Model month of her last delivery (no_birth_month when none is known).
  std::vector<std::int32_t> last_birth_month;
  std::vector<std::uint8_t> present;  ///< cleared when the household leaves

  std::size_t size() const { return id.size(); }
};

/// last_birth_month of a woman with no known birth.
constexpr std::int32_t no_birth_month = -1000000;

/// Birth orders reported by births_by_parity: first, second, third and later.
constexpr int n_parity_classes = 3;

/// Children aged 0..17.
struct Children {
  std::vector<std::uint64_t> id;
  std::vector<std::int32_t> household;    ///< row in Households
  std::vector<std::int32_t> birth_month;  ///< model month index of birth
  std::vector<std::uint8_t> sex;          ///< 0 girl, 1 boy
  std::vector<std::uint8_t> present;      ///< cleared on death, leaving, or turning 18
  // Services (facility indices into Facilities, -1 for none). A child is in exactly one
  // nursery state: enrolled (nursery ≥ 0), waiting (waiting ≥ 0), or neither.
  std::vector<std::int32_t> nursery;        ///< full-day nursery place held
  std::vector<std::int32_t> nursery_since;  ///< month the place was taken
  std::vector<std::int32_t> waiting;        ///< nursery whose waiting list the child is on
  std::vector<std::int32_t> waiting_since;  ///< month the child joined it
  std::vector<std::int32_t> kindergarten;   ///< kindergarten place held
  std::vector<std::int32_t> kindergarten_since;
  std::vector<std::int32_t> babyroom_year;  ///< calendar year of the last baby-room session, or -1

  std::size_t size() const { return id.size(); }
};

/// Calls f(the same column of each table) for every per-row array of Children: f(a.id, b.id),
/// f(a.household, b.household), … The one list of the columns, for the code that must treat
/// them all alike (compaction, the services' spin-up copy): a new column is added here.
template <class F, class... Tables>
void for_each_column(F&& f, Tables&... t) {
  f(t.id...);
  f(t.household...);
  f(t.birth_month...);
  f(t.sex...);
  f(t.present...);
  f(t.nursery...);
  f(t.nursery_since...);
  f(t.waiting...);
  f(t.waiting_since...);
  f(t.kindergarten...);
  f(t.kindergarten_since...);
  f(t.babyroom_year...);
}

/// The same for every per-row array of Households (compaction, reserving the tables).
template <class F, class... Tables>
void for_each_household_column(F&& f, Tables&... t) {
  f(t.id...);
  f(t.street...);
  f(t.x_m...);
  f(t.y_m...);
  f(t.mother_birth_month...);
  f(t.has_mother...);
  f(t.partnered...);
  f(t.mother_works...);
  f(t.partner_works...);
  f(t.grandparent_care...);
  f(t.income_band...);
  f(t.hukou_local...);
  f(t.taste...);
  f(t.n_children...);
  f(t.parity...);
  f(t.last_birth_month...);
  f(t.present...);
}

/// Sexes of residents (children's `sex` uses the same codes).
constexpr int female = 0, male = 1, n_sexes = 2;

/// Five-year age groups of residents: 0–4, 5–9, …, 80–84, 85+.
constexpr int n_age_groups = 18;
inline int age_group(int age_years) {
  return age_years >= 5 * (n_age_groups - 1) ? n_age_groups - 1 : age_years / 5;
}

/// Demographic flows of one month by street. The first arrays count children only (the
/// outputs of the same names); the `resident_*`, `migrants_*` and `movers_*` arrays count every
/// resident (children, the women of the household tables and the resident counts) by
/// [(street × n_sexes + sex) × n_age_groups + age group], the age taken at this month.
struct MonthFlows {
  std::vector<std::int32_t> births, deaths, moves_in, moves_out, aged_out;
  std::vector<std::int32_t> births_by_parity;  ///< [street × n_parity_classes], by birth order
  std::int32_t partnerships = 0;               ///< single women who formed a couple
  std::vector<std::int32_t> resident_births, resident_deaths;
  /// Residents arriving from / leaving to outside the district (migration, new housing).
  std::vector<std::int32_t> migrants_in, migrants_out;
  /// Residents moving into / out of the street from / to another street of the district.
  std::vector<std::int32_t> movers_in, movers_out;
  explicit MonthFlows(int n_streets = 0)
      : births(n_streets),
        deaths(n_streets),
        moves_in(n_streets),
        moves_out(n_streets),
        aged_out(n_streets),
        births_by_parity(static_cast<std::size_t>(n_streets) * n_parity_classes),
        resident_births(cells(n_streets)),
        resident_deaths(cells(n_streets)),
        migrants_in(cells(n_streets)),
        migrants_out(cells(n_streets)),
        movers_in(cells(n_streets)),
        movers_out(cells(n_streets)) {}
  /// Add every count of `other` (same streets) to these: flows counted apart (by a step run
  /// beside others, parallel.hpp: par::Beside) and merged (integers: in any order).
  void add(const MonthFlows& other) {
    add_array(other.births, births);
    add_array(other.deaths, deaths);
    add_array(other.moves_in, moves_in);
    add_array(other.moves_out, moves_out);
    add_array(other.aged_out, aged_out);
    add_array(other.births_by_parity, births_by_parity);
    partnerships += other.partnerships;
    add_array(other.resident_births, resident_births);
    add_array(other.resident_deaths, resident_deaths);
    add_array(other.migrants_in, migrants_in);
    add_array(other.migrants_out, migrants_out);
    add_array(other.movers_in, movers_in);
    add_array(other.movers_out, movers_out);
  }
  /// Add the counts of `from` to those of `to` (the same length).
  static void add_array(const std::vector<std::int32_t>& from, std::vector<std::int32_t>& to) {
    for (std::size_t k = 0; k < from.size(); ++k) to[k] += from[k];
  }
  /// Add `n` persons of `street`, `sex` and age `age_years` to one of those arrays.
  static void add(std::vector<std::int32_t>& v, int street, int sex, int age_years,
                  std::int32_t n = 1) {
    v[static_cast<std::size_t>((street * n_sexes + sex) * n_age_groups + age_group(age_years))] +=
        n;
  }

 private:
  static std::size_t cells(int n_streets) {
    return static_cast<std::size_t>(n_streets) * n_sexes * n_age_groups;
  }
};

/// Residents who are not agents — men aged 18 and over, women aged 50 and over who have no
/// child at home (and the women 49 whose household has just retired) — as exact counts by
/// street, sex and birth month (docs/model.md, "Entities"). A cohort's age is the month minus
/// its birth month, so ageing costs nothing; deaths and moves take whole persons out of a
/// cell, arrivals and people leaving the agent tables put them in.
struct ResidentCounts {
  int n_streets = 0;
  int first_birth_month = 0;  ///< birth month of cohort index 0 (the oldest possible)
  int n_cohorts = 0;
  std::vector<std::int32_t> n;  ///< [(street × n_sexes + sex) × n_cohorts + cohort]

  /// The count of (street, sex) born in `birth_month` (which must lie in the table).
  std::int32_t& at(int street, int sex, int birth_month) {
    return n[index(street, sex, birth_month)];
  }
  std::int32_t at(int street, int sex, int birth_month) const {
    return n[index(street, sex, birth_month)];
  }
  std::size_t index(int street, int sex, int birth_month) const {
    return static_cast<std::size_t>((street * n_sexes + sex) * n_cohorts + birth_month -
                                    first_birth_month);
  }
  /// Persons counted in `street` (all sexes and ages).
  std::int64_t street_total(int street) const;
};

/// Σ n[k] over the cohorts k < len whose age in months at `month` lies in [lo, hi), cohort k
/// being born in month first + k (the later the birth, the higher k): a run of one row of a
/// table by birth month (ResidentCounts, AgentCensus), e.g. a street's children of an age.
/// (Inline: the services' steps use it, and the fuzz targets link the services without the
/// model's sources, tests/fuzz/CMakeLists.txt.)
inline std::int32_t sum_of_ages(const std::int32_t* n, int first, int len, int month, int lo,
                                int hi) {
  // age = month − first − k in [lo, hi)  ⇔  k in (month − first − hi, month − first − lo].
  const int newest = month - first;
  const int k_begin = std::max(0, newest - hi + 1), k_end = std::min(len, newest - lo + 1);
  std::int32_t sum = 0;
  for (int k = k_begin; k < k_end; ++k) sum += n[k];
  return sum;
}

/// The agents counted by street, sex and birth month: present children, and the women of
/// present households (has_mother). Kept at every event that adds, removes or moves an agent
/// (add_household, add_child, age_out, child_deaths, move_households, retire_households), so
/// the month's census of the outputs (model.cpp, record_month) sums runs of birth months, a
/// few thousand cells, instead of reading every row of the tables (it was ~10 % of a
/// replicate, waiting on memory); so do the services' counts of children of an age by street
/// (the clinics' demand, the nursery's and kindergarten's eligible children: services.hpp,
/// add_children_by_street), which no service step changes. The women are also counted by parity and
/// partnership, with a list of those who delivered recently, for the births' renormalisation
/// (births.cpp), which read every household row each month. Enabled by build_initial_state (a full
/// count of its rows); a state built by hand leaves it empty, the events do not count, and the
/// census and the births' counts read the rows.
struct AgentCensus {
  int first_birth_month = 0;           ///< birth month of index 0 (that of ResidentCounts)
  int n_birth_months = 0;              ///< birth months held; 0: not kept
  std::vector<std::int32_t> children;  ///< [(street × n_sexes + sex) × n_birth_months + b − first]
  std::vector<std::int32_t> women;     ///< [street × n_birth_months + b − first]
  /// The same women, the whole district, by birth month, parity class (0, 1, 2+) and
  /// partnership: [(b − first) × 6 + parity class × 2 + partnered].
  std::vector<std::int32_t> women_by_parity;
  /// Household rows whose woman may be within the minimum birth interval since her last
  /// delivery (each row once): every row that delivered (or arrived with a past birth) since
  /// the last pruning (births.hpp, prune_recent_deliveries), which drops the rows that are at
  /// risk again or no longer counted. Renumbered by compact().
  std::vector<std::uint32_t> recent_deliveries;

  bool enabled() const { return n_birth_months > 0; }
  /// Add `n` (negative: remove) children of `street`, `sex` born in `birth_month`; nothing
  /// when the census is not kept (so the events need not ask).
  void add_child(int street, int sex, int birth_month, std::int32_t n) {
    if (!enabled()) return;
    children[index(street * n_sexes + sex, birth_month)] += n;
  }
  /// Add (n = 1) or remove (n = −1) the woman of household row `i` as the row is now (street,
  /// birth month, parity, partnership); a present row with a mother. Nothing when not kept.
  void add_woman(const Households& h, std::size_t i, std::int32_t n) {
    add_woman(h.street[i], h.mother_birth_month[i], h.parity[i], h.partnered[i] != 0, n);
  }
  /// The same for a woman given by her values (street, birth month, parity, partnership).
  void add_woman(int street, int birth_month, int parity, bool partnered, std::int32_t n) {
    if (!enabled()) return;
    women[index(street, birth_month)] += n;
    const int p = parity < 2 ? parity : 2;
    women_by_parity[index(0, birth_month) * 6 +
                    static_cast<std::size_t>(p * 2 + (partnered ? 1 : 0))] += n;
  }

 private:
  std::size_t index(int row, int birth_month) const;
};

/// What the services read of a family household, packed in 16 bytes, so that a child's
/// household costs one memory access: the household table keeps one array per attribute
/// (Households, above), and the street, home, work, hukou, grandparent care, income and taste of a
/// child's household were up to ten scattered reads per child and pass. Copied from the
/// household table (which the services never change): kept with the state (HomeRows) and
/// brought up to date once a month by step_services, and made once for the whole spin-up;
/// values are the same as the table's.
struct HomeRow {
  /// Leaves the fields unset (make_homes sets every one): a vector's resize would otherwise
  /// zero the new rows on the calling thread before make_homes' parallel loop writes them,
  /// touching each fresh page twice, once serially.
  HomeRow() {}     // NOLINT(modernize-use-equals-default): `= default` would zero them
  float x_m, y_m;  ///< home on the local plane (Households::x_m, y_m)
  float taste;     ///< Households::taste
  std::int16_t street;
  std::uint8_t income_band;
  std::uint8_t traits;  ///< bit 0: all parents work; 1: Shanghai hukou; 2: grandparent care
  bool all_parents_work() const { return (traits & 1u) != 0; }
  bool hukou_local() const { return (traits & 2u) != 0; }
  bool grandparent_care() const { return (traits & 4u) != 0; }
};

/// The household table as the services read it, one HomeRow per row, kept with the state
/// from month to month (services.hpp: update_homes), and compacted with the table. Made whole
/// the first time, and whenever it was not brought up to date the month before or the
/// demography has not listed this month's changes (a state stepped by hand); otherwise only
/// the rows the month's household events touched and the new rows are made again. Making all
/// rows every month (170,000, of which a few thousand change) was 9 % of a 1-thread replicate
/// (perf, docs/performance.md). A process that changes one of the values a HomeRow copies
/// elsewhere must list its rows in `changed`: the test "services, the households' rows kept
/// from month to month equal rows made afresh" compares every row in every month.
struct HomeRows {
  std::vector<HomeRow> rows;
  /// Rows in which the demography of month `listed_month` may have changed a value a HomeRow
  /// copies (street and home, partnership, the mother's presence): every household row where
  /// a couple formed, the mother died or the family moved that month (demography.cpp:
  /// step_demography); rows may repeat.
  std::vector<std::uint32_t> changed;
  /// made_month when `rows` was never made, or is stale.
  static constexpr int never = std::numeric_limits<int>::min();
  int listed_month = -1;  ///< the month whose changes `changed` lists; −1: none
  /// The month `rows` was last brought up to date; −1: before the first month (the services'
  /// spin-up made it, services/warm_start.hpp); `never`: never, or stale.
  int made_month = never;
  bool made_whole = true;  ///< whether the last update made every row (tests)
};

/// Everything about one replicate that changes over time.
struct State {
  int replicate = 0;
  int month = 0;  ///< model month index being simulated
  Households households;
  Children children;
  ResidentCounts residents;  ///< residents who are not agents (counts)
  AgentCensus census;        ///< the agents by street, sex and birth month
  HomeRows homes;            ///< the households as the services read them
  /// Buffers the monthly steps keep from month to month (kept_scratch.hpp): memory, not state;
  /// no result depends on them (mutable: steps that only read the state keep buffers too).
  mutable KeptScratch kept;
};

/// An empty state (as `State{}`) holding the memory of `used`: every array of `used` cleared,
/// its capacity kept; the steps' kept buffers freed (kept_scratch.hpp). An ensemble builds
/// each replicate in the memory the one before left (run_replicate's `memory`): its arrays are
/// then the same blocks of malloc's heap, not new ones that might not fit among what was
/// allocated in between (writing the replicate out), and their pages are not faulted in again.
/// With the buffers freed, the next replicate's spin-up has their room. A 200-replicate
/// ensemble's peak memory is then 1.12x one replicate's, against 1.21x before
/// (docs/performance.md, "Each replicate in the memory of the last").
State recycled(State&& used);

/// Enable `state.census` and fill it from the rows of the tables, for birth months from that
/// of the resident counts' index 0 (which must be set) to `n_months` − 1.
void start_census(State& state, int n_months);

/// Apply `change` (a change of street, parity or partnership) to the present household row
/// `i`, whose woman is alive, keeping `state.census`: she is taken out before and counted
/// again after.
template <class Change>
void change_woman(State& state, std::size_t i, Change&& change) {
  const bool kept = state.census.enabled();
  if (kept) state.census.add_woman(state.households, i, -1);
  change();
  if (kept) state.census.add_woman(state.households, i, 1);
}

/// Remove rows whose `present` flag is clear (stable), re-pointing children to households.
void compact(State& state);

}  // namespace childsim
