// access: the 15-minute walk — which children live within a walk of a facility of each kind.
//
// Shared by the access submodel (access.cpp, outputs access_*) and the yearly indicators
// (indicators.cpp), so both count the same way. See docs/model.md, "Accessibility".
#pragma once

#include "sim/services/services.hpp"  // ServiceContext

#include <cstdint>  // std::int32_t, std::uint8_t
#include <vector>   // std::vector

namespace childsim {

/// One facility kind in one month, by home street.
struct KindAccess {
  std::vector<std::int32_t> children;  ///< children within the kind's age range
  std::vector<std::int32_t> within;    ///< ... within the walk of an available facility
  std::vector<std::int32_t> reached;   ///< ... with some open facility of the kind (any distance)
  std::vector<double> nearest_sum_m;   ///< sum of walking distances to the nearest open one
};

/// The walk for every kind with `wanted[k]` set, in month `st.month`. A child counts for kind
/// k when its age in months is in [min_age_months, max_age_months); it is within the walk when
/// some facility f of kind k with `available[f]` lies within walk_speed × walk_minutes metres
/// of walking (ServiceParams::walk_m); its nearest distance is that to the nearest facility of
/// kind k open in the month (capacity > 0). Kinds not wanted get empty vectors.
std::vector<KindAccess> compute_access(const ServiceContext& cx, const State& st,
                                       const std::vector<std::uint8_t>& available,
                                       const std::vector<std::uint8_t>& wanted);

/// The availability rule of the access outputs for month `st.month`: a nursery or
/// kindergarten with enrolment below capacity; any other facility with capacity > 0.
std::vector<std::uint8_t> available_facilities(const Scenario& sc, const State& st);

/// Whether step_access computes in model month `month`: June, December and the last month.
bool is_access_month(const Scenario& sc, int month);

}  // namespace childsim
