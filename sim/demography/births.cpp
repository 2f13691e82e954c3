// births: parity- and partnership-specific relative risks renormalised to the age rate.
#include "sim/demography/births.hpp"

#include "sim/core/branch_free.hpp"       // chunk_rows, Tally
#include "sim/core/check.hpp"             // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"          // par::for_blocks
#include "sim/core/prefetch.hpp"          // prefetch_row
#include "sim/demography/demography.hpp"  // age_in_months

#include <algorithm>  // std::min, std::max

namespace childsim {
namespace {

constexpr int fertile_from_months = 18 * 12;
constexpr int fertile_until_months = 50 * 12;  // exclusive

// The month's table from N(a) / W(a) (birth_table).
BirthTable table_of(const State& st, const Rates& r, const std::vector<double>& renorm);

// The cell of birth_renormalisation's counts of each of n rows: ((age − 18) × 3 + parity class)
// × 4 + partnered × 2 + at risk, or the spare cell Rates::n_women_ages × 12 for a row that is
// not a present woman of 18–49. Unsigned arithmetic: the age in months of a counted row lies
// in [216, 600), and a row's garbage (retired rows) wraps without harm.
void women_cells(const std::uint8_t* present, const std::uint8_t* has_mother,
                 const std::uint8_t* parity, const std::uint8_t* partnered,
                 const std::int32_t* born, const std::int32_t* last_birth, int month, int interval,
                 std::size_t n, std::uint16_t* cells) {
  constexpr unsigned spare = Rates::n_women_ages * 12;
  const auto um = static_cast<unsigned>(month);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned age = um - static_cast<unsigned>(born[i]);
    const bool counted = (present[i] != 0) & (has_mother[i] != 0) &
                         (age - unsigned{fertile_from_months} <
                          unsigned{fertile_until_months - fertile_from_months});
    const unsigned risk = month - last_birth[i] >= interval ? 1 : 0;  // at_risk_of_birth
    const unsigned p = parity[i] < 2 ? parity[i] : 2;
    const unsigned cell = ((age / 12 - 18) * 3 + p) * 4 + (partnered[i] != 0 ? 2 : 0) + risk;
    cells[i] = static_cast<std::uint16_t>(counted ? cell : spare);
  }
}

}  // namespace

double birth_weight(const Rates& r, int parity, bool partnered, bool lever) {
  const auto p = static_cast<std::size_t>(std::min(parity, 2));
  double w = r.parity_relative[p] * (partnered ? 1.0 : r.unpartnered_relative);
  if (lever && parity >= 1) w *= r.higher_order_multiplier;
  return w;
}

namespace {

constexpr int n_cells = Rates::n_women_ages * 3 * 2 * 2;  // (age, parity class, partnered, risk)

// N(a) / W(a) from the integer counts by cell (those of women_cells): the same doubles
// whichever way the counts were taken.
std::vector<double> renormalisation_of(const std::int64_t* n, const Rates& r) {
  std::vector<double> renorm(Rates::n_women_ages, 0.0);
  for (int a = 0; a < Rates::n_women_ages; ++a) {
    double women = 0, weight = 0;
    for (int p = 0; p < 3; ++p)
      for (int c = 0; c < 2; ++c)
        for (int risk = 0; risk < 2; ++risk) {
          const auto k = static_cast<double>(n[((a * 3 + p) * 2 + c) * 2 + risk]);
          women += k;
          if (risk) weight += k * birth_weight(r, p, c == 1, false);
        }
    renorm[static_cast<std::size_t>(a)] = weight > 0 ? women / weight : 0.0;
  }
  return renorm;
}

// Whether household row i's woman is counted by the births this month and is not at risk
// (within the birth interval): what keeps a row in census.recent_deliveries.
bool counted_not_at_risk(const Households& h, std::size_t i, int month, const Rates& r) {
  const int age = month - h.mother_birth_month[i];
  return h.present[i] && h.has_mother[i] && age >= fertile_from_months &&
         age < fertile_until_months && !at_risk_of_birth(r, month, h.last_birth_month[i]);
}

}  // namespace

std::vector<double> birth_renormalisation(const State& st, const Rates& r) {
  const Households& h = st.households;
  // Integer counts by (age, parity class, partnered, at risk), then the weights: integer sums
  // do not depend on the order of rows or on threads.
  // In parallel over blocks of rows, each block counting into its own cells plus one spare
  // cell (index n_cells) that takes the rows not counted. Chunk by chunk, the cells of the
  // rows are computed first without a branch (the compiler vectorises it: rows of older
  // mothers, women without a mother, retired rows are mixed in no order), then counted.
  const std::size_t nb = par::n_blocks();
  std::vector<Tally<std::int64_t>> parts(nb, Tally<std::int64_t>(n_cells + 1));
  const int month = st.month, interval = r.min_birth_interval_months;
  par::for_blocks(h.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::uint16_t cells[chunk_rows];
    for (std::size_t g = begin; g < end; g += chunk_rows) {
      const std::size_t m = std::min(chunk_rows, end - g);
      women_cells(&h.present[g], &h.has_mother[g], &h.parity[g], &h.partnered[g],
                  &h.mother_birth_month[g], &h.last_birth_month[g], month, interval, m, cells);
      parts[b].add(cells, m);
    }
  });
  std::vector<std::int64_t> counts(n_cells, 0);
  for (const auto& part : parts) part.add_to(counts.data(), n_cells);
  return renormalisation_of(counts.data(), r);
}

namespace {

// Every woman of the census in the risk cells (risk = 1) of n (women_cells' layout) by her age
// this month: a year of age is 12 birth months of women_by_parity.
void census_risk_counts(const AgentCensus& a, int month, std::int64_t* n) {
  const int newest = month - a.first_birth_month;  // index of a woman aged 0 months
  for (int age = 0; age < Rates::n_women_ages; ++age) {
    const int oldest_k = std::max(0, newest - 12 * (age + 18 + 1) + 1);
    const int youngest_k = std::min(a.n_birth_months - 1, newest - 12 * (age + 18));
    for (int k = oldest_k; k <= youngest_k; ++k)
      for (int pc = 0; pc < 6; ++pc)
        n[static_cast<std::size_t>((age * 6 + pc) * 2 + 1)] +=
            a.women_by_parity[static_cast<std::size_t>(k) * 6 + static_cast<std::size_t>(pc)];
  }
}

// The (age, parity class, partnered) cell, (age − 18) × 6 + parity class × 2 + partnered, of
// household row i's woman (counted this month).
std::size_t woman_cell(const Households& h, std::size_t i, int month) {
  const int age = (month - h.mother_birth_month[i]) / 12 - 18;
  const int p = h.parity[i] < 2 ? h.parity[i] : 2;
  return static_cast<std::size_t>(age * 6 + p * 2 + (h.partnered[i] ? 1 : 0));
}

}  // namespace

std::vector<double> birth_renormalisation_from_census(const State& st, const Rates& r) {
  const AgentCensus& a = st.census;
  const Households& h = st.households;
  CHILDSIM_CHECK(a.enabled(), "the agent census is not kept");
  std::vector<std::int64_t> n(n_cells, 0);
  census_risk_counts(a, st.month, n.data());
  // Those within the birth interval, from the list of recent deliveries, moved to risk = 0.
  for (const std::uint32_t i : a.recent_deliveries) {
    if (!counted_not_at_risk(h, i, st.month, r)) continue;
    const std::size_t cell = woman_cell(h, i, st.month) * 2;
    n[cell] += 1;
    n[cell + 1] -= 1;
  }
  return renormalisation_of(n.data(), r);
}

BirthTable prune_and_birth_table(State& st, const Rates& r) {
  AgentCensus& a = st.census;
  const Households& h = st.households;
  CHILDSIM_CHECK(a.enabled(), "the agent census is not kept");
  std::vector<std::int64_t> n(n_cells, 0);
  census_risk_counts(a, st.month, n.data());
  // One pass over the list, in parallel over blocks of it: each block keeps its rows in order
  // (concatenated in block order: the list's order, as prune_recent_deliveries keeps it) and
  // counts them by cell (integers: added up in any order). The list's rows are scattered, and
  // the two serial passes waited on the same cache misses twice.
  std::vector<std::uint32_t>& recent = a.recent_deliveries;
  // Serial below 2 × 16,384 rows (the baseline lists about 2,600 after its first month): at 2
  // threads the loop took longer than at 1 in each of four profiles (1.1 to 1.9 times; its
  // scattered rows were written by the births, on the caller's core).
  const std::size_t nb = par::blocks_for(recent.size(), 16384);
  constexpr std::size_t woman_cells = Rates::n_women_ages * 6;
  std::vector<std::vector<std::uint32_t>> kept(nb);
  std::vector<std::int64_t> within(nb * woman_cells, 0);  // [block × woman_cells + cell]
  const int month = st.month;
  par::for_blocks(recent.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int64_t* w = within.data() + b * woman_cells;
    for (std::size_t j = begin; j < end; ++j) {
      // The six columns that the test reads, requested 8 rows ahead so that the fetches of
      // these scattered rows overlap: at 2 threads about half were last read by the other
      // core, and when the cores pass a line slowly (350-600 ns a round trip) this step took
      // three times as long as at 1 thread (docs/performance.md, "Every target at one head,
      // in both of the VM's states").
      if (j + 8 < end)
        prefetch_row(recent[j + 8], h.present, h.has_mother, h.mother_birth_month,
                     h.last_birth_month, h.parity, h.partnered);
      const std::uint32_t i = recent[j];
      if (!counted_not_at_risk(h, i, month, r)) continue;
      kept[b].push_back(i);
      w[woman_cell(h, i, month)] += 1;
    }
  });
  recent.clear();
  par::concatenate(kept, recent);
  for (std::size_t b = 0; b < nb; ++b)
    for (std::size_t cell = 0; cell < woman_cells; ++cell) {
      n[cell * 2] += within[b * woman_cells + cell];
      n[cell * 2 + 1] -= within[b * woman_cells + cell];
    }
  return table_of(st, r, renormalisation_of(n.data(), r));
}

void prune_recent_deliveries(State& st, const Rates& r) {
  std::vector<std::uint32_t>& recent = st.census.recent_deliveries;
  std::size_t kept = 0;
  // A row that leaves the list does not come back unless she delivers again (she is then
  // listed anew): ages only grow, a woman at risk stays so until her next delivery, and a
  // household or mother that is gone does not return.
  for (const std::uint32_t i : recent)
    if (counted_not_at_risk(st.households, i, st.month, r)) recent[kept++] = i;
  recent.resize(kept);
}

namespace {

BirthTable table_of(const State& st, const Rates& r, const std::vector<double>& renorm) {
  BirthTable t;
  t.q.resize(static_cast<std::size_t>(Rates::n_women_ages) * 6);
  for (int a = 0; a < Rates::n_women_ages; ++a)
    for (int p = 0; p < 3; ++p)
      for (int c = 0; c < 2; ++c)
        t.q[static_cast<std::size_t>(a * 6 + p * 2 + c)] = std::min(
            1.0, r.birth_probability(st.month, a + 18) / (1.0 + r.twins_per_delivery) *
                     renorm[static_cast<std::size_t>(a)] * birth_weight(r, p, c == 1, true));
  return t;
}

}  // namespace

BirthTable birth_table(const State& st, const Rates& r) {
  return table_of(st, r,
                  st.census.enabled() ? birth_renormalisation_from_census(st, r)
                                      : birth_renormalisation(st, r));
}

double delivery_probability(const State& st, const Rates& r, const BirthTable& table,
                            std::size_t i) {
  const Households& h = st.households;
  if (!h.has_mother[i] || !at_risk_of_birth(r, st.month, h.last_birth_month[i])) return 0.0;
  const int age = age_in_months(st.month, h.mother_birth_month[i]);
  if (age < fertile_from_months || age >= fertile_until_months) return 0.0;
  return table.at(age / 12, h.parity[i], h.partnered[i] != 0);
}

}  // namespace childsim
