// philox_batch: Philox4x32-10 for many counters at once (AVX-512, AVX2, scalar).
//
// One round of Philox4x32 maps the counter (x0, x1, x2, x3) under the round key (k0, k1) to
//   (hi(M1·x2) ^ x1 ^ k0, lo(M1·x2), hi(M0·x0) ^ x3 ^ k1, lo(M0·x0)),
// with 64-bit products of 32-bit words; the key is bumped by the Weyl constants (W0, W1)
// before every round but the first (Random123, philox.h). The vector paths keep each 32-bit
// word in a 64-bit lane: vpmuludq multiplies the low halves of the lanes into full 64-bit
// products (hi is the product shifted right by 32, lo is its low half), and whatever the high
// half of a lane holds never reaches a low half (the multiplication reads only low halves,
// shifts move high to low only on products, xor is lane-wise), so only the low halves are
// stored at the end. The words are therefore exactly Random123's.
#include "sim/core/philox_batch.hpp"

#include "sim/core/check.hpp"  // CHILDSIM_CHECK

#include <Random123/philox.h>  // r123::Philox4x32, PHILOX_M4x32_0, PHILOX_W32_0, …

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // _mm512_*, _mm256_*
#define CHILDSIM_PHILOX_X86 1
#else
#define CHILDSIM_PHILOX_X86 0
#endif

namespace childsim {
namespace {

constexpr int rounds = 10;  // Philox4x32 = Philox4x32_R<10>

// The round keys (k0 + r·W0, k1 + r·W1), r = 0..9, in 32-bit arithmetic as Random123 bumps them.
struct RoundKeys {
  std::uint32_t a[rounds], b[rounds];
  RoundKeys(std::uint32_t k0, std::uint32_t k1) {
    for (int r = 0; r < rounds; ++r) {
      a[r] = k0;
      b[r] = k1;
      k0 += PHILOX_W32_0;
      k1 += PHILOX_W32_1;
    }
  }
};

void batch_scalar(std::uint32_t k0, std::uint32_t k1, const std::uint64_t* lo, std::uint32_t c2,
                  std::uint32_t c3, std::size_t begin, std::size_t n,
                  std::uint32_t* const words[4]) {
  const r123::Philox4x32::key_type key = {{k0, k1}};
  for (std::size_t k = begin; k < n; ++k) {
    const r123::Philox4x32::ctr_type ctr = {
        {static_cast<std::uint32_t>(lo[k]), static_cast<std::uint32_t>(lo[k] >> 32), c2, c3}};
    const r123::Philox4x32::ctr_type out = r123::Philox4x32()(ctr, key);
    for (int j = 0; j < 4; ++j) words[j][k] = out.v[j];
  }
}

void blocks_scalar(std::uint32_t k0, std::uint32_t k1, const std::uint32_t c[4], std::size_t begin,
                   std::size_t n, std::uint32_t* const words[4]) {
  const r123::Philox4x32::key_type key = {{k0, k1}};
  for (std::size_t k = begin; k < n; ++k) {
    const r123::Philox4x32::ctr_type ctr = {
        {c[0], c[1], c[2], c[3] + static_cast<std::uint32_t>(k)}};
    const r123::Philox4x32::ctr_type out = r123::Philox4x32()(ctr, key);
    for (int j = 0; j < 4; ++j) words[j][k] = out.v[j];
  }
}

#if CHILDSIM_PHILOX_X86

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32() (`__m512i __Y = __Y;`),
// which its -Wmaybe-uninitialized reports at every inlined call (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// The low halves of the eight 64-bit lanes of x0..x3 as words [k, k + 8) of words[0..3]
// (vpmovqd straight to memory). Lambdas do not take their function's target attribute, so the
// helpers are functions.
__attribute__((target("avx512f"))) inline void store8(std::uint32_t* const words[4], std::size_t k,
                                                      __m512i x0, __m512i x1, __m512i x2,
                                                      __m512i x3) {
  _mm512_mask_cvtepi64_storeu_epi32(words[0] + k, 0xff, x0);
  _mm512_mask_cvtepi64_storeu_epi32(words[1] + k, 0xff, x1);
  _mm512_mask_cvtepi64_storeu_epi32(words[2] + k, 0xff, x2);
  _mm512_mask_cvtepi64_storeu_epi32(words[3] + k, 0xff, x3);
}

// Two vectors at a time (16 counters), so that the two chains of dependent multiplications
// overlap; then one vector (8); the rest (< 8) by the scalar path.
__attribute__((target("avx512f"))) std::size_t batch_avx512(std::uint32_t k0, std::uint32_t k1,
                                                            const std::uint64_t* lo,
                                                            std::uint32_t c2, std::uint32_t c3,
                                                            std::size_t n,
                                                            std::uint32_t* const words[4]) {
  const RoundKeys keys(k0, k1);
  const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0), m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
  __m512i ka[rounds], kb[rounds];
  for (int r = 0; r < rounds; ++r) {
    ka[r] = _mm512_set1_epi64(keys.a[r]);
    kb[r] = _mm512_set1_epi64(keys.b[r]);
  }
  const __m512i v2 = _mm512_set1_epi64(c2), v3 = _mm512_set1_epi64(c3);
  std::size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    __m512i a0 = _mm512_loadu_si512(lo + k), b0 = _mm512_loadu_si512(lo + k + 8);
    __m512i a1 = _mm512_srli_epi64(a0, 32), b1 = _mm512_srli_epi64(b0, 32);
    __m512i a2 = v2, b2 = v2, a3 = v3, b3 = v3;
    for (int r = 0; r < rounds; ++r) {
      const __m512i pa0 = _mm512_mul_epu32(a0, m0), pa1 = _mm512_mul_epu32(a2, m1);
      const __m512i pb0 = _mm512_mul_epu32(b0, m0), pb1 = _mm512_mul_epu32(b2, m1);
      a0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(pa1, 32), a1), ka[r]);
      a2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(pa0, 32), a3), kb[r]);
      b0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(pb1, 32), b1), ka[r]);
      b2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(pb0, 32), b3), kb[r]);
      a1 = pa1;
      a3 = pa0;
      b1 = pb1;
      b3 = pb0;
    }
    store8(words, k, a0, a1, a2, a3);
    store8(words, k + 8, b0, b1, b2, b3);
  }
  for (; k + 8 <= n; k += 8) {
    __m512i x0 = _mm512_loadu_si512(lo + k);
    __m512i x1 = _mm512_srli_epi64(x0, 32), x2 = v2, x3 = v3;
    for (int r = 0; r < rounds; ++r) {
      const __m512i p0 = _mm512_mul_epu32(x0, m0), p1 = _mm512_mul_epu32(x2, m1);
      x0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p1, 32), x1), ka[r]);
      x2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p0, 32), x3), kb[r]);
      x1 = p1;
      x3 = p0;
    }
    store8(words, k, x0, x1, x2, x3);
  }
  return k;
}

// Consecutive blocks of one stream: counters (c0, c1, c2, c3 + k), eight at a time (the lanes
// hold c3 + k in 64 bits; only the low half, which is the 32-bit sum, is ever used).
__attribute__((target("avx512f"))) std::size_t blocks_avx512(std::uint32_t k0, std::uint32_t k1,
                                                             const std::uint32_t c[4],
                                                             std::size_t n,
                                                             std::uint32_t* const words[4]) {
  const RoundKeys keys(k0, k1);
  const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0), m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
  const __m512i step = _mm512_set1_epi64(8);
  __m512i c3 = _mm512_add_epi64(_mm512_set1_epi64(c[3]), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    __m512i x0 = _mm512_set1_epi64(c[0]), x1 = _mm512_set1_epi64(c[1]),
            x2 = _mm512_set1_epi64(c[2]), x3 = c3;
    for (int r = 0; r < rounds; ++r) {
      const __m512i p0 = _mm512_mul_epu32(x0, m0), p1 = _mm512_mul_epu32(x2, m1);
      x0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p1, 32), x1),
                            _mm512_set1_epi64(keys.a[r]));
      x2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p0, 32), x3),
                            _mm512_set1_epi64(keys.b[r]));
      x1 = p1;
      x3 = p0;
    }
    store8(words, k, x0, x1, x2, x3);
    c3 = _mm512_add_epi64(c3, step);
  }
  return k;
}

// The low halves of the four 64-bit lanes of `x` as four 32-bit words at `out`.
__attribute__((target("avx2"))) inline void store_low_halves(std::uint32_t* out, __m256i x) {
  const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(x, pick)));
}

__attribute__((target("avx2"))) inline void store4(std::uint32_t* const words[4], std::size_t k,
                                                   __m256i x0, __m256i x1, __m256i x2, __m256i x3) {
  store_low_halves(words[0] + k, x0);
  store_low_halves(words[1] + k, x1);
  store_low_halves(words[2] + k, x2);
  store_low_halves(words[3] + k, x3);
}

// Two vectors at a time (8 counters), then one (4); the rest (< 4) by the scalar path.
__attribute__((target("avx2"))) std::size_t batch_avx2(std::uint32_t k0, std::uint32_t k1,
                                                       const std::uint64_t* lo, std::uint32_t c2,
                                                       std::uint32_t c3, std::size_t n,
                                                       std::uint32_t* const words[4]) {
  const RoundKeys keys(k0, k1);
  const __m256i m0 = _mm256_set1_epi64x(PHILOX_M4x32_0), m1 = _mm256_set1_epi64x(PHILOX_M4x32_1);
  __m256i ka[rounds], kb[rounds];
  for (int r = 0; r < rounds; ++r) {
    ka[r] = _mm256_set1_epi64x(keys.a[r]);
    kb[r] = _mm256_set1_epi64x(keys.b[r]);
  }
  const __m256i v2 = _mm256_set1_epi64x(c2), v3 = _mm256_set1_epi64x(c3);
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + k));
    __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + k + 4));
    __m256i a1 = _mm256_srli_epi64(a0, 32), b1 = _mm256_srli_epi64(b0, 32);
    __m256i a2 = v2, b2 = v2, a3 = v3, b3 = v3;
    for (int r = 0; r < rounds; ++r) {
      const __m256i pa0 = _mm256_mul_epu32(a0, m0), pa1 = _mm256_mul_epu32(a2, m1);
      const __m256i pb0 = _mm256_mul_epu32(b0, m0), pb1 = _mm256_mul_epu32(b2, m1);
      a0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa1, 32), a1), ka[r]);
      a2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa0, 32), a3), kb[r]);
      b0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pb1, 32), b1), ka[r]);
      b2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pb0, 32), b3), kb[r]);
      a1 = pa1;
      a3 = pa0;
      b1 = pb1;
      b3 = pb0;
    }
    store4(words, k, a0, a1, a2, a3);
    store4(words, k + 4, b0, b1, b2, b3);
  }
  for (; k + 4 <= n; k += 4) {
    __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + k));
    __m256i x1 = _mm256_srli_epi64(x0, 32), x2 = v2, x3 = v3;
    for (int r = 0; r < rounds; ++r) {
      const __m256i p0 = _mm256_mul_epu32(x0, m0), p1 = _mm256_mul_epu32(x2, m1);
      x0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), x1), ka[r]);
      x2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), x3), kb[r]);
      x1 = p1;
      x3 = p0;
    }
    store4(words, k, x0, x1, x2, x3);
  }
  return k;
}

// Consecutive blocks of one stream, four at a time (as blocks_avx512).
__attribute__((target("avx2"))) std::size_t blocks_avx2(std::uint32_t k0, std::uint32_t k1,
                                                        const std::uint32_t c[4], std::size_t n,
                                                        std::uint32_t* const words[4]) {
  const RoundKeys keys(k0, k1);
  const __m256i m0 = _mm256_set1_epi64x(PHILOX_M4x32_0), m1 = _mm256_set1_epi64x(PHILOX_M4x32_1);
  const __m256i step = _mm256_set1_epi64x(4);
  __m256i c3 = _mm256_add_epi64(_mm256_set1_epi64x(c[3]), _mm256_setr_epi64x(0, 1, 2, 3));
  std::size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    __m256i x0 = _mm256_set1_epi64x(c[0]), x1 = _mm256_set1_epi64x(c[1]),
            x2 = _mm256_set1_epi64x(c[2]), x3 = c3;
    for (int r = 0; r < rounds; ++r) {
      const __m256i p0 = _mm256_mul_epu32(x0, m0), p1 = _mm256_mul_epu32(x2, m1);
      x0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), x1),
                            _mm256_set1_epi64x(keys.a[r]));
      x2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), x3),
                            _mm256_set1_epi64x(keys.b[r]));
      x1 = p1;
      x3 = p0;
    }
    store4(words, k, x0, x1, x2, x3);
    c3 = _mm256_add_epi64(c3, step);
  }
  return k;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // CHILDSIM_PHILOX_X86

}  // namespace

bool philox_supported(PhiloxIsa isa) {
  switch (isa) {
    case PhiloxIsa::scalar:
      return true;
#if CHILDSIM_PHILOX_X86
    case PhiloxIsa::avx2:
      return __builtin_cpu_supports("avx2");
    case PhiloxIsa::avx512:
      return __builtin_cpu_supports("avx512f");
#else
    default:
      return false;
#endif
  }
  return false;
}

PhiloxIsa philox_best_isa() {
  static const PhiloxIsa best = philox_supported(PhiloxIsa::avx512) ? PhiloxIsa::avx512
                                : philox_supported(PhiloxIsa::avx2) ? PhiloxIsa::avx2
                                                                    : PhiloxIsa::scalar;
  return best;
}

void philox4x32_10_batch(std::uint32_t k0, std::uint32_t k1, const std::uint64_t* lo,
                         std::uint32_t c2, std::uint32_t c3, std::size_t n,
                         std::uint32_t* const words[4], PhiloxIsa isa) {
  std::size_t done = 0;
#if CHILDSIM_PHILOX_X86
  if (isa == PhiloxIsa::avx512) {
    done = batch_avx512(k0, k1, lo, c2, c3, n, words);
  } else if (isa == PhiloxIsa::avx2) {
    done = batch_avx2(k0, k1, lo, c2, c3, n, words);
  }
#else
  CHILDSIM_CHECK(isa == PhiloxIsa::scalar, "philox_batch: no vector path on this processor");
#endif
  batch_scalar(k0, k1, lo, c2, c3, done, n, words);
}

void philox4x32_10_blocks(std::uint32_t k0, std::uint32_t k1, const std::uint32_t counter[4],
                          std::size_t n, std::uint32_t* const words[4], PhiloxIsa isa) {
  std::size_t done = 0;
#if CHILDSIM_PHILOX_X86
  if (isa == PhiloxIsa::avx512) {
    done = blocks_avx512(k0, k1, counter, n, words);
  } else if (isa == PhiloxIsa::avx2) {
    done = blocks_avx2(k0, k1, counter, n, words);
  }
#else
  CHILDSIM_CHECK(isa == PhiloxIsa::scalar, "philox_batch: no vector path on this processor");
#endif
  blocks_scalar(k0, k1, counter, done, n, words);
}

}  // namespace childsim
