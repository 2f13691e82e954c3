// reach: the facilities that a home of a street can possibly walk to, per street.
//
// Services look for the nearest facility, or all facilities, within a walking limit
// (nursery.max_distance_km) of each child's home. Looping over every facility for every child
// costs children × facilities, which grows with the square of the area modelled (the whole of
// Shanghai has 36 times Changning's children and facilities). Homes lie in their street's disc
// (BaseData::point_in_street), so a facility whose walk from the street's centre, less the
// detour × the street's radius, exceeds the limit can never be within it from any home of the
// street: leaving it out changes no result, only the time.
#pragma once

#include "sim/data/base_data.hpp"           // BaseData
#include "sim/services/facilities.hpp"      // Facilities
#include "sim/services/service_params.hpp"  // ServiceParams

#include <vector>  // std::vector

namespace childsim {

/// For each street s, the facilities of `facilities` (in their order) that some home of s may
/// have within `max_m` metres of walking (ServiceParams::walk_m). Facilities outside the
/// area (street `outside`) are kept: callers treat them themselves.
std::vector<std::vector<int>> facilities_within_reach(const BaseData& base, const Facilities& F,
                                                      const std::vector<int>& facilities,
                                                      const ServiceParams& P, double max_m);

}  // namespace childsim
