// parallel: loops over agent rows split across OpenMP threads, with results that do not
// depend on the number of threads.
//
// The rule (state.hpp): a parallel loop writes only the rows it owns; what rows share (counts
// by street, lists of rows, sums of doubles) goes to a per-block scratch `Local` and is merged
// after the loop, by the caller, in block order:
// - integer counts are added up (integer sums do not depend on the order);
// - lists of rows are concatenated in block order, which is row order because blocks are
//   contiguous runs of rows in increasing order — whatever the number of blocks;
// - sums of doubles are not split: the blocks collect the terms (in row order) and the caller
//   adds them up serially in that order, so the result is the same bits as a serial loop's.
// The number of blocks is the number of threads a parallel region would get (1 inside an
// active parallel region, e.g. a calibration particle), so with one thread a loop runs as one
// block, as the serial loop did.
#pragma once

#include <omp.h>  // omp_get_max_threads, omp_get_thread_num, omp_get_level, …

#include <algorithm>  // std::min
#include <cstddef>    // std::size_t
#include <vector>     // std::vector

namespace childsim::par {

/// Blocks to split a loop into: the threads a parallel region started here would have.
inline std::size_t n_blocks() {
  if (omp_get_level() >= omp_get_max_active_levels()) return 1;  // nested and switched off
  const int n = omp_get_max_threads();
  return n > 1 ? static_cast<std::size_t>(n) : 1;
}

/// Runs fn(block, begin, end) for `blocks` contiguous blocks of the rows [0, n) in parallel
/// (as many threads as blocks); block b holds rows [n·b/blocks, n·(b+1)/blocks) and runs on
/// thread b. (Loops whose work is uneven, or that should not wait for a thread a busy machine
/// has not woken yet, use for_chunks, whose chunks go to whichever thread is free.)
template <class Fn>
void for_blocks(std::size_t n, std::size_t blocks, Fn&& fn) {
  if (blocks <= 1) {
    fn(std::size_t{0}, std::size_t{0}, n);
    return;
  }
  const auto nb = static_cast<long>(blocks);
#pragma omp parallel for schedule(static, 1) num_threads(static_cast <int>(blocks))
  for (long b = 0; b < nb; ++b) {
    const auto ub = static_cast<std::size_t>(b);
    fn(ub, n * ub / blocks, n * (ub + 1) / blocks);
  }
}

/// Rows in a chunk of for_chunks: fixed, so that chunks (and lists kept per chunk) are the same
/// at any thread count.
constexpr std::size_t chunk_rows = 2048;

/// Chunks of for_chunks over n rows.
inline std::size_t n_chunks(std::size_t n) {
  return (n + chunk_rows - 1) / chunk_rows;
}

/// Runs fn(thread, chunk, begin, end) for the chunks of chunk_rows rows of [0, n), taken by
/// `threads` threads as they become free (for loops whose work is uneven over the rows: the
/// children of nursery age are the most recent rows). `thread` < threads indexes per-thread
/// scratch (integer counts); lists that must keep row order are kept per chunk.
template <class Fn>
void for_chunks(std::size_t n, std::size_t threads, Fn&& fn) {
  const std::size_t nc = n_chunks(n);
  if (threads <= 1) {
    for (std::size_t k = 0; k < nc; ++k)
      fn(std::size_t{0}, k, k * chunk_rows, std::min(n, (k + 1) * chunk_rows));
    return;
  }
  const auto nk = static_cast<long>(nc);
#pragma omp parallel for schedule(dynamic, 1) num_threads(static_cast <int>(threads))
  for (long k = 0; k < nk; ++k) {
    const auto uk = static_cast<std::size_t>(k);
    fn(static_cast<std::size_t>(omp_get_thread_num()), uk, uk * chunk_rows,
       std::min(n, (uk + 1) * chunk_rows));
  }
}

/// Appends the blocks' lists to `out` in block order (row order).
template <class T>
void concatenate(std::vector<std::vector<T>>& parts, std::vector<T>& out) {
  std::size_t total = out.size();
  for (const auto& p : parts) total += p.size();
  out.reserve(total);
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
}

/// Adds the blocks' integer counts into `out` (same length as each part).
template <class T, class U>
void add_counts(const std::vector<std::vector<T>>& parts, U* out) {
  for (const auto& p : parts)
    for (std::size_t k = 0; k < p.size(); ++k) out[k] += p[k];
}

}  // namespace childsim::par
