// services: the child-service submodels, called once a month after demography, in a fixed
// order (docs/model.md, "Process overview"):
//   1. kindergarten  September intake and monthly placement of 3–5-year-olds; leaving for
//                    primary school (a kindergarten place ends a nursery place);
//   2. nursery       full-day care for children of nursery age: who wants it, where, waiting
//                    lists served in priority order, displacement when capacity falls;
//   3. baby rooms    short sessions for children under 3 not in full-day care;
//   4. holiday       summer and winter classes for primary pupils whose parents work;
//   5. clinic        paediatric visits, choice of provider, capacity, waiting and diversion;
//   6. access        the 15-minute walk and the distances of those served.
// Annual indicators are computed after the last month of each year.
#pragma once

#include "sim/io/recorder.hpp"              // Recorder
#include "sim/model/state.hpp"              // State
#include "sim/scenario/scenario.hpp"        // Scenario
#include "sim/services/service_params.hpp"  // ServiceParams

namespace childsim {

/// What the service submodels read: the scenario (facilities, capacity schedules) and their
/// parameters.
struct ServiceContext {
  const Scenario& scenario;
  const ServiceParams& params;
  /// Added to the month of the monthly random streams: −N in the warm start's spin-up
  /// (warm_start.hpp), whose month m is month m − N of the run; 0 in the run.
  int rng_month_shift = 0;
  /// Whether the nursery's first month stands for the allocation that exists before it
  /// (families whose choice is full settle where there is room): in a cold start, and in the
  /// first month of a warm start's spin-up.
  bool settle_first_month = true;
};

void step_kindergarten(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_nursery(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_babyroom(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_holiday(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_clinic(const ServiceContext& cx, State& st, io::Recorder& rec);
void step_access(const ServiceContext& cx, State& st, io::Recorder& rec);
/// After December (or the last month): the year's indicators.
void record_indicators(const ServiceContext& cx, const State& st, io::Recorder& rec);
/// Capacities and running costs (the same in every replicate; recorded once).
void record_facilities(const Scenario& sc, io::Recorder& rec);

/// All of the above for one month, in order.
void step_services(const ServiceContext& cx, State& st, io::Recorder& rec);

// Helpers shared by the submodels.

/// Every parent present in the household works (mother if present, partner if any).
bool all_parents_work(const Households& h, std::size_t row);
/// Where a facility's capacity in `month` is below `enrolled[f]`, the most recently enrolled
/// holders (latest `since`, then a fixed hash of the id) lose their place (`place` = -1)
/// until enrolment equals capacity. Returns the rows of the children displaced.
std::vector<std::size_t> displace_latest(const Facilities& F, int month,
                                         const std::vector<int>& facilities, const Children& c,
                                         std::vector<std::int32_t>& place,
                                         const std::vector<std::int32_t>& since,
                                         std::vector<std::int32_t>& enrolled);

/// Age in completed years at the most recent 1 September (the school-year rule).
int age_at_last_september(int month, int birth_month, YearMonth start);

}  // namespace childsim
