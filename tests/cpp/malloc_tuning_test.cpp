// malloc_tuning_test: the programs' glibc malloc settings (sim/run/malloc_tuning.hpp).
#include <catch2/catch.hpp>

#include "sim/run/malloc_tuning.hpp"

#include <cstdlib>  // std::malloc, std::free, std::getenv

#if defined(__GLIBC__)
#include <malloc.h>  // mallinfo2
#endif

// Under AddressSanitizer (tools/test.sh's sanitizer pass) its own allocator serves malloc, and
// glibc's statistics do not move: nothing to check there.
#if defined(__SANITIZE_ADDRESS__)
#define CHILDSIM_OWN_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILDSIM_OWN_MALLOC 0
#endif
#endif
#ifndef CHILDSIM_OWN_MALLOC
#define CHILDSIM_OWN_MALLOC 1
#endif

TEST_CASE("malloc_tuning, month-sized blocks come from the heap and huge ones are mapped") {
#if defined(__GLIBC__) && CHILDSIM_OWN_MALLOC
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr ||
      std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr ||
      std::getenv("MALLOC_TOP_PAD_") != nullptr || std::getenv("GLIBC_TUNABLES") != nullptr) {
    return;  // the user's settings are kept; nothing to check
  }
  childsim::run::tune_malloc_for_monthly_buffers();
  // A 4 MB block (the size of the monthly step's scratch vectors in Changning) is not a
  // mapping of its own any more: its pages are reused month after month.
  const std::size_t mapped_before = mallinfo2().hblks;
  void* month = std::malloc(std::size_t{4} << 20);
  REQUIRE(month != nullptr);
  CHECK(mallinfo2().hblks == mapped_before);
  // Above the 32 MiB bound a block is still its own mapping, returned to the kernel when
  // freed (whole-Shanghai agent columns keep the memory they had).
  void* huge = std::malloc(std::size_t{48} << 20);
  REQUIRE(huge != nullptr);
  CHECK(mallinfo2().hblks == mapped_before + 1);
  std::free(huge);
  std::free(month);
  CHECK(mallinfo2().hblks == mapped_before);
#endif
}
