// residents: the resident counts' monthly events and arrivals.
#include "sim/demography/residents.hpp"

#include "sim/core/branch_free.hpp"   // chunk_rows, select, Tally
#include "sim/core/parallel.hpp"      // par::for_blocks
#include "sim/core/philox_batch.hpp"  // BufferedStream
#include "sim/core/rng.hpp"           // Stream, Purpose

#include <boost/random/poisson_distribution.hpp>  // boost::random::poisson_distribution

#include <algorithm>  // std::max, std::min
#include <cmath>      // std::exp, std::log1p

namespace childsim {
namespace {

constexpr int adult_from_months = 18 * 12;
constexpr int beyond_oldest_months = (BaseData::max_age + 1) * 12;  // nobody reaches this age

struct Move {
  int to_street, sex, birth_month;
};

}  // namespace

ResidentCounts make_resident_counts(int n_streets, int n_months) {
  ResidentCounts c;
  c.n_streets = n_streets;
  c.first_birth_month = -beyond_oldest_months;
  const int last_birth_month = n_months - 1 - adult_from_months;
  c.n_cohorts = std::max(0, last_birth_month - c.first_birth_month + 1);
  c.n.assign(static_cast<std::size_t>(n_streets * n_sexes * c.n_cohorts), 0);
  return c;
}

void build_resident_counts(State& st, const InitialCounts& counts, int n_months) {
  const int ns = static_cast<int>(counts.residents.size());
  st.residents = make_resident_counts(ns, n_months);
  // Older mothers (agents) by street and year of age: they are among the women 50+.
  std::vector<std::vector<int>> agents(static_cast<std::size_t>(ns),
                                       std::vector<int>(Rates::n_adult_ages, 0));
  const Households& h = st.households;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const int age = -h.mother_birth_month[i] / 12;
    if (h.present[i] && h.has_mother[i] && age >= 50)
      agents[static_cast<std::size_t>(h.street[i])]
            [static_cast<std::size_t>(std::min(age, BaseData::max_age) - 18)] += 1;
  }
  for (int s = 0; s < ns; ++s)
    for (int sex = 0; sex < n_sexes; ++sex) {
      std::vector<int> n = counts.adults[static_cast<std::size_t>(s * n_sexes + sex)];
      if (sex == female) {
        int owed = 0;  // agents not yet taken from a count, carried to older ages
        for (int k = 0; k < Rates::n_adult_ages; ++k) {
          owed += agents[static_cast<std::size_t>(s)][static_cast<std::size_t>(k)];
          const int take = std::min(owed, n[static_cast<std::size_t>(k)]);
          n[static_cast<std::size_t>(k)] -= take;
          owed -= take;
        }
      }
      for (int k = 0; k < Rates::n_adult_ages; ++k) {
        const int total = n[static_cast<std::size_t>(k)], age = 18 + k;
        // Whole persons over the 12 birth months of the year of age; the remainder goes to
        // the youngest months.
        for (int m = 0; m < 12; ++m)
          st.residents.at(s, sex, -(12 * age + m)) = total / 12 + (m < total % 12 ? 1 : 0);
      }
    }
}

int binomial_by_inversion_loop(int n, double p, double u) {
  double pk = std::exp(n * std::log1p(-p));  // P(K = 0)
  double cdf = pk;
  const double odds = p / (1.0 - p);
  int k = 0;
  while (u >= cdf && k < n) {
    pk *= odds * (n - k) / (k + 1);
    ++k;
    cdf += pk;
  }
  return k;
}

void step_residents(State& st, const Scenario& sc, const Rates& r, MonthFlows& f) {
  ResidentCounts& c = st.residents;
  const int t = st.month, n_tasks = c.n_streets * n_sexes;
  const auto rep = static_cast<std::uint32_t>(st.replicate);
  const auto month = static_cast<std::uint32_t>(t);
  std::vector<std::vector<Move>> moves(static_cast<std::size_t>(n_tasks));
  // Tasks in parallel (contiguous blocks of tasks, par::for_blocks): each writes only its own
  // cells, its own flows' cells (street, sex) and its own list of moves.
  par::for_blocks(
      static_cast<std::size_t>(n_tasks), par::n_blocks(),
      [&](std::size_t, std::size_t first, std::size_t last) {
        for (int task = static_cast<int>(first); task < static_cast<int>(last); ++task) {
          const int s = task / n_sexes, sex = task % n_sexes;
          // Many words (one a non-empty cohort): 16 blocks at a time.
          BufferedStream rng(sc.seed, rep, static_cast<std::uint64_t>(task), month,
                             Purpose::resident_counts);
          for (int age_m = adult_from_months; age_m < beyond_oldest_months; ++age_m) {
            const int b = t - age_m;
            if (b < c.first_birth_month) break;
            if (b - c.first_birth_month >= c.n_cohorts) continue;  // too young for the table
            std::int32_t& n = c.at(s, sex, b);
            if (n == 0) continue;
            const int a = age_m / 12;
            const auto k_age = static_cast<std::size_t>(sex * Rates::n_adult_ages + a - 18);
            const double p = r.resident_event_prob[k_age];
            const double die = r.resident_death_share[k_age],
                         leave = die + r.resident_out_share[k_age];
            const int events = p >= 1.0 ? n : binomial_by_inversion(n, p, rng.uniform());
            int deaths = 0, gone = 0, moved = 0;
            for (int e = 0; e < events; ++e) {
              const double u = die >= 1.0 ? 0.0 : rng.uniform();
              if (u < die) {
                ++deaths;
              } else if (u < leave) {
                ++gone;
              } else {
                ++moved;
                const int d =
                    draw_index(r.destination_cdf[static_cast<std::size_t>(s)], rng.uniform());
                moves[static_cast<std::size_t>(task)].push_back({d, sex, b});
              }
            }
            if (events == 0) continue;  // most cohorts: nothing to count
            n -= events;
            MonthFlows::add(f.resident_deaths, s, sex, a, deaths);
            MonthFlows::add(f.migrants_out, s, sex, a, gone);
            MonthFlows::add(f.movers_out, s, sex, a, moved);
          }
          // Arrivals from outside the district, into this task's own cells (it was a serial
          // loop after this one; the counts are integers, so the order of the additions, and
          // the moves in added after the loop, do not change them).
          const double mean = r.resident_inflow[static_cast<std::size_t>(task)];
          if (!(mean > 0)) continue;
          BufferedStream in(sc.seed, rep, static_cast<std::uint64_t>(task), month,
                            Purpose::resident_arrivals);
          const int arrivals = boost::random::poisson_distribution<int, double>(mean)(in);
          const auto& cdf = r.resident_in_age_cdf[static_cast<std::size_t>(sex)];
          for (int k = 0; k < arrivals; ++k) {
            const int a = 18 + draw_index(cdf, in.uniform());
            const int b = t - (12 * a + static_cast<int>(in() % 12u));
            c.at(s, sex, b) += 1;
            MonthFlows::add(f.migrants_in, s, sex, a);
          }
        }
      });
  for (const auto& list : moves)
    for (const Move& m : list) {
      c.at(m.to_street, m.sex, m.birth_month) += 1;
      MonthFlows::add(f.movers_in, m.to_street, m.sex, (t - m.birth_month) / 12);
    }
}

void count_residents_by_age(const State& st, int month, std::int32_t* out) {
  // The agents: integer counts per block (children, then the women of the household tables,
  // in one row space so that one parallel region does both), added up at the end: the same
  // at any thread count. Each block has one spare cell (index n_out) that takes the rows not
  // counted, so the loops have no branch on `present`.
  const Households& h = st.households;
  const Children& ch = st.children;
  const ResidentCounts& c = st.residents;
  const std::size_t n_out = static_cast<std::size_t>(c.n_streets) * n_sexes * n_age_groups;
  const std::size_t nb = par::n_blocks();
  std::vector<Tally<std::int32_t>> parts(nb, Tally<std::int32_t>(n_out + 1));
  const std::size_t nc = ch.size(), nh = h.size();
  const auto spare = static_cast<unsigned>(n_out);
  const auto um = static_cast<unsigned>(month);
  // The age group of an age in months: age_group(age / 12) = min(age / 60, 17) for age ≥ 0.
  auto group = [](unsigned age_months) {
    return std::min(age_months / 60, unsigned{n_age_groups - 1});
  };
  par::for_blocks(nc + nh, nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    // Chunk by chunk, the cells first (no branch: the compiler vectorises the women's), then
    // the counts (branch_free.hpp).
    std::uint32_t cells[chunk_rows];
    for (std::size_t g = begin; g < std::min(end, nc); g += chunk_rows) {
      const std::size_t m = std::min({chunk_rows, end - g, nc - g});
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t i = g + k;
        const unsigned street =
            static_cast<unsigned>(h.street[static_cast<std::size_t>(ch.household[i])]);
        const unsigned cell = (street * n_sexes + ch.sex[i]) * n_age_groups +
                              group(um - static_cast<unsigned>(ch.birth_month[i]));
        cells[k] = select(ch.present[i] != 0, cell, spare);
      }
      parts[b].add(cells, m);
    }
    for (std::size_t g = std::max(begin, nc); g < end; g += chunk_rows) {
      const std::size_t m = std::min(chunk_rows, end - g);
      const std::size_t j0 = g - nc;
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t j = j0 + k;
        const unsigned cell = static_cast<unsigned>(h.street[j]) * (n_sexes * n_age_groups) +
                              female * n_age_groups +
                              group(um - static_cast<unsigned>(h.mother_birth_month[j]));
        // Both flags, without a branch (a bitwise 'and' of 0/1 values).
        const bool woman = (static_cast<unsigned>(h.present[j] != 0) &
                            static_cast<unsigned>(h.has_mother[j] != 0)) != 0;
        cells[k] = select(woman, cell, spare);
      }
      parts[b].add(cells, m);
    }
  });
  for (const auto& part : parts) part.add_to(out, n_out);
  // The cohorts: those of one (street, sex) and age group are a contiguous run of birth
  // months, so each group is one sum over its run (ages below 0 are not born yet).
  const int newest = month - c.first_birth_month;  // cohort index of age 0
  for (int ss = 0; ss < c.n_streets * n_sexes; ++ss) {
    const std::int32_t* n = c.n.data() + static_cast<std::size_t>(ss) * c.n_cohorts;
    for (int g = 0; g < n_age_groups; ++g) {
      // Ages in months [60 g, 60 (g + 1)), the last group open-ended: cohorts
      // (newest − 60 (g + 1), newest − 60 g].
      const int k_end = std::min(c.n_cohorts, newest - 60 * g + 1);
      const int k_begin = g == n_age_groups - 1 ? 0 : std::max(0, newest - 60 * (g + 1) + 1);
      std::int32_t sum = 0;
      for (int k = k_begin; k < k_end; ++k) sum += n[k];
      out[ss * n_age_groups + g] += sum;
    }
  }
}

}  // namespace childsim
