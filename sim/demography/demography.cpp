// demography: ageing out, births, deaths, moves and arrivals for one month.
#include "sim/demography/demography.hpp"

#include "sim/core/agent_ids.hpp"         // ids::
#include "sim/core/branch_free.hpp"       // append_rows_if, for_each_flagged
#include "sim/core/parallel.hpp"          // par::for_blocks
#include "sim/core/philox_batch.hpp"      // FirstBlocks, words_below, words_at_or_above
#include "sim/core/prefetch.hpp"          // prefetch_row
#include "sim/core/rng.hpp"               // Stream, Purpose
#include "sim/demography/births.hpp"      // prune_and_birth_table, at_risk_of_birth, …
#include "sim/demography/population.hpp"  // draw_household, append_child, …
#include "sim/demography/residents.hpp"   // add_resident, step_residents

#include <boost/random/poisson_distribution.hpp>  // boost::random::poisson_distribution

#include <algorithm>    // std::min, std::max
#include <memory>       // std::unique_ptr
#include <new>          // placement new
#include <type_traits>  // std::is_trivially_destructible_v
#include <vector>       // std::vector

namespace childsim {
namespace {

constexpr int child_age_limit_months = 18 * 12;  // children leave the tables at 18
constexpr int fertile_from_months = 18 * 12;
constexpr int fertile_until_months = 50 * 12;  // exclusive

enum Event : std::uint8_t {
  birth = 1,
  mother_dies = 2,
  leaves = 4,
  moves = 8,
  twins = 16,
  partners = 32
};

// A household with some event this month, the new home of one that moves, and the sexes of
// the babies of one that has a birth (drawn from their own streams in the parallel loop:
// add_births_and_couples then only appends the rows).
struct Flagged {
  std::size_t row;
  float x_m, y_m;
  std::uint8_t flags;  ///< as ev.flags[row]: the serial loops over `rows` read it in order
  std::uint8_t sex[2];
};

// By row, for the rows of `rows` only (the others are not written: no serial pass over every
// row sets them, and nothing reads them).
struct HouseholdEvents {
  std::unique_ptr<std::uint8_t[]> flags;
  std::unique_ptr<std::int16_t[]> destination;  ///< read only for rows flagged `moves`
  std::vector<Flagged> rows;                    ///< the rows with a flag, in row order
};

void age_out(State& st, const Scenario& sc, const Rates& r, MonthFlows& f) {
  Children& c = st.children;
  Households& h = st.households;
  // The rows turning 18, found in parallel and listed in row order; households are then added
  // serially in that order (rows are created in one fixed order: state.hpp).
  const std::size_t n = c.size();  // daughters' households are appended to `h`, not `c`
  const std::size_t nb = par::n_blocks();
  std::vector<std::vector<std::size_t>> parts(nb);
  // The daughters' households, drawn from their own streams in the same loop (in the listed
  // daughters' order, per block): the serial loop only appends them.
  std::vector<std::vector<HouseholdRow>> daughters(nb);
  const int born_by = st.month - child_age_limit_months;  // born then or before: 18 or over
  par::for_blocks(n, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    const std::uint8_t* present = c.present.data();
    const std::int32_t* born = c.birth_month.data();
    append_rows_if(
        begin, end, [&](std::size_t i) { return (present[i] != 0) & (born[i] <= born_by); },
        parts[b]);
    for (const std::size_t i : parts[b]) {
      if (c.sex[i] != female) continue;
      const int s = h.street[static_cast<std::size_t>(c.household[i])];
      daughters[b].push_back(
          draw_household(sc, r, st.replicate, ids::adult_daughter(c.id[i]), s, c.birth_month[i]));
      // A single woman of parity 0 (she may form a couple later: add_births_and_couples).
      daughters[b].back().partnered = 0;
    }
  });
  for (std::size_t b = 0; b < nb; ++b) {
    std::size_t next_daughter = 0;
    for (const std::size_t i : parts[b]) {
      const auto hh = static_cast<std::size_t>(c.household[i]);
      const int s = h.street[hh];
      c.present[i] = 0;
      h.n_children[hh] -= 1;
      f.aged_out[static_cast<std::size_t>(s)] += 1;
      st.census.add_child(s, c.sex[i], c.birth_month[i], -1);
      // Now an adult resident (no flow): a daughter becomes a single woman with a household of
      // her own (counted in the census as she is added), a son joins the resident counts at 18.
      if (c.sex[i] == female) {
        append_household(st, daughters[b][next_daughter++]);
      } else {
        add_resident(st, s, male, c.birth_month[i]);
      }
    }
  }
}

// Bounds on a household's four words this month (philox_batch.hpp, words_below): a row none
// of whose words falls below (or, for forming a couple, at or above) its bound has no event,
// whatever its attributes, so the exact test need not run for it. Each bound comes from the
// largest probability its word is compared with, so the test on words may pass rows the exact
// test rejects, never the other way round.
struct EventBounds {
  std::uint32_t birth = 0, death = 0, partner_from = 0, out = 0, move = 0;
  bool every_row = false;  ///< a probability too close to 1 for a word bound: test every row

  EventBounds(const Rates& r, const BirthTable& births) {
    double q_max = 0, out_max = 0;
    for (const double q : births.q) q_max = std::max({q_max, q, q * r.twins_per_delivery});
    for (const double p : r.out_hazard_by_age) out_max = std::max(out_max, p);
    birth = below(q_max);
    death = below(r.women_death_hazard);
    partner_from = words_at_or_above(1.0 - r.partnering_hazard);
    out = below(out_max);
    move = below(r.between_hazard);
  }
  /// Whether words w0..w3 (birth, death or couple, leaving, moving) may give an event.
  bool may_have_event(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2,
                      std::uint32_t w3) const {
    return every_row | (w0 < birth) | (w1 < death) | (w1 >= partner_from) | (w2 < out) |
           (w3 < move);
  }

 private:
  std::uint32_t below(double x) {
    const std::uint64_t b = words_below(x);
    if (b > 0xffffffffu) every_row = true;
    return static_cast<std::uint32_t>(b);
  }
};

HouseholdEvents draw_household_events(const State& st, const Scenario& sc, const Rates& r,
                                      const BirthTable& births) {
  const Households& h = st.households;
  const EventBounds bounds(r, births);
  const std::size_t n = h.size();
  HouseholdEvents ev;
  // Not initialised (make_unique<T[]> would zero them, serially): each row of `rows` is written.
  ev.flags.reset(new std::uint8_t[n]);
  ev.destination.reset(new std::int16_t[n]);
  const auto rep = static_cast<std::uint32_t>(st.replicate);
  const auto month = static_cast<std::uint32_t>(st.month);
  // The exact test of row i, whose stream's first four words are those of agent k of `words`.
  auto draw = [&](std::size_t i, const FirstBlocks& words, std::size_t k,
                  std::vector<Flagged>& flagged) {
    // Always take the same four words (one Philox block) in the same roles, whether or not
    // they are used, so that a change in one event's probability does not shift the others'
    // draws.
    const double u_birth = words.uniform(k, 0), u_death = words.uniform(k, 1),
                 u_out = words.uniform(k, 2), u_move = words.uniform(k, 3);
    std::uint8_t flags = 0;
    float x = 0, y = 0;  // the new home of a household that moves
    const int age = age_in_months(st.month, h.mother_birth_month[i]);
    if (h.has_mother[i] && age >= fertile_from_months && age < fertile_until_months) {
      // Twins are the low end of the same uniform: P(twins | delivery) = τ (births.hpp).
      const double q = at_risk_of_birth(r, st.month, h.last_birth_month[i])
                           ? births.at(age / 12, h.parity[i], h.partnered[i] != 0)
                           : 0.0;  // delivery_probability, inlined
      if (u_birth < q) flags |= birth;
      if (u_birth < q * r.twins_per_delivery) flags |= twins;
      if (u_death < r.women_death_hazard) flags |= mother_dies;
      // Death takes the bottom of u_death and forming a couple its top: the two events
      // exclude each other (their hazards add up to far less than 1).
      if (!h.partnered[i] && u_death >= 1.0 - r.partnering_hazard) flags |= partners;
    }
    // The family leaves at the rate of the mother's age (also after her death: the household
    // keeps her birth month), so children move with their parents (migration_schedule.hpp).
    if (u_out < r.out_hazard(age / 12)) {
      flags |= leaves;
    } else if (u_move < r.between_hazard) {
      flags |= moves;
      Stream rng(sc.seed, rep, h.id[i], month, Purpose::household_month);
      rng.skip_first_block();  // the four words above
      const int d =
          draw_index(r.destination_cdf[static_cast<std::size_t>(h.street[i])], rng.uniform());
      ev.destination[i] = static_cast<std::int16_t>(d);
      const double u1 = rng.uniform(), u2 = rng.uniform();
      draw_home(sc, d, u1, u2, x, y);
    }
    if (flags == 0) return;
    std::uint8_t sex[2] = {0, 0};
    if (flags & birth) {
      sex[0] = draw_child_sex(sc, r, st.replicate, ids::newborn(h.id[i], st.month));
      if (flags & twins)
        sex[1] = draw_child_sex(sc, r, st.replicate, ids::newborn_twin(h.id[i], st.month));
    }
    flagged.push_back({i, x, y, flags, {sex[0], sex[1]}});
    ev.flags[i] = flags;
  };
  // In parallel over blocks of rows; the rows with an event are listed per block, in row order.
  const std::size_t nb = par::n_blocks();
  std::vector<std::vector<Flagged>> parts(nb);
  // The exact test reads five of the row's arrays, and the rows that reach it (about 2 %) are
  // scattered: each read was a cache miss waited for in turn (a third of this loop's own
  // time). The rows of eight groups are listed first and their reads requested together
  // (prefetched) as they are listed, so that the misses overlap; then they are tested, in row
  // order. (A loop that only prefetched was deleted by GCC 12 as having no effect: the
  // prefetches sit in the loop that writes the list.)
  auto prefetch = [&](std::size_t i) {
    prefetch_row(i, h.mother_birth_month, h.last_birth_month, h.has_mother, h.parity, h.partnered);
  };
  par::for_blocks(n, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    // Each household's stream: the first block (four words) of up to 64 rows at a time
    // (philox_batch.hpp: the same words a Stream gives); a household that moves draws on.
    // Most months nothing happens to a household: the rows whose words may give an event
    // (EventBounds; a few per cent) are marked without a branch, and only they are tested.
    // Retired rows (not present) wait for the next compaction.
    constexpr std::size_t groups = 8, group_rows = FirstBlocks::capacity;
    FirstBlocks words[groups];
    std::uint8_t candidate[group_rows];
    std::uint16_t listed[groups * group_rows];  // q × group_rows + k: row g0 + that
    for (std::size_t g0 = begin; g0 < end; g0 += groups * group_rows) {
      std::size_t n_listed = 0;
      for (std::size_t q = 0; q < groups && g0 + q * group_rows < end; ++q) {
        const std::size_t g = g0 + q * group_rows, m = std::min(group_rows, end - g);
        words[q].fill(sc.seed, rep, &h.id[g], m, month, Purpose::household_month);
        const std::uint32_t *w0 = words[q].words(0), *w1 = words[q].words(1),
                            *w2 = words[q].words(2), *w3 = words[q].words(3);
        const std::uint8_t* present = &h.present[g];
        for (std::size_t k = 0; k < m; ++k)  // vectorised: no branch
          candidate[k] = static_cast<std::uint8_t>(
              (present[k] != 0) & bounds.may_have_event(w0[k], w1[k], w2[k], w3[k]));
        for_each_flagged(candidate, m, [&](std::size_t k) {
          prefetch(g + k);
          listed[n_listed++] = static_cast<std::uint16_t>(q * group_rows + k);
        });
      }
      for (std::size_t j = 0; j < n_listed; ++j) {
        const std::size_t q = listed[j] / group_rows, k = listed[j] % group_rows;
        draw(g0 + listed[j], words[q], k, parts[b]);
      }
    }
  });
  par::concatenate(parts, ev.rows);
  return ev;
}

// Births (the babies appended as child rows, in the order of ev.rows) and single women who
// form a couple (the partner is an adult resident already counted in the street's resident
// counts, docs/model.md, "Family formation": no count changes), in one serial pass over the
// month's events. A row's birth comes before its partnering, as when every birth came first:
// the census's counts are integer sums, which do not depend on the order of rows. One pass
// rather than two: the rows are scattered over the table, and each is fetched once.
void add_births_and_couples(State& st, const HouseholdEvents& ev, MonthFlows& f) {
  Households& h = st.households;
  for (const Flagged& e : ev.rows) {
    const std::size_t i = e.row;
    if (e.flags & birth) {
      const auto s = static_cast<std::size_t>(h.street[i]);
      const int babies = (e.flags & twins) ? 2 : 1;
      change_woman(st, i, [&] {  // her parity changes
        for (int b = 0; b < babies; ++b) {
          const std::uint64_t id =
              b == 0 ? ids::newborn(h.id[i], st.month) : ids::newborn_twin(h.id[i], st.month);
          append_child(st, id, static_cast<int>(i), st.month, e.sex[b]);
          MonthFlows::add(f.resident_births, static_cast<int>(s), e.sex[b], 0);
          const int order = h.parity[i] + 1;
          f.births_by_parity[s * n_parity_classes +
                             static_cast<std::size_t>(parity_class(order))] += 1;
          if (h.parity[i] < 255) h.parity[i] += 1;
        }
      });
      h.last_birth_month[i] = st.month;
      // Not at risk again for the birth interval (she was at risk: not in the list).
      if (st.census.enabled()) st.census.recent_deliveries.push_back(static_cast<std::uint32_t>(i));
      f.births[s] += babies;
    }
    if ((e.flags & partners) && !(e.flags & mother_dies)) {
      change_woman(st, i, [&] { h.partnered[i] = 1; });
      f.partnerships += 1;
    }
  }
}

void child_deaths(State& st, const Scenario& sc, const Rates& r, MonthFlows& f) {
  Children& c = st.children;
  const std::size_t n = c.size();
  const auto rep = static_cast<std::uint32_t>(st.replicate);
  const auto month = static_cast<std::uint32_t>(st.month);
  // Draws in parallel, the rows that die listed in row order; then applied serially.
  double hazard_max = 0;
  for (const double p : r.child_death_hazard) hazard_max = std::max(hazard_max, p);
  const std::uint64_t below = words_below(hazard_max);
  const bool every_row = below > 0xffffffffu;
  const auto bound = static_cast<std::uint32_t>(below);
  const std::size_t nb = par::n_blocks();
  std::vector<std::vector<std::size_t>> parts(nb);
  par::for_blocks(n, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    // The first word of each child's stream, 64 rows at a time (philox_batch.hpp); a first
    // pass on the words (vectorised) leaves the exact test to the rows whose word is below
    // the largest hazard (a bound that never excludes a death: words_below).
    FirstBlocks words;
    std::uint8_t candidate[FirstBlocks::capacity];
    for (std::size_t g = begin; g < end; g += FirstBlocks::capacity) {
      const std::size_t m = std::min(FirstBlocks::capacity, end - g);
      words.fill(sc.seed, rep, &c.id[g], m, month, Purpose::child_month);
      const std::uint32_t* w = words.words(0);
      const std::uint8_t* present = &c.present[g];
      for (std::size_t k = 0; k < m; ++k)
        candidate[k] = static_cast<std::uint8_t>(every_row | ((present[k] != 0) & (w[k] < bound)));
      for_each_flagged(candidate, m, [&](std::size_t k) {
        const std::size_t i = g + k;
        if (!c.present[i]) return;
        const int age = age_in_months(st.month, c.birth_month[i]) / 12;
        if (words.uniform(k, 0) < r.child_death_hazard[static_cast<std::size_t>(age)])
          parts[b].push_back(i);
      });
    }
  });
  std::vector<std::size_t> dies;
  par::concatenate(parts, dies);
  for (const std::size_t i : dies) {
    const auto hh = static_cast<std::size_t>(c.household[i]);
    c.present[i] = 0;
    st.households.n_children[hh] -= 1;
    f.deaths[static_cast<std::size_t>(st.households.street[hh])] += 1;
    MonthFlows::add(f.resident_deaths, st.households.street[hh], c.sex[i],
                    age_in_months(st.month, c.birth_month[i]) / 12);
    st.census.add_child(st.households.street[hh], c.sex[i], c.birth_month[i], -1);
  }
}

// A person of `sex` born in `birth_month` who leaves street `from` and, unless `to` is −1,
// enters street `to` (a woman: with her parity and partnership), found in a parallel loop; the
// census (shared) is changed serially after the loop.
struct CensusMove {
  std::int16_t from, to;
  std::uint8_t sex, parity, partnered;
  std::int32_t birth_month;
};

// The flows move_households counts, per block (integer counts: merged by addition).
struct MoveCounts {
  std::vector<std::int32_t> moves_in, moves_out, resident_deaths, migrants_out, movers_in,
      movers_out;
  explicit MoveCounts(const MonthFlows& f)
      : moves_in(f.moves_in.size()),
        moves_out(f.moves_out.size()),
        resident_deaths(f.resident_deaths.size()),
        migrants_out(f.migrants_out.size()),
        movers_in(f.movers_in.size()),
        movers_out(f.movers_out.size()) {}
  void add_to(MonthFlows& f) const {
    MonthFlows::add_array(moves_in, f.moves_in);
    MonthFlows::add_array(moves_out, f.moves_out);
    MonthFlows::add_array(resident_deaths, f.resident_deaths);
    MonthFlows::add_array(migrants_out, f.migrants_out);
    MonthFlows::add_array(movers_in, f.movers_in);
    MonthFlows::add_array(movers_out, f.movers_out);
  }
};

// The children in parallel over blocks of rows (each row changes only itself; the flows are
// counted per block and added up: integers), then the women of the households with an event.
void move_households(State& st, const HouseholdEvents& ev, MonthFlows& f) {
  Households& h = st.households;
  Children& c = st.children;
  const std::size_t nb = par::n_blocks();
  std::vector<MoveCounts> counts(nb, MoveCounts(f));
  std::vector<std::vector<std::size_t>> moved(nb);  // the children who leave or move, per block
  // The households that leave or move, one bit a row: the children's loop looks up every
  // child's household, at random, and a bit a row (21 kB for the baseline) stays in the
  // first-level cache where a byte a row (ev.flags) did not.
  std::vector<std::uint64_t> going((h.size() + 63) / 64, 0);
  AgentCensus& census = st.census;
  const bool kept = census.enabled();
  std::vector<std::vector<CensusMove>> changes(nb);  // per block, applied serially after
  for (const Flagged& e : ev.rows)
    if (e.flags & (leaves | moves)) going[e.row / 64] |= std::uint64_t{1} << (e.row % 64);
  // Children first: they are counted where their household lived at the start of the move.
  par::for_blocks(c.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    // The rows are listed without a branch (branch_free.hpp); a child's household row is
    // valid whether or not the child is present (rows are renumbered only at compaction, which
    // keeps a present child's household).
    const std::uint8_t* present = c.present.data();
    const std::int32_t* household = c.household.data();
    const std::uint64_t* bits = going.data();
    append_rows_if(
        begin, end,
        [&](std::size_t i) {
          const auto hh = static_cast<std::uint32_t>(household[i]);
          return (present[i] != 0) & (((bits[hh / 64] >> (hh % 64)) & 1) != 0);
        },
        moved[b]);
    MoveCounts& k = counts[b];
    for (const std::size_t i : moved[b]) {
      const auto hh = static_cast<std::size_t>(c.household[i]);
      const std::uint8_t flags = ev.flags[hh];
      const auto s = static_cast<std::size_t>(h.street[hh]);
      const int age = age_in_months(st.month, c.birth_month[i]) / 12;
      const int to = (flags & leaves) ? -1 : ev.destination[hh];
      if (kept)
        changes[b].push_back(
            {h.street[hh], static_cast<std::int16_t>(to), c.sex[i], 0, 0, c.birth_month[i]});
      if (flags & leaves) {
        c.present[i] = 0;
        k.moves_out[s] += 1;
        MonthFlows::add(k.migrants_out, h.street[hh], c.sex[i], age);
      } else {
        k.moves_out[s] += 1;
        k.moves_in[static_cast<std::size_t>(to)] += 1;
        MonthFlows::add(k.movers_out, h.street[hh], c.sex[i], age);
        MonthFlows::add(k.movers_in, to, c.sex[i], age);
      }
    }
  });
  // The census (state.hpp) of those children, serially from the lists (the census is shared).
  for (auto& part : changes) {
    for (const CensusMove& m : part) {
      census.add_child(m.from, m.sex, m.birth_month, -1);
      if (m.to >= 0) census.add_child(m.to, m.sex, m.birth_month, 1);
    }
    part.clear();
  }
  // The women of the households (a partner is in the resident counts and moves by their
  // schedule: residents.hpp): only the rows with an event, in parallel over blocks of the list
  // (each row changes only itself, the flows are counted per block), the census changes
  // listed per block and applied serially after. (A serial loop here waited on the scattered
  // rows' cache misses: ~2 % of the main thread at 2 threads.)
  const std::vector<Flagged>& rows = ev.rows;
  par::for_blocks(rows.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    MoveCounts& k = counts[b];
    for (std::size_t j = begin; j < end; ++j) {
      const Flagged& e = rows[j];
      const std::size_t i = e.row;
      const std::uint8_t flags = e.flags;
      if (!(flags & (mother_dies | leaves | moves))) continue;
      const int age = age_in_months(st.month, h.mother_birth_month[i]) / 12;
      // The woman is in the census while the household is present and has her: taken out of
      // her street, and counted in the new one if she moves alive.
      const bool counted = h.has_mother[i] != 0;
      if (flags & mother_dies) {
        h.has_mother[i] = 0;
        MonthFlows::add(k.resident_deaths, h.street[i], female, age);
      }
      std::int16_t to = -1;
      const std::int16_t from = h.street[i];
      if (flags & leaves) {
        if (h.has_mother[i]) MonthFlows::add(k.migrants_out, h.street[i], female, age);
        h.present[i] = 0;
        h.n_children[i] = 0;
      } else if (flags & moves) {
        const auto d = static_cast<std::size_t>(ev.destination[i]);
        if (h.has_mother[i]) {
          MonthFlows::add(k.movers_out, h.street[i], female, age);
          MonthFlows::add(k.movers_in, static_cast<int>(d), female, age);
          to = static_cast<std::int16_t>(d);
        }
        h.street[i] = static_cast<std::int16_t>(d);
        h.x_m[i] = e.x_m;
        h.y_m[i] = e.y_m;
      }
      if (kept && counted)
        changes[b].push_back(
            {from, to, female, h.parity[i], h.partnered[i], h.mother_birth_month[i]});
    }
  });
  for (const auto& part : changes)
    for (const CensusMove& m : part) {
      census.add_woman(m.from, m.birth_month, m.parity, m.partnered != 0, -1);
      if (m.to >= 0) census.add_woman(m.to, m.birth_month, m.parity, m.partnered != 0, 1);
    }
  for (const MoveCounts& part : counts) part.add_to(f);
}

void arrivals(State& st, const Scenario& sc, const Rates& r, MonthFlows& f) {
  const auto rep = static_cast<std::uint32_t>(st.replicate);
  // The month's families in the order they are added (by street: migrants, then new housing).
  struct Arrival {
    std::uint64_t id;
    int street;
  };
  std::vector<Arrival> list;
  for (int s = 0; s < r.n_streets; ++s) {
    Stream rng(sc.seed, rep, static_cast<std::uint64_t>(s), static_cast<std::uint32_t>(st.month),
               Purpose::street_month);
    const double mean = r.inflow_households[static_cast<std::size_t>(s)];
    const int n = mean > 0 ? boost::random::poisson_distribution<int, double>(mean)(rng) : 0;
    for (int k = 0; k < n; ++k) list.push_back({ids::arrival_household(s, st.month, k), s});
    const int housed =
        r.housing_households[static_cast<std::size_t>(st.month)][static_cast<std::size_t>(s)];
    for (int k = 0; k < housed; ++k) list.push_back({ids::housing_household(s, st.month, k), s});
  }
  // Each family is drawn from its own streams, in parallel (it was ~6 % of the main thread's
  // time at 2 threads, serial); the rows are then appended serially in the list's order.
  // Raw storage, each family constructed in the loop that draws it: a vector zeroed ~570 bytes
  // a family serially (a fifth of step_demography's own samples), and new[] still ran the
  // constructors serially, taking the fresh pages' faults on this thread.
  const std::unique_ptr<unsigned char[]> storage(
      new unsigned char[list.size() * sizeof(ArrivingFamily)]);
  auto* const families = reinterpret_cast<ArrivingFamily*>(storage.get());
  static_assert(std::is_trivially_destructible_v<ArrivingFamily>, "never destroyed");
  par::for_blocks(list.size(), par::n_blocks(),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
                    for (std::size_t j = begin; j < end; ++j)
                      draw_arriving_family(sc, r, st.replicate, list[j].id, list[j].street,
                                           st.month, *new (&families[j]) ArrivingFamily);
                  });
  append_arriving_families(st, families, list.size());
  for (std::size_t j = 0; j < list.size(); ++j) {
    const ArrivingFamily& family = families[j];
    const int s = list[j].street;
    f.moves_in[static_cast<std::size_t>(s)] += family.n_children;
    // Every arriving person, by sex and age (the woman and the children she brought).
    MonthFlows::add(f.migrants_in, s, female,
                    age_in_months(st.month, family.household.mother_birth_month) / 12);
    for (int k = 0; k < family.n_children; ++k)
      MonthFlows::add(f.migrants_in, s, family.children[k].sex,
                      age_in_months(st.month, family.children[k].birth_month) / 12);
  }
}

}  // namespace

void step_demography(State& st, const Scenario& sc, const Rates& r, MonthFlows& f) {
  age_out(st, sc, r, f);
  // The month's delivery probabilities (the census, when kept, prunes its list of recent
  // deliveries in the same pass).
  const BirthTable births = st.census.enabled() ? prune_and_birth_table(st, r) : birth_table(st, r);
  const HouseholdEvents ev = draw_household_events(st, sc, r, births);
  // The residents who are not agents beside the agents' steps: step_residents reads and writes
  // only the resident counts, which no step from here to its end touches (age_out, the other
  // writer, came first), and counts its flows apart (the agents' steps count deaths, migrants
  // and movers in the same arrays), added in when both are done. Alone on one core it costs
  // about what its loop costs split across two, and the steps here are mostly serial or gain
  // little from a second thread (docs/performance.md).
  MonthFlows resident_flows(static_cast<int>(f.births.size()));
  par::Beside residents([&] { step_residents(st, sc, r, resident_flows); });
  add_births_and_couples(st, ev, f);
  child_deaths(st, sc, r, f);
  move_households(st, ev, f);
  // The rows whose HomeRow values may have changed (state.hpp: HomeRows): those where a couple
  // formed, the mother died or the family moved (births and leaving change none of them; new
  // rows are told by the table's length).
  st.homes.changed.clear();
  for (const Flagged& e : ev.rows)
    if (e.flags & (partners | mother_dies | moves))
      st.homes.changed.push_back(static_cast<std::uint32_t>(e.row));
  st.homes.listed_month = st.month;
  arrivals(st, sc, r, f);
  residents.wait();
  f.add(resident_flows);
}

void retire_households(State& st) {
  Households& h = st.households;
  // Rows to retire, found in parallel and listed in row order; applied serially.
  const std::size_t nb = par::n_blocks();
  std::vector<std::vector<std::size_t>> parts(nb);
  // The test is evaluated whole for every row, without a branch (branch_free.hpp): whether a
  // row has a child or a mother under 50 follows no pattern.
  const int oldest = st.month - (fertile_until_months - 1);  // mothers born then or before
  par::for_blocks(h.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    const std::uint8_t* present = h.present.data();
    const std::uint8_t* has_mother = h.has_mother.data();
    const std::uint16_t* n_children = h.n_children.data();
    const std::int32_t* born = h.mother_birth_month.data();
    append_rows_if(
        begin, end,
        [&](std::size_t i) {
          return (present[i] != 0) & (n_children[i] == 0) &
                 ((has_mother[i] == 0) | (born[i] <= oldest));
        },
        parts[b]);
  });
  std::vector<std::size_t> rows;
  par::concatenate(parts, rows);
  // A woman whose household retires joins the resident counts (no flow).
  for (const std::size_t i : rows) {
    h.present[i] = 0;
    if (!h.has_mother[i]) continue;
    add_resident(st, h.street[i], female, h.mother_birth_month[i]);
    st.census.add_woman(h, i, -1);
  }
}

}  // namespace childsim
