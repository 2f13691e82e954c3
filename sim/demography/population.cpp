// population: building the starting population and adding families.
#include "sim/demography/population.hpp"

#include "sim/core/agent_ids.hpp"        // ids::
#include "sim/core/check.hpp"            // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"         // par::for_each_unit
#include "sim/core/philox_batch.hpp"     // BufferedStream
#include "sim/core/rng.hpp"              // Stream
#include "sim/demography/residents.hpp"  // build_resident_counts

#include <boost/random/normal_distribution.hpp>  // boost::random::normal_distribution

#include <algorithm>   // std::max
#include <cmath>       // std::exp, std::llround
#include <functional>  // std::function
#include <vector>      // std::vector

namespace childsim {
void draw_home(const Scenario& sc, int street, double u1, double u2, float& x_m, float& y_m) {
  double x = 0, y = 0;
  sc.base.point_in_street(street, u1, u2, x, y);
  x_m = static_cast<float>(x);
  y_m = static_cast<float>(y);
}

HouseholdRow draw_household(const Scenario& sc, const Rates& r, int replicate, std::uint64_t id,
                            int street, std::int32_t mother_birth_month) {
  Stream rng(sc.seed, static_cast<std::uint32_t>(replicate), id, 0, Purpose::household_attributes);
  HouseholdRow h;
  h.id = id;
  h.street = static_cast<std::int16_t>(street);
  const double u1 = rng.uniform(), u2 = rng.uniform();
  draw_home(sc, street, u1, u2, h.x_m, h.y_m);
  h.mother_birth_month = mother_birth_month;
  h.partnered = rng.bernoulli(r.p_partnered);
  h.mother_works = rng.bernoulli(r.p_mother_works);
  // Draw every attribute whether or not it applies, so that each keeps its place in the
  // stream (common random numbers between scenarios).
  // Kept whether or not a partner lives there now: a single woman may form a couple later
  // (services read it only for partnered households).
  h.partner_works = rng.bernoulli(r.p_partner_works);
  h.grandparent_care = rng.bernoulli(r.p_grandparent);
  const double u = rng.uniform();
  h.income_band = u < r.p_income_low ? 0 : (u < 1.0 - r.p_income_high ? 1 : 2);
  h.hukou_local = rng.bernoulli(r.p_hukou_local);
  boost::random::normal_distribution<float> normal(0.0f, 1.0f);
  h.taste = normal(rng);
  return h;
}

void set_household(Households& h, std::size_t i, const HouseholdRow& row) {
  h.id[i] = row.id;
  h.street[i] = row.street;
  h.x_m[i] = row.x_m;
  h.y_m[i] = row.y_m;
  h.mother_birth_month[i] = row.mother_birth_month;
  h.has_mother[i] = 1;
  h.partnered[i] = row.partnered;
  h.mother_works[i] = row.mother_works;
  h.partner_works[i] = row.partner_works;
  h.grandparent_care[i] = row.grandparent_care;
  h.income_band[i] = row.income_band;
  h.hukou_local[i] = row.hukou_local;
  h.taste[i] = row.taste;
  h.n_children[i] = row.n_children;
  h.parity[i] = row.parity;
  h.last_birth_month[i] = row.last_birth_month;
  h.present[i] = 1;
}

int append_household(State& st, const HouseholdRow& row) {
  Households& h = st.households;
  const std::size_t i = h.size();
  for_each_household_column([&](auto& v) { v.emplace_back(); }, h);
  set_household(h, i, row);
  st.census.add_woman(h, i, 1);
  return static_cast<int>(i);
}

int add_household(State& st, const Scenario& sc, const Rates& r, std::uint64_t id, int street,
                  std::int32_t mother_birth_month) {
  return append_household(st, draw_household(sc, r, st.replicate, id, street, mother_birth_month));
}

void record_past_birth(State& st, int row, std::int32_t birth_month) {
  Households& h = st.households;
  const auto i = static_cast<std::size_t>(row);
  change_woman(st, i, [&] {
    if (h.parity[i] < 255) h.parity[i] += 1;
  });
  h.last_birth_month[i] = std::max(h.last_birth_month[i], birth_month);
}

bool partnered_on_entry(const Rates& r, int month, std::int32_t mother_birth_month, double u) {
  const double years = (month - mother_birth_month) / 12.0 - arriving_woman_min_age;
  return years > 0 && u < 1.0 - std::exp(-r.partnering_rate * years);
}

void settle_partnership(State& st, const Rates& r, int row, int month, double u) {
  Households& h = st.households;
  const auto i = static_cast<std::size_t>(row);
  if (h.parity[i] > 0) return;  // mothers keep household.partnered
  change_woman(st, i,
               [&] { h.partnered[i] = partnered_on_entry(r, month, h.mother_birth_month[i], u); });
}

std::uint8_t draw_child_sex(const Scenario& sc, const Rates& r, int replicate, std::uint64_t id) {
  Stream rng(sc.seed, static_cast<std::uint32_t>(replicate), id, 0, Purpose::child_attributes);
  return rng.bernoulli(r.p_boy);
}

namespace {

// Row `i` of `c` (which must exist): a child present, with no place and no list.
void set_child(Children& c, std::size_t i, std::uint64_t id, int household,
               std::int32_t birth_month, std::uint8_t sex) {
  c.id[i] = id;
  c.household[i] = household;
  c.birth_month[i] = birth_month;
  c.sex[i] = sex;
  c.present[i] = 1;
  c.nursery[i] = -1;
  c.nursery_since[i] = -1;
  c.waiting[i] = -1;
  c.waiting_since[i] = -1;
  c.kindergarten[i] = -1;
  c.kindergarten_since[i] = -1;
  c.babyroom_year[i] = -1;
}

}  // namespace

int append_child(State& st, std::uint64_t id, int household, std::int32_t birth_month,
                 std::uint8_t sex) {
  Children& c = st.children;
  const std::size_t i = c.size();
  for_each_column([&](auto& v) { v.emplace_back(); }, c);
  set_child(c, i, id, household, birth_month, sex);
  st.households.n_children[static_cast<std::size_t>(household)] += 1;
  st.census.add_child(st.households.street[static_cast<std::size_t>(household)], sex, birth_month,
                      1);
  return static_cast<int>(i);
}

int add_child(State& st, const Scenario& sc, const Rates& r, std::uint64_t id, int household,
              std::int32_t birth_month) {
  return append_child(st, id, household, birth_month, draw_child_sex(sc, r, st.replicate, id));
}

void draw_arriving_family(const Scenario& sc, const Rates& r, int replicate, std::uint64_t id,
                          int street, int month, ArrivingFamily& out) {
  // About 70 words (two for each year of her age): 16 blocks at a time.
  BufferedStream rng(sc.seed, static_cast<std::uint32_t>(replicate), id,
                     static_cast<std::uint32_t>(month), Purpose::initial_population);
  const int mother_age = arriving_woman_min_age + draw_index(r.in_age_cdf, rng.uniform());
  const int mother_months = 12 * mother_age + static_cast<int>(rng() % 12u);
  out.household = draw_household(sc, r, replicate, id, street, month - mother_months);
  HouseholdRow& h = out.household;
  // Her past births: one chance in each completed year of age y (at month w of that year),
  // two words per year whether used or not, so the draws keep their roles.
  int k = 0;
  for (int y = arriving_woman_min_age; y < arriving_woman_min_age + Rates::n_women_ages; ++y) {
    const double u = rng.uniform();
    const int w = static_cast<int>(rng() % 12u);
    if (y >= mother_age || !(u < r.in_birth_prob[static_cast<std::size_t>(y - 18)])) continue;
    const int age_months = mother_months - (12 * y + w);
    if (h.parity < 255) h.parity += 1;  // record_past_birth
    h.last_birth_month = std::max(h.last_birth_month, month - age_months);
    if (age_months >= 12 * 18) continue;  // an adult child, not in the child tables
    const std::uint64_t child = ids::arriving_child(id, y);
    out.children[k++] = {child, month - age_months, draw_child_sex(sc, r, replicate, child)};
  }
  out.n_children = k;
  // A partner is a man of the resident counts; men arrive by their own schedule
  // (residents.hpp), so the family brings only the woman and her children.
  const double u = rng.uniform();
  if (h.parity == 0) h.partnered = partnered_on_entry(r, month, h.mother_birth_month, u);
}

int append_arriving_family(State& st, const ArrivingFamily& family) {
  // Her row as it is after her past births and partnership: the census counts her once, as
  // the sum of the changes add_arriving_family made one by one did.
  const int row = append_household(st, family.household);
  for (int k = 0; k < family.n_children; ++k) {
    const ArrivingFamily::Child& c = family.children[k];
    append_child(st, c.id, row, c.birth_month, c.sex);
  }
  // Her last delivery may be within the birth interval (the births' counts: state.hpp).
  if (st.census.enabled() && family.household.last_birth_month != no_birth_month)
    st.census.recent_deliveries.push_back(static_cast<std::uint32_t>(row));
  return family.n_children;
}

void append_arriving_families(State& st, const ArrivingFamily* families, std::size_t n) {
  Households& h = st.households;
  Children& c = st.children;
  // Every column grown once for the month (17 push_backs a household and 12 a child, each
  // with its capacity check, were most of the serial time left in the arrivals).
  const std::size_t h0 = h.size(), c0 = c.size();
  std::size_t n_children = 0;
  for (std::size_t j = 0; j < n; ++j)
    n_children += static_cast<std::size_t>(families[j].n_children);
  for_each_household_column([&](auto& v) { v.resize(h0 + n); }, h);
  for_each_column([&](auto& v) { v.resize(c0 + n_children); }, c);
  std::size_t ci = c0;
  for (std::size_t j = 0; j < n; ++j) {
    const ArrivingFamily& family = families[j];
    const std::size_t i = h0 + j;
    set_household(h, i, family.household);
    st.census.add_woman(h, i, 1);
    for (int k = 0; k < family.n_children; ++k, ++ci) {
      const ArrivingFamily::Child& child = family.children[k];
      set_child(c, ci, child.id, static_cast<int>(i), child.birth_month, child.sex);
      h.n_children[i] += 1;
      st.census.add_child(h.street[i], child.sex, child.birth_month, 1);
    }
    if (st.census.enabled() && family.household.last_birth_month != no_birth_month)
      st.census.recent_deliveries.push_back(static_cast<std::uint32_t>(i));
  }
}

int add_arriving_family(State& st, const Scenario& sc, const Rates& r, std::uint64_t id, int street,
                        int month) {
  ArrivingFamily family;
  draw_arriving_family(sc, r, st.replicate, id, street, month, family);
  return append_arriving_family(st, family);
}

namespace {

// Resize every column of both tables, the columns shared among the threads: the pages of a
// new array are taken (page faults, zeroed by the kernel) when first written, and that was a
// fifth of building the population when done by one thread.
void resize_columns(Households& h, std::size_t n_h, Children& c, std::size_t n_c) {
  std::vector<std::function<void()>> jobs;
  for_each_household_column([&](auto& v) { jobs.emplace_back([&v, n_h] { v.resize(n_h); }); }, h);
  for_each_column([&](auto& v) { jobs.emplace_back([&v, n_c] { v.resize(n_c); }); }, c);
  par::for_each_unit(jobs.size(), [&](std::size_t k) { jobs[k](); });
}

// A child of the start as drawn from its own stream: its age, and its mother, a woman of the
// street (index among the street's women) or an older mother not among them (her age in
// months; woman −1).
struct StartChild {
  std::int32_t age_months;
  std::int32_t woman;
  std::int32_t older_mother_months;
};

}  // namespace

// The rows are those of a loop over streets, then women by age, then children by age, each
// child attached to a woman of its mother's age or (an older mother) to a new household made
// then; household ids number the rows, child ids the children (ids::initial_household,
// initial_child). That loop drew everything on one thread (~5 % of a replicate at 2 threads);
// here each agent's draws (its own streams: the order of drawing does not matter) run in
// parallel, and only the numbering of the older mothers' rows, which depends on the children
// before them, is a serial pass over the children.
State build_initial_state(const Scenario& sc, const Rates& r, const InitialCounts& counts,
                          int replicate, State&& used) {
  State st = recycled(std::move(used));
  st.replicate = replicate;
  const int ns = sc.base.n_streets();
  const auto n_s = static_cast<std::size_t>(ns);
  const auto rep = static_cast<std::uint32_t>(replicate);
  // Runs of agents of one street and one year of age: women_first[s × 33 + a] is the index,
  // among the street's women, of the first woman aged 18 + a (…[s × 33 + 32]: the street's
  // women); child_first[s × 19 + a] the index of the first child of street s aged a
  // (…[s × 19 + 18]: that of street s + 1).
  constexpr std::size_t wa = Rates::n_women_ages + 1, ca = Rates::n_child_ages + 1;
  std::vector<std::int32_t> women_first(n_s * wa, 0);
  std::vector<std::size_t> child_first(n_s * ca, 0);
  std::size_t n_women = 0, n_children = 0;
  for (std::size_t s = 0; s < n_s; ++s) {
    std::int32_t w = 0;
    for (std::size_t a = 0; a < Rates::n_women_ages; ++a) {
      women_first[s * wa + a] = w;
      w += counts.women[s][a];
    }
    women_first[s * wa + Rates::n_women_ages] = w;
    n_women += static_cast<std::size_t>(w);
    for (std::size_t a = 0; a < Rates::n_child_ages; ++a) {
      child_first[s * ca + a] = n_children;
      n_children += static_cast<std::size_t>(counts.children[s][a]);
    }
    child_first[s * ca + Rates::n_child_ages] = n_children;
    const std::size_t street_children = n_children - child_first[s * ca];
    CHILDSIM_CHECK(static_cast<std::int64_t>(street_children) <= std::llround(counts.residents[s]),
                   "a street has more children than residents");
  }
  // Room for the rows of the start (at most one household per woman and per child: older
  // mothers) and a quarter more for the run's arrivals between compactions: growing by
  // reallocation copied every array and touched twice its pages. Pages reserved and never
  // written cost nothing.
  const std::size_t household_rows = (n_women + n_children) * 5 / 4,
                    child_rows = n_children * 5 / 4;
  Households& h = st.households;
  Children& c = st.children;
  for_each_household_column([&](auto& v) { v.reserve(household_rows); }, h);
  for_each_column([&](auto& v) { v.reserve(child_rows); }, c);
  resize_columns(h, 0, c, n_children);

  // 1. The children, in parallel over runs of one street and age: their own stream gives the
  // age in months, the mother's age at the birth and which woman of that age is the mother.
  std::vector<StartChild> drawn(n_children);
  par::for_each_unit(n_s * Rates::n_child_ages, [&](std::size_t unit) {
    const std::size_t s = unit / Rates::n_child_ages, a = unit % Rates::n_child_ages;
    for (std::size_t j = child_first[s * ca + a]; j < child_first[s * ca + a + 1]; ++j) {
      const std::uint64_t id = ids::initial_child(j);
      Stream rng(sc.seed, rep, id, 0, Purpose::initial_population);
      StartChild& d = drawn[j];
      d.age_months = 12 * static_cast<int>(a) + static_cast<int>(rng() % 12u);
      const int mother_age_at_birth = 18 + draw_index(r.asfr_cdf, rng.uniform());
      const int mother_age = static_cast<int>(a) + mother_age_at_birth;
      d.woman = -1;
      if (mother_age <= 49) {
        const std::size_t k = s * wa + static_cast<std::size_t>(mother_age - 18);
        const auto pool = static_cast<std::size_t>(women_first[k + 1] - women_first[k]);
        if (pool > 0) d.woman = women_first[k] + static_cast<std::int32_t>(rng() % pool);
      }
      // An older mother (50+) not among the women 18–49.
      d.older_mother_months = d.woman < 0 ? 12 * mother_age + static_cast<int>(rng() % 12u) : 0;
      set_child(c, j, id, -1, -d.age_months, draw_child_sex(sc, r, replicate, id));
    }
  });

  // 2. The household rows, serially: a street's women, then the households of its children's
  // older mothers in the children's order. (Written to c.household; the row of a child with
  // a woman of the street is filled in step 4.)
  std::vector<std::size_t> street_first(n_s + 1, 0);  // first household row of each street
  std::size_t n_households = 0;
  for (std::size_t s = 0; s < n_s; ++s) {
    street_first[s] = n_households;
    n_households += static_cast<std::size_t>(women_first[s * wa + Rates::n_women_ages]);
    for (std::size_t j = child_first[s * ca]; j < child_first[(s + 1) * ca - 1]; ++j)
      if (drawn[j].woman < 0) c.household[j] = static_cast<std::int32_t>(n_households++);
  }
  street_first[n_s] = n_households;
  resize_columns(h, n_households, c, n_children);

  // 3. The households, in parallel over runs of women of one street and age, and over the
  // streets' older mothers: each drawn from its own streams.
  par::for_each_unit(n_s * wa, [&](std::size_t unit) {
    const std::size_t s = unit / wa, a = unit % wa;
    const auto street = static_cast<int>(s);
    if (a < Rates::n_women_ages) {
      for (auto w = static_cast<std::size_t>(women_first[s * wa + a]);
           w < static_cast<std::size_t>(women_first[s * wa + a + 1]); ++w) {
        const std::size_t i = street_first[s] + w;
        const std::uint64_t id = ids::initial_household(i);
        Stream rng(sc.seed, rep, id, 0, Purpose::initial_population);
        const int months = 12 * (static_cast<int>(a) + 18) + static_cast<int>(rng() % 12u);
        set_household(h, i, draw_household(sc, r, replicate, id, street, -months));
      }
      return;
    }
    for (std::size_t j = child_first[s * ca]; j < child_first[(s + 1) * ca - 1]; ++j) {
      if (drawn[j].woman >= 0) continue;
      const auto i = static_cast<std::size_t>(c.household[j]);
      set_household(h, i,
                    draw_household(sc, r, replicate, ids::initial_household(i), street,
                                   -drawn[j].older_mother_months));
    }
  });

  // 4. Per street (a street's children are in its own households): each child attached to
  // its mother's row (n_children, parity, last delivery), in the children's order; then the
  // street's women without a child at home are partnered as a constant partnering rate from
  // age 18 implies (settle_partnership); their own stream, one word.
  par::for_each_unit(n_s, [&](std::size_t s) {
    for (std::size_t j = child_first[s * ca]; j < child_first[(s + 1) * ca - 1]; ++j) {
      if (drawn[j].woman >= 0)
        c.household[j] =
            static_cast<std::int32_t>(street_first[s] + static_cast<std::size_t>(drawn[j].woman));
      const auto i = static_cast<std::size_t>(c.household[j]);
      h.n_children[i] += 1;
      if (h.parity[i] < 255) h.parity[i] += 1;  // record_past_birth
      h.last_birth_month[i] = std::max(h.last_birth_month[i], c.birth_month[j]);
    }
    const std::size_t end =
        street_first[s] + static_cast<std::size_t>(women_first[s * wa + Rates::n_women_ages]);
    for (std::size_t i = street_first[s]; i < end; ++i) {
      if (h.parity[i] > 0) continue;  // mothers keep household.partnered
      Stream rng(sc.seed, rep, h.id[i], 1, Purpose::initial_population);
      h.partnered[i] = partnered_on_entry(r, 0, h.mother_birth_month[i], rng.uniform());
    }
  });
  build_resident_counts(st, counts, r.n_months);
  start_census(st, r.n_months);  // kept from here on at every event (state.hpp)
  return st;
}

}  // namespace childsim
