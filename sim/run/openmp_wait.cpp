#include "sim/run/openmp_wait.hpp"

#include <unistd.h>  // execv

#include <cstdlib>  // getenv, setenv

namespace childsim::run {

void ensure_passive_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr)
    return;  // the user (or a previous execution of this function) chose
  if (setenv("OMP_WAIT_POLICY", kDefaultWaitPolicy, 1) != 0) return;
  // /proc/self/exe is the running binary even if argv[0] is relative or on PATH. execv only
  // returns on failure (no /proc, say): carry on with the runtime's default.
  execv("/proc/self/exe", argv);
}

}  // namespace childsim::run
