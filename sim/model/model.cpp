// model: the monthly step and the replicate loop.
#include "sim/model/model.hpp"

#include "sim/core/parallel.hpp"          // par::for_blocks
#include "sim/demography/demography.hpp"  // step_demography, retire_households
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/demography/residents.hpp"   // count_residents_by_age
#include "sim/services/services.hpp"      // step_services

#include <algorithm>  // std::fill_n, std::copy

namespace childsim {

// Both tables in one parallel region (it was two a month, each a wake-up of the threads):
// block b counts its share of the children's rows and the same share of the households' rows.
// (Tried and not kept, for no measurable gain at 1 thread: interleaved histograms per block
// and a branch-free women's loop. The loop is memory-bound: the children's street is a
// gather through their household row.)
void count_population(const State& st, int month, std::int32_t* children, std::size_t child_cells,
                      std::int32_t* women, std::size_t woman_cells) {
  const Households& h = st.households;
  const Children& c = st.children;
  const std::size_t nb = par::n_blocks();
  const std::size_t n_h = women ? h.size() : 0;
  const std::size_t stride = child_cells + woman_cells;  // per block: children's, women's cells
  std::vector<std::int32_t> cells(nb * stride, 0);
  // Raw pointers: through the vectors, every increment would make the compiler reload their
  // data pointers (an int32 store may alias them).
  const std::uint8_t* const c_present = c.present.data();
  const std::int32_t* const c_household = c.household.data();
  const std::int32_t* const c_birth = c.birth_month.data();
  const std::int16_t* const h_street = h.street.data();
  const std::uint8_t* const h_present = h.present.data();
  const std::uint8_t* const h_mother = h.has_mother.data();
  const std::int32_t* const h_birth = h.mother_birth_month.data();
  par::for_blocks(c.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int32_t* const o = cells.data() + b * stride;
    for (std::size_t i = begin; i < end; ++i) {
      if (!c_present[i]) continue;
      const int s = h_street[static_cast<std::size_t>(c_household[i])];
      const int age = age_in_months(month, c_birth[i]) / 12;
      o[s * Rates::n_child_ages + age] += 1;
    }
    std::int32_t* const w = o + child_cells;
    for (std::size_t i = n_h * b / nb, e = n_h * (b + 1) / nb; i < e; ++i) {
      if (!h_present[i] || !h_mother[i]) continue;
      const int age = age_in_months(month, h_birth[i]) / 12;
      if (age >= 18 && age <= 49) w[h_street[i] * Rates::n_women_ages + age - 18] += 1;
    }
  });
  for (std::size_t b = 0; b < nb; ++b) {
    const std::int32_t* o = cells.data() + b * stride;
    for (std::size_t j = 0; j < child_cells; ++j) children[j] += o[j];
    for (std::size_t j = 0; j < woman_cells; ++j) women[j] += o[child_cells + j];
  }
}

namespace {

void record_month(const State& st, const MonthFlows& f, io::Recorder& rec) {
  const int r = st.replicate, t = st.month;
  const std::size_t ns = f.births.size();
  count_population(st, t, rec.block("population", r, t), rec.block_size("population"),
                   rec.block("women", r, t), rec.block_size("women"));
  std::copy(f.births.begin(), f.births.end(), rec.block("births", r, t));
  std::copy(f.births_by_parity.begin(), f.births_by_parity.end(),
            rec.block("births_by_parity", r, t));
  std::copy(f.deaths.begin(), f.deaths.end(), rec.block("deaths", r, t));
  std::copy(f.moves_in.begin(), f.moves_in.end(), rec.block("moves_in", r, t));
  std::copy(f.moves_out.begin(), f.moves_out.end(), rec.block("moves_out", r, t));
  std::copy(f.aged_out.begin(), f.aged_out.end(), rec.block("aged_out", r, t));

  std::int32_t* by_age = rec.block("residents_by_age", r, t);
  count_residents_by_age(st, t, by_age);
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
  count_population(st, 0, rec.block("population_start", st.replicate),
                   rec.block_size("population_start"), nullptr, 0);
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
                   const std::function<void(int)>& on_month) {
  State st = build_initial_state(m.scenario, m.rates, m.counts, replicate);
  record_start(st, rec);
  if (m.warm) warm_start_services(*m.warm, st);  // enrolments and lists at steady state
  record_parameters(m.scenario, replicate, rec);
  if (replicate == 0) record_facilities(m.scenario, rec);
  for (int t = 0; t < m.rates.n_months; ++t) {
    st.month = t;
    step_month(m, st, rec);
    if (on_month) on_month(t);
  }
}

}  // namespace childsim
