// rng: counter-based random numbers keyed on (seed, replicate, agent, month, purpose).
//
// Reproducibility across thread counts is a design decision (DESIGN.md §1): no generator holds
// state that depends on which thread ran before. Every draw is a pure function of
//   key     = the 64-bit scenario seed,
//   counter = (agent id: 64 bits, replicate: 16 bits, month: 16 bits, purpose: 16 bits,
//              block: 16 bits),
// computed by Philox4x32-10 (Salmon et al. 2011, Random123). `Stream` wraps one such key and
// counter as a C++ URBG so Boost.Random distributions draw from it; each call to the
// generator consumes one 32-bit word and a new block of four words is made every four calls.
// Two agents, two months or two purposes never share words, so the result of any draw does
// not depend on the order in which agents are processed. Agent ids are stable across
// scenarios (see agent_ids.hpp), which gives common random numbers between scenarios.
#pragma once

#include <Random123/philox.h>  // r123::Philox4x32

#include <cstdint>  // std::uint32_t, std::uint64_t
#include <limits>   // std::numeric_limits

namespace childsim {

/// Why a random word is drawn. Each purpose has its own sequence for every agent and month.
enum class Purpose : std::uint16_t {
  initial_population = 1,    ///< placement, ages and attributes at the start
  household_month = 2,       ///< a household's monthly demographic events (birth, moves)
  child_month = 3,           ///< a child's monthly events (death)
  street_month = 4,          ///< street-level counts (arrivals)
  household_attributes = 5,  ///< attributes of a household created during the run
  child_attributes = 6,      ///< attributes of a child born or arriving during the run
  nursery = 7,
  kindergarten = 8,
  holiday = 9,
  clinic = 10,
  calibration = 11,
  parameters = 12,
  nursery_settle = 13,     ///< the first month's settling where there is room (nursery.cpp)
  resident_counts = 21,    ///< deaths and moves of the resident counts, by street and sex
  resident_arrivals = 22,  ///< arrivals into the resident counts, by street and sex
};

/// A URBG (uniform random bit generator) over one (seed, replicate, agent, month, purpose).
class Stream {
 public:
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  Stream(std::uint64_t seed, std::uint32_t replicate, std::uint64_t agent, std::uint32_t month,
         Purpose purpose) {
    key_ = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
    counter_ = {{static_cast<std::uint32_t>(agent), static_cast<std::uint32_t>(agent >> 32),
                 counter_word2(replicate, month), counter_word3(purpose)}};
  }

  /// Words 2 and 3 of the counter of the first block (words 0 and 1 are the agent id).
  static constexpr std::uint32_t counter_word2(std::uint32_t replicate, std::uint32_t month) {
    return (replicate << 16) | (month & 0xffffu);
  }
  static constexpr std::uint32_t counter_word3(Purpose purpose) {
    return static_cast<std::uint32_t>(static_cast<std::uint16_t>(purpose)) << 16;
  }

  /// Start at the second block: the first four words were drawn elsewhere (philox_batch.hpp).
  /// Call before the first draw.
  void skip_first_block() { counter_.v[3] += 1; }

  result_type operator()() {
    if (used_ == 4) refill();
    return block_[used_++];
  }

  /// A uniform double in [0, 1) from one 32-bit word (resolution 2^-32 is ample for
  /// monthly event probabilities, which are never below 1e-7 here).
  double uniform() { return (*this)() * 0x1p-32; }

  /// True with probability p.
  bool bernoulli(double p) { return uniform() < p; }

 private:
  void refill() {
    block_ = r123::Philox4x32()(counter_, key_);
    counter_.v[3] += 1;  // next block; 65536 blocks (262144 words) per stream
    used_ = 0;
  }
  r123::Philox4x32::ctr_type counter_{};
  r123::Philox4x32::key_type key_{};
  r123::Philox4x32::ctr_type block_{};
  int used_ = 4;
};

/// A Stream alone on its cache line: for arrays of streams that threads draw from at the same
/// time (the clinic's, one per street and one per clinic). Streams side by side (48 bytes each)
/// would share lines, and every draw, which moves the stream's position, would pass the line
/// between the cores.
struct alignas(64) LineStream {
  Stream s;
};

/// SplitMix64 finaliser: a bijective mix used to derive stable agent ids (agent_ids.hpp).
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace childsim
