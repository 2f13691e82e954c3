// model: the monthly step and the replicate loop.
#include "sim/model/model.hpp"

#include "sim/core/check.hpp"             // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"          // par::for_blocks
#include "sim/demography/demography.hpp"  // step_demography, retire_households
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/services/services.hpp"      // step_services

#include <algorithm>  // std::copy, std::max, std::min

namespace childsim {

// The agent tables and the resident counts in one parallel region: block b counts its share
// of the children's rows, of the households' rows and of the count cells. It was three passes
// (children, women, and count_residents_by_age over the same rows again), each a parallel
// region, and each reading the children's street through their household row.
// (Tried and not kept, for no measurable gain at 1 thread: interleaved histograms per block
// and a branch-free women's loop. The loops wait on memory, not on the increments.)
void count_population(const State& st, int month, int n_streets, const PopulationCounts& out) {
  const Households& h = st.households;
  const Children& c = st.children;
  const ResidentCounts& rc = st.residents;
  const auto ns = static_cast<std::size_t>(n_streets);
  const std::size_t child_cells = out.children ? ns * Rates::n_child_ages : 0;
  const std::size_t woman_cells = out.women ? ns * Rates::n_women_ages : 0;
  const std::size_t resident_cells = out.residents ? ns * n_sexes * n_age_groups : 0;
  // Households are read for the women and for the residents; count cells for the residents.
  const std::size_t n_c = out.children || out.residents ? c.size() : 0;
  const std::size_t n_h = out.women || out.residents ? h.size() : 0;
  const std::size_t n_cells = out.residents ? rc.n.size() : 0;
  const std::size_t nb = par::n_blocks();
  const std::size_t stride = child_cells + woman_cells + resident_cells;  // per block
  std::vector<std::int32_t> cells(nb * stride, 0);
  // Raw pointers: through the vectors, every increment would make the compiler reload their
  // data pointers (an int32 store may alias them).
  const std::uint8_t* const c_present = c.present.data();
  const std::int32_t* const c_household = c.household.data();
  const std::int32_t* const c_birth = c.birth_month.data();
  const std::uint8_t* const c_sex = c.sex.data();
  const std::int16_t* const h_street = h.street.data();
  const std::uint8_t* const h_present = h.present.data();
  const std::uint8_t* const h_mother = h.has_mother.data();
  const std::int32_t* const h_birth = h.mother_birth_month.data();
  const std::int32_t* const rc_n = rc.n.data();
  const bool children = out.children != nullptr, women = out.women != nullptr,
             residents = out.residents != nullptr;
  par::for_blocks(nb, nb, [&](std::size_t b, std::size_t, std::size_t) {
    std::int32_t* const o_children = cells.data() + b * stride;
    std::int32_t* const o_women = o_children + child_cells;
    std::int32_t* const o_residents = o_women + woman_cells;
    auto resident = [o_residents](int street, int sex, int age_years, std::int32_t n) {
      o_residents[(street * n_sexes + sex) * n_age_groups + age_group(age_years)] += n;
    };
    for (std::size_t i = n_c * b / nb, e = n_c * (b + 1) / nb; i < e; ++i) {
      if (!c_present[i]) continue;
      const int s = h_street[static_cast<std::size_t>(c_household[i])];
      const int age = age_in_months(month, c_birth[i]) / 12;
      if (children) o_children[s * Rates::n_child_ages + age] += 1;
      if (residents) resident(s, c_sex[i], age, 1);
    }
    for (std::size_t i = n_h * b / nb, e = n_h * (b + 1) / nb; i < e; ++i) {
      if (!h_present[i] || !h_mother[i]) continue;
      const int s = h_street[i];
      const int age = age_in_months(month, h_birth[i]) / 12;
      if (women && age >= 18 && age <= 49) o_women[s * Rates::n_women_ages + age - 18] += 1;
      if (residents) resident(s, female, age, 1);
    }
    for (std::size_t cell = n_cells * b / nb, e = n_cells * (b + 1) / nb; cell < e; ++cell) {
      const std::int32_t n = rc_n[cell];
      if (n == 0) continue;
      const int k = static_cast<int>(cell % static_cast<std::size_t>(rc.n_cohorts));
      const int street_sex = static_cast<int>(cell / static_cast<std::size_t>(rc.n_cohorts));
      const int age = month - (rc.first_birth_month + k);
      if (age < 0) continue;
      resident(street_sex / n_sexes, street_sex % n_sexes, age / 12, n);
    }
  });
  for (std::size_t b = 0; b < nb; ++b) {
    const std::int32_t* o = cells.data() + b * stride;
    for (std::size_t j = 0; j < child_cells; ++j) out.children[j] += o[j];
    o += child_cells;
    for (std::size_t j = 0; j < woman_cells; ++j) out.women[j] += o[j];
    o += woman_cells;
    for (std::size_t j = 0; j < resident_cells; ++j) out.residents[j] += o[j];
  }
}

namespace {

// Ages in months from the start of age group g to that of g + 1 (the last group has no end;
// nobody's age reaches the bound used for it).
constexpr int group_months = 60;
constexpr int no_age_limit = 1 << 24;
int group_end(int g) {
  return g == n_age_groups - 1 ? no_age_limit : group_months * (g + 1);
}

}  // namespace

void count_population_from_census(const State& st, int month, int n_streets,
                                  const PopulationCounts& out) {
  const AgentCensus& a = st.census;
  const ResidentCounts& rc = st.residents;
  CHILDSIM_CHECK(a.enabled(), "the agent census is not kept");
  const int nb = a.n_birth_months;
  // In parallel over streets: each writes only its own cells of the outputs (it was a serial
  // loop of the main thread each month).
  par::for_each_unit(static_cast<std::size_t>(n_streets), [&](std::size_t street) {
    const int s = static_cast<int>(street);
    for (int sex = 0; sex < n_sexes; ++sex) {
      const std::size_t row = static_cast<std::size_t>(s * n_sexes + sex);
      const std::int32_t* children = a.children.data() + row * static_cast<std::size_t>(nb);
      // Children are 0–17 (age_out leaves none older at the census); a year of age is 12
      // birth months.
      for (int y = 0; y < Rates::n_child_ages; ++y) {
        const std::int32_t n =
            sum_of_ages(children, a.first_birth_month, nb, month, 12 * y, 12 * (y + 1));
        if (out.children) out.children[s * Rates::n_child_ages + y] += n;
        if (out.residents)
          out.residents[row * n_age_groups + static_cast<std::size_t>(age_group(y))] += n;
      }
      if (!out.residents) continue;
      std::int32_t* o = out.residents + row * n_age_groups;
      const std::int32_t* counts = rc.n.data() + row * static_cast<std::size_t>(rc.n_cohorts);
      for (int g = 0; g < n_age_groups; ++g)
        o[g] += sum_of_ages(counts, rc.first_birth_month, rc.n_cohorts, month, group_months * g,
                            group_end(g));
      if (sex != female) continue;
      const std::int32_t* women = a.women.data() + static_cast<std::size_t>(s) * nb;
      for (int g = 0; g < n_age_groups; ++g)
        o[g] += sum_of_ages(women, a.first_birth_month, nb, month, group_months * g, group_end(g));
    }
    if (!out.women) return;
    const std::int32_t* women = a.women.data() + static_cast<std::size_t>(s) * nb;
    for (int y = 18; y < 18 + Rates::n_women_ages; ++y)
      out.women[s * Rates::n_women_ages + y - 18] +=
          sum_of_ages(women, a.first_birth_month, nb, month, 12 * y, 12 * (y + 1));
  });
}

namespace {

void record_month(const State& st, const MonthFlows& f, io::Recorder& rec) {
  const int r = st.replicate, t = st.month;
  const std::size_t ns = f.births.size();
  std::int32_t* by_age = rec.block("residents_by_age", r, t);
  const PopulationCounts out{rec.block("population", r, t), rec.block("women", r, t), by_age};
  if (st.census.enabled()) {
    count_population_from_census(st, t, static_cast<int>(ns), out);
  } else {
    count_population(st, t, static_cast<int>(ns), out);  // a state built by hand
  }
  std::copy(f.births.begin(), f.births.end(), rec.block("births", r, t));
  std::copy(f.births_by_parity.begin(), f.births_by_parity.end(),
            rec.block("births_by_parity", r, t));
  std::copy(f.deaths.begin(), f.deaths.end(), rec.block("deaths", r, t));
  std::copy(f.moves_in.begin(), f.moves_in.end(), rec.block("moves_in", r, t));
  std::copy(f.moves_out.begin(), f.moves_out.end(), rec.block("moves_out", r, t));
  std::copy(f.aged_out.begin(), f.aged_out.end(), rec.block("aged_out", r, t));

  std::int32_t* residents = rec.block("residents", r, t);
  constexpr std::size_t per_street = n_sexes * n_age_groups;
  for (std::size_t s = 0; s < ns; ++s)
    for (std::size_t k = 0; k < per_street; ++k) residents[s] += by_age[s * per_street + k];
  std::copy(f.migrants_in.begin(), f.migrants_in.end(), rec.block("migrants_in", r, t));
  std::copy(f.migrants_out.begin(), f.migrants_out.end(), rec.block("migrants_out", r, t));
  std::copy(f.movers_in.begin(), f.movers_in.end(), rec.block("movers_in", r, t));
  std::copy(f.movers_out.begin(), f.movers_out.end(), rec.block("movers_out", r, t));
  std::copy(f.resident_deaths.begin(), f.resident_deaths.end(), rec.block("resident_deaths", r, t));
}

}  // namespace

Model::Model(const Scenario& sc)
    : scenario(sc),
      counts(initial_counts(sc)),
      rates(make_rates(sc, counts)),
      services(make_service_params(sc)),
      warm(make_warm_start(sc)) {}

void record_start(const State& st, io::Recorder& rec) {
  // Ages at the start are those of month 0.
  PopulationCounts out;
  out.children = rec.block("population_start", st.replicate);
  count_population(st, 0, static_cast<int>(rec.dim_size("street")), out);
}

void record_parameters(const Scenario& sc, int replicate, io::Recorder& rec) {
  double* v = rec.real_block("parameter_value", replicate);
  for (const auto& p : sc.base.parameters.rows()) *v++ = p.value;
}

void step_month(const Model& m, State& st, io::Recorder& rec) {
  MonthFlows flows(m.rates.n_streets);
  step_demography(st, m.scenario, m.rates, flows);
  record_month(st, flows, rec);
  if (m.scenario.services) {
    ServiceContext cx{m.scenario, m.services};
    cx.settle_first_month = m.warm == nullptr;  // a warm start has settled in its spin-up
    step_services(cx, st, rec);
  }
  retire_households(st);
  // Rows that left stay (flagged) until the end of the year: compaction copies every array,
  // and doing it monthly cost a fifth of the run time. Row order, and so the results, are the
  // same whenever it happens.
  if (st.month % 12 == 11) compact(st);
}

void run_replicate(const Model& m, int replicate, io::Recorder& rec,
                   const std::function<void(int)>& on_month, State* memory) {
  par::between_months();  // a busy machine: the starting population's loops on one thread
  State st = build_initial_state(m.scenario, m.rates, m.counts, replicate,
                                 memory != nullptr ? std::move(*memory) : State{});
  record_start(st, rec);
  if (m.warm) warm_start_services(*m.warm, st);  // enrolments and lists at steady state
  record_parameters(m.scenario, replicate, rec);
  if (replicate == 0) record_facilities(m.scenario, rec);
  for (int t = 0; t < m.rates.n_months; ++t) {
    st.month = t;
    par::between_months();  // a busy machine: this month's loops on one thread
    step_month(m, st, rec);
    if (on_month) on_month(t);
  }
  // The tables' memory handed on, emptied; the steps' buffers freed now, so that what runs
  // until the next replicate (the sink writing this one out) can use their room.
  if (memory != nullptr) *memory = recycled(std::move(st));
}

}  // namespace childsim
