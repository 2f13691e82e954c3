// indicator_counts: the children that the yearly indicators count, counted in one pass.
//
// record_indicators (indicators.cpp) needs, at year end, the toddlers and those of them a baby
// room served in the year, the children under 15, the nursery places held and the waiting
// lists by home street. One loop over the children's rows counts them all, in parallel over
// blocks of rows; the counts are integers, so they do not depend on the number of blocks.
#pragma once

#include "sim/services/services.hpp"  // ServiceContext, State

#include <cstdint>  // std::int64_t, std::int32_t
#include <vector>   // std::vector

namespace childsim {

/// The children present in month `st.month`, counted for the yearly indicators.
struct ChildCounts {
  std::int64_t toddlers = 0;  ///< aged 12–35 months
  std::int64_t served = 0;    ///< ... of whom a baby room served some session this calendar year
  std::int64_t young = 0;     ///< aged under 15 years (180 months)
  std::int64_t enrolled = 0;  ///< holding a full-day nursery place
  std::int64_t waiting = 0;   ///< on a nursery waiting list
  std::vector<std::int32_t> waiting_by_street;  ///< ... by home street
};

/// Counts the children of `st` for the yearly indicators (parallel over blocks of rows).
ChildCounts count_children(const ServiceContext& cx, const State& st);

}  // namespace childsim
