// check: the project's one assertion macro, for invariants that must hold in every build.
#pragma once

#include <stdexcept>  // std::logic_error
#include <string>     // std::string

/// Abort the current operation with a message if `cond` is false. Used for invariants of the
/// model (conservation, capacity), not for user input (which gets a ConfigError).
#define CHILDSIM_CHECK(cond, msg)                                                         \
  do {                                                                                    \
    if (!(cond))                                                                          \
      throw std::logic_error(std::string("childsim internal check failed: ") + (msg) +    \
                             " [" #cond "] at " __FILE__ ":" + std::to_string(__LINE__)); \
  } while (0)
