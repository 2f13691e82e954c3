// philox_batch: the first block of many agents' random streams at once, with SIMD.
//
// A monthly process draws one Philox4x32-10 block (four 32-bit words) per agent: the first
// block of Stream(seed, replicate, agent id, month, purpose) (rng.hpp). Computed one agent at
// a time, the ten rounds' multiplications are a chain the processor cannot overlap; computed
// for many agents side by side, they fill the vector units: with AVX-512 eight agents per
// instruction, with AVX2 four. The words are those of r123::Philox4x32 for the same key and
// counter to the bit — integer arithmetic, the same operations in the same order — so a
// process that reads its words from here instead of from a Stream draws exactly the same
// numbers (tests/cpp/philox_batch_test.cpp checks every word of every path against
// Random123). The implementation is chosen at run time from what the processor supports; the
// scalar path (Random123 itself) serves processors without AVX2.
//
// Use: fill a FirstBlocks with up to FirstBlocks::capacity consecutive agents' ids, then read
// word j (0..3) of agent k, which is the (j + 1)-th value the agent's Stream would return.
// An agent that needs more than four words makes its Stream and calls skip_first_block().
#pragma once

#include "sim/core/rng.hpp"  // Purpose

#include <cmath>    // std::ceil, std::floor
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint32_t, std::uint64_t

namespace childsim {

/// Ways to compute the blocks (all give the same words).
enum class PhiloxIsa { scalar, avx2, avx512 };

/// The best way this processor supports (checked once).
PhiloxIsa philox_best_isa();

/// Whether this processor can run `isa`.
bool philox_supported(PhiloxIsa isa);

/// Philox4x32-10 of the counters (lo[k], lo[k] >> 32, c2, c3) under key (k0, k1), k < n:
/// words[j][k] is word j of the block of counter k. `isa` must be supported.
void philox4x32_10_batch(std::uint32_t k0, std::uint32_t k1, const std::uint64_t* lo,
                         std::uint32_t c2, std::uint32_t c3, std::size_t n,
                         std::uint32_t* const words[4], PhiloxIsa isa);

/// Philox4x32-10 of the counters (c0, c1, c2, c3 + k) under key (k0, k1), k < n: n
/// consecutive blocks of one stream (Stream advances word 3 of its counter by one a block).
void philox4x32_10_blocks(std::uint32_t k0, std::uint32_t k1, const std::uint32_t counter[4],
                          std::size_t n, std::uint32_t* const words[4], PhiloxIsa isa);

/// Bounds for a test on words that must never miss (a first, cheap pass that leaves the exact
/// test to the rows that pass it). A uniform u = w · 2^-32 (Stream::uniform) is below a
/// probability x exactly when w < x · 2^32 (both products are exact), which implies
/// w < ⌈x · 2^32⌉; u ≥ x implies w ≥ ⌊x · 2^32⌋.
/// words_below(x) is a b ≤ 2^32 with: w · 2^-32 < x implies w < b, for every 32-bit word w
/// (b = 2^32: every word; b = 0: none).
inline std::uint64_t words_below(double x) {
  if (!(x > 0)) return 0;  // no word (NaN included)
  const double y = std::ceil(x * 0x1p32);
  return y >= 0x1p32 ? std::uint64_t{1} << 32 : static_cast<std::uint64_t>(y);
}
/// A b with: w · 2^-32 ≥ x implies w ≥ b, for every 32-bit word w.
inline std::uint32_t words_at_or_above(double x) {
  if (!(x > 0)) return 0;  // every word (for NaN, none: 0 is still a bound)
  const double y = std::floor(x * 0x1p32);
  return y > 4294967295.0 ? 4294967295u : static_cast<std::uint32_t>(y);
}

/// The first blocks of the streams of up to `capacity` agents of one (seed, replicate, month,
/// purpose).
class FirstBlocks {
 public:
  static constexpr std::size_t capacity = 64;

  /// Compute the first block of Stream(seed, replicate, ids[k], month, purpose), k < n
  /// (n ≤ capacity).
  void fill(std::uint64_t seed, std::uint32_t replicate, const std::uint64_t* ids, std::size_t n,
            std::uint32_t month, Purpose purpose, PhiloxIsa isa = philox_best_isa()) {
    std::uint32_t* const out[4] = {w_[0], w_[1], w_[2], w_[3]};
    philox4x32_10_batch(static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                        ids, Stream::counter_word2(replicate, month),
                        Stream::counter_word3(purpose), n, out, isa);
  }

  /// Word j (0..3) of agent k: the (j + 1)-th value of its Stream.
  std::uint32_t word(std::size_t k, int j) const { return w_[j][k]; }

  /// Word j of agent k as a uniform double in [0, 1), as Stream::uniform() gives it.
  double uniform(std::size_t k, int j) const { return w_[j][k] * 0x1p-32; }

  /// Words j of all agents (word(k, j) is words(j)[k]).
  const std::uint32_t* words(int j) const { return w_[j]; }

 private:
  alignas(64) std::uint32_t w_[4][capacity];
};

/// A Stream (the same words in the same order) that computes its blocks 16 at a time: for
/// streams that draw many words (a cohort table's events, an arriving family's past births).
class BufferedStream {
 public:
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return 0xffffffffu; }

  BufferedStream(std::uint64_t seed, std::uint32_t replicate, std::uint64_t agent,
                 std::uint32_t month, Purpose purpose)
      : k0_(static_cast<std::uint32_t>(seed)),
        k1_(static_cast<std::uint32_t>(seed >> 32)),
        counter_{static_cast<std::uint32_t>(agent), static_cast<std::uint32_t>(agent >> 32),
                 Stream::counter_word2(replicate, month), Stream::counter_word3(purpose)} {}

  result_type operator()() {
    if (used_ == 4 * blocks) refill();
    const std::size_t k = used_++;
    return w_[k & 3][k >> 2];
  }
  double uniform() { return (*this)() * 0x1p-32; }
  bool bernoulli(double p) { return uniform() < p; }

 private:
  static constexpr std::size_t blocks = 16;
  void refill() {
    std::uint32_t* const out[4] = {w_[0], w_[1], w_[2], w_[3]};
    philox4x32_10_blocks(k0_, k1_, counter_, blocks, out, philox_best_isa());
    counter_[3] += blocks;
    used_ = 0;
  }
  std::uint32_t k0_, k1_;
  std::uint32_t counter_[4];
  std::size_t used_ = 4 * blocks;
  alignas(64) std::uint32_t w_[4][blocks];
};

}  // namespace childsim
