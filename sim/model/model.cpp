// model: the monthly step and the replicate loop.
#include "sim/model/model.hpp"

#include "sim/core/parallel.hpp"          // par::for_blocks
#include "sim/demography/demography.hpp"  // step_demography, retire_households
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/demography/residents.hpp"   // count_population
#include "sim/services/services.hpp"      // step_services

#include <algorithm>  // std::fill_n, std::copy

namespace childsim {
namespace {

// Children by street and year of age, counted per block and added up (integers).
void count_children(const State& st, int month, std::int32_t* by_street_age, std::size_t cells) {
  const Households& h = st.households;
  const Children& c = st.children;
  const std::size_t nb = par::n_blocks();
  std::vector<std::vector<std::int32_t>> parts(nb, std::vector<std::int32_t>(cells, 0));
  par::for_blocks(c.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
    std::int32_t* o = parts[b].data();
    for (std::size_t i = begin; i < end; ++i) {
      if (!c.present[i]) continue;
      const int s = h.street[static_cast<std::size_t>(c.household[i])];
      const int age = age_in_months(month, c.birth_month[i]) / 12;
      o[s * Rates::n_child_ages + age] += 1;
    }
  });
  par::add_counts(parts, by_street_age);
}

void record_month(const State& st, const MonthFlows& f, io::Recorder& rec) {
  const int r = st.replicate, t = st.month;
  const std::size_t ns = f.births.size();
  std::copy(f.births.begin(), f.births.end(), rec.block("births", r, t));
  std::copy(f.births_by_parity.begin(), f.births_by_parity.end(),
            rec.block("births_by_parity", r, t));
  std::copy(f.deaths.begin(), f.deaths.end(), rec.block("deaths", r, t));
  std::copy(f.moves_in.begin(), f.moves_in.end(), rec.block("moves_in", r, t));
  std::copy(f.moves_out.begin(), f.moves_out.end(), rec.block("moves_out", r, t));
  std::copy(f.aged_out.begin(), f.aged_out.end(), rec.block("aged_out", r, t));

  // Children by age, women 18–49 and all residents by age group: one pass (residents.hpp).
  std::int32_t* by_age = rec.block("residents_by_age", r, t);
  count_population(st, t, rec.block("population", r, t), rec.block("women", r, t), by_age);
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
  count_children(st, 0, rec.block("population_start", st.replicate),
                 rec.block_size("population_start"));
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
