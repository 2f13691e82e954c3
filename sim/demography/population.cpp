// population: building the starting population and adding families.
#include "sim/demography/population.hpp"

#include "sim/core/agent_ids.hpp"        // ids::
#include "sim/core/check.hpp"            // CHILDSIM_CHECK
#include "sim/core/philox_batch.hpp"     // BufferedStream
#include "sim/core/rng.hpp"              // Stream
#include "sim/demography/residents.hpp"  // build_resident_counts

#include <boost/random/normal_distribution.hpp>  // boost::random::normal_distribution

#include <algorithm>  // std::max
#include <cmath>      // std::exp

namespace childsim {
void draw_home(const Scenario& sc, int street, double u1, double u2, float& x_m, float& y_m) {
  double x = 0, y = 0;
  sc.base.point_in_street(street, u1, u2, x, y);
  x_m = static_cast<float>(x);
  y_m = static_cast<float>(y);
}

int add_household(State& st, const Scenario& sc, const Rates& r, std::uint64_t id, int street,
                  std::int32_t mother_birth_month) {
  Households& h = st.households;
  Stream rng(sc.seed, static_cast<std::uint32_t>(st.replicate), id, 0,
             Purpose::household_attributes);
  float x = 0, y = 0;
  const double u1 = rng.uniform(), u2 = rng.uniform();
  draw_home(sc, street, u1, u2, x, y);
  h.id.push_back(id);
  h.street.push_back(static_cast<std::int16_t>(street));
  h.x_m.push_back(x);
  h.y_m.push_back(y);
  h.mother_birth_month.push_back(mother_birth_month);
  h.has_mother.push_back(1);
  h.partnered.push_back(rng.bernoulli(r.p_partnered));
  h.mother_works.push_back(rng.bernoulli(r.p_mother_works));
  // Draw every attribute whether or not it applies, so that each keeps its place in the
  // stream (common random numbers between scenarios).
  // Kept whether or not a partner lives there now: a single woman may form a couple later
  // (services read it only for partnered households).
  h.partner_works.push_back(rng.bernoulli(r.p_partner_works));
  h.grandparent_care.push_back(rng.bernoulli(r.p_grandparent));
  const double u = rng.uniform();
  h.income_band.push_back(u < r.p_income_low ? 0 : (u < 1.0 - r.p_income_high ? 1 : 2));
  h.hukou_local.push_back(rng.bernoulli(r.p_hukou_local));
  boost::random::normal_distribution<float> normal(0.0f, 1.0f);
  h.taste.push_back(normal(rng));
  h.n_children.push_back(0);
  h.parity.push_back(0);
  h.last_birth_month.push_back(no_birth_month);
  h.present.push_back(1);
  st.census.add_woman(h, h.size() - 1, 1);
  return static_cast<int>(h.size() - 1);
}

void record_past_birth(State& st, int row, std::int32_t birth_month) {
  Households& h = st.households;
  const auto i = static_cast<std::size_t>(row);
  change_woman(st, i, [&] {
    if (h.parity[i] < 255) h.parity[i] += 1;
  });
  h.last_birth_month[i] = std::max(h.last_birth_month[i], birth_month);
}

void settle_partnership(State& st, const Rates& r, int row, int month, double u) {
  Households& h = st.households;
  const auto i = static_cast<std::size_t>(row);
  if (h.parity[i] > 0) return;  // mothers keep household.partnered
  const double years = (month - h.mother_birth_month[i]) / 12.0 - arriving_woman_min_age;
  change_woman(
      st, i, [&] { h.partnered[i] = years > 0 && u < 1.0 - std::exp(-r.partnering_rate * years); });
}

int add_child(State& st, const Scenario& sc, const Rates& r, std::uint64_t id, int household,
              std::int32_t birth_month) {
  Children& c = st.children;
  Stream rng(sc.seed, static_cast<std::uint32_t>(st.replicate), id, 0, Purpose::child_attributes);
  c.id.push_back(id);
  c.household.push_back(household);
  c.birth_month.push_back(birth_month);
  c.sex.push_back(rng.bernoulli(r.p_boy));
  c.present.push_back(1);
  c.nursery.push_back(-1);
  c.nursery_since.push_back(-1);
  c.waiting.push_back(-1);
  c.waiting_since.push_back(-1);
  c.kindergarten.push_back(-1);
  c.kindergarten_since.push_back(-1);
  c.babyroom_year.push_back(-1);
  st.households.n_children[static_cast<std::size_t>(household)] += 1;
  st.census.add_child(st.households.street[static_cast<std::size_t>(household)], c.sex.back(),
                      birth_month, 1);
  return static_cast<int>(c.size() - 1);
}

int add_arriving_family(State& st, const Scenario& sc, const Rates& r, std::uint64_t id, int street,
                        int month) {
  // About 70 words (two for each year of her age): 16 blocks at a time.
  BufferedStream rng(sc.seed, static_cast<std::uint32_t>(st.replicate), id,
                     static_cast<std::uint32_t>(month), Purpose::initial_population);
  const int mother_age = arriving_woman_min_age + draw_index(r.in_age_cdf, rng.uniform());
  const int mother_months = 12 * mother_age + static_cast<int>(rng() % 12u);
  const int row = add_household(st, sc, r, id, street, month - mother_months);
  // Her past births: one chance in each completed year of age y (at month w of that year),
  // two words per year whether used or not, so the draws keep their roles.
  int k = 0;
  for (int y = arriving_woman_min_age; y < arriving_woman_min_age + Rates::n_women_ages; ++y) {
    const double u = rng.uniform();
    const int w = static_cast<int>(rng() % 12u);
    if (y >= mother_age || !(u < r.in_birth_prob[static_cast<std::size_t>(y - 18)])) continue;
    const int age_months = mother_months - (12 * y + w);
    record_past_birth(st, row, month - age_months);
    if (age_months >= 12 * 18) continue;  // an adult child, not in the child tables
    add_child(st, sc, r, ids::arriving_child(id, y), row, month - age_months);
    ++k;
  }
  // A partner is a man of the resident counts; men arrive by their own schedule
  // (residents.hpp), so the family brings only the woman and her children.
  settle_partnership(st, r, row, month, rng.uniform());
  // Her last delivery may be within the birth interval (the births' counts: state.hpp).
  const auto i = static_cast<std::size_t>(row);
  if (st.census.enabled() && st.households.last_birth_month[i] != no_birth_month)
    st.census.recent_deliveries.push_back(static_cast<std::uint32_t>(i));
  return k;
}

State build_initial_state(const Scenario& sc, const Rates& r, const InitialCounts& counts,
                          int replicate) {
  State st;
  st.replicate = replicate;
  const int ns = sc.base.n_streets();
  // Room for the rows of the start (at most one household per woman and per child: older
  // mothers) and a quarter more for the run's arrivals between compactions: growing by
  // reallocation copied every array and touched twice its pages (page faults were the
  // largest part of building the population). Pages reserved and never written cost nothing.
  std::size_t n_women = 0, n_children = 0;
  for (int s = 0; s < ns; ++s) {
    for (const int n : counts.women[static_cast<std::size_t>(s)])
      n_women += static_cast<std::size_t>(n);
    for (const int n : counts.children[static_cast<std::size_t>(s)])
      n_children += static_cast<std::size_t>(n);
  }
  const std::size_t household_rows = (n_women + n_children) * 5 / 4,
                    child_rows = n_children * 5 / 4;
  for_each_household_column([&](auto& v) { v.reserve(household_rows); }, st.households);
  for_each_column([&](auto& v) { v.reserve(child_rows); }, st.children);
  std::uint64_t next_household = 0, next_child = 0;
  const auto rep = static_cast<std::uint32_t>(replicate);
  for (int s = 0; s < ns; ++s) {
    // Women by single year of age; rows of each age are remembered to attach children.
    std::vector<std::vector<int>> women_of_age(Rates::n_women_ages);
    std::int64_t street_children = 0;
    for (int a = 0; a < Rates::n_women_ages; ++a) {
      for (int k = 0; k < counts.women[s][a]; ++k) {
        const std::uint64_t id = ids::initial_household(next_household++);
        Stream rng(sc.seed, rep, id, 0, Purpose::initial_population);
        const int months = 12 * (a + 18) + static_cast<int>(rng() % 12u);
        women_of_age[a].push_back(add_household(st, sc, r, id, s, -months));
      }
    }
    for (int a = 0; a < Rates::n_child_ages; ++a) {
      for (int k = 0; k < counts.children[s][a]; ++k) {
        const std::uint64_t id = ids::initial_child(next_child++);
        Stream rng(sc.seed, rep, id, 0, Purpose::initial_population);
        const int age_months = 12 * a + static_cast<int>(rng() % 12u);
        const int mother_age_at_birth = 18 + draw_index(r.asfr_cdf, rng.uniform());
        const int mother_age = a + mother_age_at_birth;
        int row = -1;
        if (mother_age <= 49) {
          const auto& pool = women_of_age[mother_age - 18];
          if (!pool.empty()) row = pool[rng() % pool.size()];
        }
        if (row < 0) {  // an older mother (50+) not among the women 18–49
          const std::uint64_t hid = ids::initial_household(next_household++);
          row =
              add_household(st, sc, r, hid, s, -(12 * mother_age + static_cast<int>(rng() % 12u)));
        }
        add_child(st, sc, r, id, row, -age_months);
        record_past_birth(st, row, -age_months);
        ++street_children;
      }
    }
    // Women without a child at home are partnered as a constant partnering rate from age 18
    // implies (settle_partnership); their own stream, one word.
    for (const auto& rows : women_of_age)
      for (int row : rows) {
        Stream rng(sc.seed, rep, st.households.id[static_cast<std::size_t>(row)], 1,
                   Purpose::initial_population);
        settle_partnership(st, r, row, 0, rng.uniform());
      }
    CHILDSIM_CHECK(street_children <= std::llround(counts.residents[s]),
                   "a street has more children than residents");
  }
  build_resident_counts(st, counts, r.n_months);
  start_census(st, r.n_months);  // kept from here on at every event (state.hpp)
  return st;
}

}  // namespace childsim
