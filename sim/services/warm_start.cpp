// warm_start: the services' spin-up before the first month.
#include "sim/services/warm_start.hpp"

#include "sim/io/recorder.hpp"        // Recorder (a scratch one: the spin-up records nothing)
#include "sim/services/services.hpp"  // step_kindergarten, step_nursery

#include <cmath>  // std::lround

namespace childsim {
namespace {

// Move every month stamp of the children by `months` (exact: integers).
void shift_months(State& st, int months) {
  Children& c = st.children;
  for (std::size_t i = 0; i < c.size(); ++i) {
    c.birth_month[i] += months;
    c.nursery_since[i] += months;
    c.waiting_since[i] += months;
    c.kindergarten_since[i] += months;
  }
}

}  // namespace

std::unique_ptr<WarmStart> make_warm_start(const Scenario& sc) {
  const int n = static_cast<int>(std::lround(sc.base.parameters["services.spin_up_months"]));
  if (!sc.services || n <= 0) return nullptr;
  auto w = std::make_unique<WarmStart>(WarmStart{sc, ServiceParams{}, n});
  Scenario& sp = w->scenario;
  sp.start = sc.start.plus(-n);
  sp.end = sc.start.plus(-1);
  Facilities& F = sp.facilities;
  F.n_months = n;
  F.capacity_schedule.assign(F.size() * static_cast<std::size_t>(n), 0);
  F.running_cost_schedule.assign(F.size() * static_cast<std::size_t>(n), 0.0);
  F.capital_cost_schedule.assign(F.size() * static_cast<std::size_t>(n), 0.0);
  for (std::size_t f = 0; f < F.size(); ++f)
    for (int t = 0; t < n; ++t) F.capacity_schedule[F.at(f, t)] = sc.facilities.capacity(f, 0);
  sp.investments.clear();
  w->params = make_service_params(sp);
  return w;
}

void warm_start_services(const WarmStart& warm, State& st) {
  const int n = warm.months;
  shift_months(st, n);  // month m of the spin-up is month m − n of the run
  io::Recorder scratch(warm.scenario, 1, st.replicate);
  ServiceContext cx{warm.scenario, warm.params};
  cx.rng_month_shift = -n;
  cx.settle_first_month = true;
  for (int m = 0; m < n; ++m) {
    st.month = m;
    step_kindergarten(cx, st, scratch);
    step_nursery(cx, st, scratch);
  }
  shift_months(st, -n);
  st.month = 0;
}

}  // namespace childsim
