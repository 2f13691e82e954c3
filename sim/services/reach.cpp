// reach: the facilities within possible walking reach of each street (reach.hpp).
#include "sim/services/reach.hpp"

#include <cmath>  // std::sqrt

namespace childsim {

std::vector<std::vector<int>> facilities_within_reach(const BaseData& base, const Facilities& F,
                                                      const std::vector<int>& facilities,
                                                      const ServiceParams& P, double max_m) {
  std::vector<std::vector<int>> reach(base.streets.size());
  for (std::size_t s = 0; s < base.streets.size(); ++s) {
    const Street& st = base.streets[s];
    for (const int f : facilities) {
      const auto fu = static_cast<std::size_t>(f);
      if (F.street[fu] < 0) {
        reach[s].push_back(f);
        continue;
      }
      // The shortest walk from any point of the disc: detour × (distance to the centre −
      // radius). One metre spare for homes stored as float (precision < 0.01 m at 100 km).
      const double dx = st.x_m - F.x_m[fu], dy = st.y_m - F.y_m[fu];
      const double nearest = P.detour_factor * (std::sqrt(dx * dx + dy * dy) - st.radius_m);
      if (nearest <= max_m + 1.0) reach[s].push_back(f);
    }
  }
  return reach;
}

}  // namespace childsim
