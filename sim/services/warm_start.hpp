// warm_start: enrolments and waiting lists at their steady state in the run's first month.
//
// The synthetic population starts with nobody in a nursery or kindergarten place and nobody
// on a waiting list. Before the first month the services run for `services.spin_up_months`
// months (parameters.yaml) on the starting population at the ages its children had then:
// the kindergarten and nursery submodels only, each month in the usual order, with the
// facilities of the run's first month, no demography (nobody is born, dies or moves during
// the spin-up: a child born in the spin-up window is simply too young until its birth month)
// and nothing recorded. The spin-up's months are the months before the start (−N..−1): the
// monthly random streams are keyed on them, which no month of the run uses (docs/model.md §4.5),
// while the wishes fixed per child (stream month 0) are the run's own, so a family that sought
// care in the spin-up is the family that seeks it in the run. The result is the same at any
// thread count, because the spin-up is the same code as the run's services.
#pragma once

#include "sim/model/state.hpp"              // State
#include "sim/scenario/scenario.hpp"        // Scenario
#include "sim/services/service_params.hpp"  // ServiceParams

#include <memory>  // std::unique_ptr

namespace childsim {

/// The spin-up's scenario (start N months earlier, every month's capacity that of the run's
/// first month) and its service parameters.
struct WarmStart {
  Scenario scenario;
  ServiceParams params;
  int months = 0;
};

/// The warm start of a scenario, or null when it has no services or
/// `services.spin_up_months` is 0 (a cold start: everybody starts without a place).
std::unique_ptr<WarmStart> make_warm_start(const Scenario& sc);

/// Run the spin-up on a freshly built state (month 0, nothing placed yet); leaves the state
/// at month 0 with the places and waiting lists it reached (their months before the start,
/// negative), and with the households' HomeRows made (state.hpp: HomeRows, made before
/// month 0).
void warm_start_services(const WarmStart& warm, State& st);

}  // namespace childsim
