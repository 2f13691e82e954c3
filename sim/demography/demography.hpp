// demography: the monthly demographic processes, in their fixed order.
//
// Order within a month (docs/model.md, "Process overview"):
//   1. age_out        children who reach 18 leave the child tables (daughters become women
//                     18–49 with households of their own in the same street);
//   2. draw events    one stream per household and month decides a delivery (twins or not),
//                     the mother's death, forming a couple, leaving the district, or moving to
//                     another street; a woman 18–49 delivers with the probability of her age,
//                     parity and partnership (births.hpp), none within the birth interval;
//   3. births         the newborns (parity and last delivery updated); single women who drew
//                     it form a couple;
//   4. child deaths   monthly hazard by single year of age (newborns included);
//   5. mother deaths  (the household stays while it has children);
//   6. moves          leaving the district, then moving between streets (children go with
//                     their household);
//   7. arrivals       families arriving from outside (Poisson by street and month) and families
//                     moving into new housing.
// Steps 2 and 4 draw in parallel (each agent's own stream); the rest are serial loops over
// rows in order, so results do not depend on the number of threads.
#pragma once

#include "sim/model/rates.hpp"        // Rates
#include "sim/model/state.hpp"        // State, MonthFlows
#include "sim/scenario/scenario.hpp"  // Scenario

namespace childsim {

/// One month of demography; fills `flows` and updates the agents and `state.residents`.
void step_demography(State& state, const Scenario& sc, const Rates& rates, MonthFlows& flows);

/// Clear `present` for households that no longer matter: no child at home and no mother
/// aged under 50. Called before compaction at the end of a month.
void retire_households(State& state);

/// Age in completed months of someone born in month `birth_month`, in month `month`.
inline int age_in_months(int month, int birth_month) {
  return month - birth_month;
}

}  // namespace childsim
