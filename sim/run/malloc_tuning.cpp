// malloc_tuning: glibc's mmap and trim thresholds for the monthly step (see the header).
#include "sim/run/malloc_tuning.hpp"

#include <cstdlib>           // std::getenv
#include <cstring>           // std::strstr
#include <initializer_list>  // the list of variables

#if defined(__GLIBC__)
#include <malloc.h>  // mallopt, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
#endif

namespace childsim::run {

void tune_malloc_for_monthly_buffers() {
#if defined(__GLIBC__)
  // A user (or a benchmark comparing settings) who tunes malloc keeps their choice.
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return;
  for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
    if (std::getenv(name) != nullptr) return;
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace childsim::run
