// philox_batch_test: the batched Philox4x32-10 gives Random123's words, on every path and lane;
// the word bounds of a first pass never exclude a word the exact test would pass.
#include "sim/core/philox_batch.hpp"  // philox4x32_10_batch, FirstBlocks

#include "sim/core/rng.hpp"  // Stream, Purpose, mix64

#include <catch2/catch.hpp>

#include <Random123/philox.h>  // r123::Philox4x32 (the reference)

#include <cmath>    // std::nan, std::nextafter
#include <cstdint>  // std::uint32_t, std::uint64_t
#include <vector>   // std::vector

using namespace childsim;

namespace {

std::vector<PhiloxIsa> supported_paths() {
  std::vector<PhiloxIsa> out;
  for (const PhiloxIsa isa : {PhiloxIsa::scalar, PhiloxIsa::avx2, PhiloxIsa::avx512})
    if (philox_supported(isa)) out.push_back(isa);
  return out;
}

}  // namespace

TEST_CASE("philox_batch, every word of every path equals Random123's", "[philox_batch][rng]") {
  // Keys and counters from a bijective mix (all 32 bits vary); lengths 0..70 reach every
  // path's full vectors and every tail.
  std::uint64_t state = 1;
  auto next = [&state] { return mix64(state++); };
  for (const PhiloxIsa isa : supported_paths()) {
    INFO("path " << static_cast<int>(isa));
    for (std::size_t n = 0; n <= 70; ++n) {
      const std::uint64_t key = next();
      const auto k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
      const std::uint64_t c = next();
      const auto c2 = static_cast<std::uint32_t>(c), c3 = static_cast<std::uint32_t>(c >> 32);
      std::vector<std::uint64_t> lo(n);
      for (auto& x : lo) x = next();
      std::vector<std::uint32_t> w[4];
      for (auto& v : w) v.assign(n, 0);
      std::uint32_t* const out[4] = {w[0].data(), w[1].data(), w[2].data(), w[3].data()};
      philox4x32_10_batch(k0, k1, lo.data(), c2, c3, n, out, isa);
      for (std::size_t k = 0; k < n; ++k) {
        const r123::Philox4x32::ctr_type ctr = {
            {static_cast<std::uint32_t>(lo[k]), static_cast<std::uint32_t>(lo[k] >> 32), c2, c3}};
        const r123::Philox4x32::ctr_type ref = r123::Philox4x32()(ctr, {{k0, k1}});
        for (int j = 0; j < 4; ++j) {
          INFO("n " << n << ", lane " << k << ", word " << j);
          REQUIRE(w[j][k] == ref.v[j]);
        }
      }
    }
  }
}

TEST_CASE("philox_batch, FirstBlocks gives the first four values of each agent's Stream",
          "[philox_batch][rng]") {
  // Agent ids of both kinds (small initial indices, 64-bit hashes of newborns), several
  // replicates, months and purposes.
  std::vector<std::uint64_t> ids;
  for (std::uint64_t k = 0; k < 40; ++k) ids.push_back(k);
  for (std::uint64_t k = 0; k < FirstBlocks::capacity - 40; ++k) ids.push_back(mix64(k + 99));
  for (const PhiloxIsa isa : supported_paths())
    for (const std::uint32_t replicate : {0u, 3u, 65535u})
      for (const std::uint32_t month : {0u, 17u, 143u})
        for (const Purpose purpose : {Purpose::household_month, Purpose::child_month}) {
          const std::uint64_t seed = 20240327ull + (std::uint64_t{replicate} << 40);
          FirstBlocks blocks;
          blocks.fill(seed, replicate, ids.data(), ids.size(), month, purpose, isa);
          for (std::size_t k = 0; k < ids.size(); ++k) {
            Stream rng(seed, replicate, ids[k], month, purpose);
            for (int j = 0; j < 4; ++j) REQUIRE(blocks.word(k, j) == rng());
            // The fifth value onwards: skip_first_block() continues where the batch left off.
            Stream rest(seed, replicate, ids[k], month, purpose);
            rest.skip_first_block();
            REQUIRE(rest() == rng());
            REQUIRE(rest() == rng());
            REQUIRE(blocks.uniform(k, 0) ==
                    Stream(seed, replicate, ids[k], month, purpose).uniform());
          }
        }
}

TEST_CASE("philox_batch, word bounds never exclude a word whose uniform passes the test",
          "[philox_batch][rng]") {
  // Probabilities of every kind: zero, negative, NaN, tiny, exact multiples of 2^-32 and their
  // neighbours, ordinary hazards, near 1, 1 and above; for each, the words around the bound
  // and a sweep of words, compared with Stream::uniform's comparison.
  std::vector<double> xs = {0.0,     -0.5,        std::nan(""), 1e-300, 0x1p-32,
                            0x1p-33, 3 * 0x1p-32, 1e-7,         0.003,  0.0125,
                            0.5,     1 - 0x1p-32, 1 - 0x1p-33,  1.0,    1.5};
  for (std::uint64_t k = 0; k < 200; ++k) {
    const double x = static_cast<double>(mix64(k) >> 11) * 0x1p-53;  // uniform in [0, 1)
    xs.push_back(x);
    xs.push_back(std::nextafter(x, 1.0));
    xs.push_back(std::nextafter(x, 0.0));
  }
  for (const double x : xs) {
    const std::uint64_t below = words_below(x);
    const std::uint32_t above = words_at_or_above(x);
    REQUIRE(below <= (std::uint64_t{1} << 32));
    std::vector<std::uint64_t> words = {0, 1, 0xffffffffu, 0xfffffffeu};
    for (const std::uint64_t b : {below, std::uint64_t{above}})
      for (std::uint64_t d = 0; d < 3; ++d) {
        if (b >= d && b - d <= 0xffffffffu) words.push_back(b - d);
        if (b + d <= 0xffffffffu) words.push_back(b + d);
      }
    for (std::uint64_t k = 0; k < 64; ++k) words.push_back(mix64(k + 7) >> 32);
    for (const std::uint64_t w : words) {
      const double u = static_cast<double>(w) * 0x1p-32;  // Stream::uniform
      INFO("x " << x << ", word " << w);
      if (u < x) REQUIRE(w < below);
      if (u >= x) REQUIRE(w >= above);
    }
  }
}

TEST_CASE("philox_batch, consecutive blocks and BufferedStream give a Stream's words",
          "[philox_batch][rng]") {
  std::uint64_t state = 11;
  auto next = [&state] { return mix64(state++); };
  for (const PhiloxIsa isa : supported_paths())
    for (std::size_t n = 0; n <= 40; ++n) {
      const std::uint64_t key = next(), a = next(), b = next();
      // Word 3 near the top, so that c3 + k wraps around 2^32 in some cases.
      const std::uint32_t c[4] = {static_cast<std::uint32_t>(a),
                                  static_cast<std::uint32_t>(a >> 32),
                                  static_cast<std::uint32_t>(b),
                                  n % 2 ? 0xffffffe0u + static_cast<std::uint32_t>(n)
                                        : static_cast<std::uint32_t>(b >> 32)};
      std::vector<std::uint32_t> w[4];
      for (auto& v : w) v.assign(n, 0);
      std::uint32_t* const out[4] = {w[0].data(), w[1].data(), w[2].data(), w[3].data()};
      const auto k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
      philox4x32_10_blocks(k0, k1, c, n, out, isa);
      for (std::size_t k = 0; k < n; ++k) {
        const r123::Philox4x32::ctr_type ctr = {
            {c[0], c[1], c[2], c[3] + static_cast<std::uint32_t>(k)}};
        const r123::Philox4x32::ctr_type ref = r123::Philox4x32()(ctr, {{k0, k1}});
        for (int j = 0; j < 4; ++j) REQUIRE(w[j][k] == ref.v[j]);
      }
    }
  // A BufferedStream draws what a Stream draws, word for word, across many refills.
  for (const std::uint64_t agent : {std::uint64_t{0}, std::uint64_t{7}, mix64(3)}) {
    Stream plain(20240327, 2, agent, 55, Purpose::resident_counts);
    BufferedStream buffered(20240327, 2, agent, 55, Purpose::resident_counts);
    for (int k = 0; k < 1000; ++k) REQUIRE(buffered() == plain());
    REQUIRE(buffered.uniform() == plain.uniform());
  }
}
