// facility_outputs: capacities and running costs of every facility (scenario inputs, recorded
// so that outputs can be read against them).
#include "sim/io/output_catalog.hpp"  // OutputSpec
#include "sim/services/services.hpp"  // record_facilities

namespace childsim {

namespace io {
std::vector<OutputSpec> facility_outputs() {
  return {
      {"facility_capacity",
       {"time", "facility"},
       "see facility_capacity_unit",
       "capacity of each facility",
       "places (nurseries, kindergartens), child-sessions per month (baby rooms), places per "
       "session (holiday classes) or doctor sessions per month (clinics); 0 when closed"},
      {"facility_running_cost",
       {"year", "facility"},
       "yuan",
       "running cost",
       "running cost spent in the year: the facility's yearly cost for each month it was open "
       "with capacity, plus the running costs of investments in effect",
       true},
      {"facility_capital_cost",
       {"year", "facility"},
       "yuan",
       "capital cost",
       "one-off capital cost of investments in the facility, in the year they take effect",
       true},
  };
}
}  // namespace io

void record_facilities(const Scenario& sc, io::Recorder& rec) {
  const Facilities& F = sc.facilities;
  for (int t = 0; t < sc.n_months(); ++t) {
    std::int32_t* cap = rec.block("facility_capacity", 0, t);
    double* cost = rec.real_block("facility_running_cost", 0, rec.year_index(t));
    double* capital = rec.real_block("facility_capital_cost", 0, rec.year_index(t));
    for (std::size_t f = 0; f < F.size(); ++f) {
      cap[f] = F.capacity(f, t);
      cost[f] += F.running_cost_schedule[F.at(f, t)];
      capital[f] += F.capital_cost_schedule[F.at(f, t)];
    }
  }
}

}  // namespace childsim
