// agent_ids: stable identifiers for agents, the key of their random streams.
//
// An agent's random draws are keyed on its id (rng.hpp). For two scenarios to share random
// numbers wherever they do not differ (common random numbers), an agent must get the same id
// in both, whatever else was created before it. So ids are not a running counter: an initial
// agent's id is its index in the initial population (which does not depend on the scenario's
// levers), and an agent created during the run gets a hash of what created it (its mother's
// household and the month; the street, month and arrival number; ...). Ids are 64-bit; a
// collision between two hashes (probability ~1e-9 for a million agents) would only make two
// agents share random numbers.
#pragma once

#include "sim/core/rng.hpp"  // mix64

#include <cstdint>  // std::uint64_t

namespace childsim::ids {

enum class Origin : std::uint64_t {
  newborn = 2,
  arrival_household = 3,
  housing_household = 4,
  arriving_child = 5,
  adult_daughter = 6,
};

inline std::uint64_t tagged(Origin o, std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0) {
  return mix64(mix64(mix64(static_cast<std::uint64_t>(o) << 56 ^ a) ^ b) ^ c);
}
inline std::uint64_t initial_household(std::uint64_t index) {
  return index;
}
inline std::uint64_t initial_child(std::uint64_t index) {
  return (1ull << 40) + index;
}
inline std::uint64_t newborn(std::uint64_t mother_household, int month) {
  return tagged(Origin::newborn, mother_household, static_cast<std::uint64_t>(month));
}
/// The second of twins born in `month` (the first has newborn()'s id).
inline std::uint64_t newborn_twin(std::uint64_t mother_household, int month) {
  return tagged(Origin::newborn, mother_household, static_cast<std::uint64_t>(month), 1);
}
inline std::uint64_t arrival_household(int street, int month, int k) {
  return tagged(Origin::arrival_household, static_cast<std::uint64_t>(street),
                static_cast<std::uint64_t>(month), static_cast<std::uint64_t>(k));
}
inline std::uint64_t housing_household(int project, int month, int k) {
  return tagged(Origin::housing_household, static_cast<std::uint64_t>(project),
                static_cast<std::uint64_t>(month), static_cast<std::uint64_t>(k));
}
inline std::uint64_t arriving_child(std::uint64_t household, int k) {
  return tagged(Origin::arriving_child, household, static_cast<std::uint64_t>(k));
}
inline std::uint64_t adult_daughter(std::uint64_t child) {
  return tagged(Origin::adult_daughter, child);
}

}  // namespace childsim::ids
