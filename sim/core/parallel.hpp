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
// The number of blocks is the number of threads (1 inside a unit of another loop, or inside an
// OpenMP region that runs one replicate per thread, e.g. a calibration particle), so with one
// thread a loop runs as one block, as the serial loop did. The threads are a pool of their own
// (thread_pool.hpp), not OpenMP's: the caller never waits for a thread that has not woken.
#pragma once

#include "sim/core/thread_pool.hpp"  // run_units, in_pool_loop, alone_this_month, note_month

#include <omp.h>  // omp_get_max_threads, omp_get_level, omp_get_max_active_levels

#include <algorithm>    // std::min
#include <cstddef>      // std::size_t
#include <type_traits>  // std::remove_reference_t
#include <utility>      // std::move
#include <vector>       // std::vector

namespace childsim::par {

/// Threads a loop started here may use: those set by --threads (omp_set_num_threads), or 1
/// inside a unit of a pool loop and inside an OpenMP parallel region whose nesting is switched
/// off or that already runs one replicate per thread (e.g. calibration particles).
/// Also 1 for a month the pool runs on the caller alone (a busy machine, thread_pool.hpp:
/// note_month): its loops are then made as at 1 thread, one block each, without the blocks'
/// scratch and merges that would only cost the caller time.
inline std::size_t n_threads() {
  if (in_pool_loop() || omp_get_level() >= omp_get_max_active_levels()) return 1;
  const int n = omp_get_max_threads();
  return n > 1 && !alone_this_month() ? static_cast<std::size_t>(n) : 1;
}

/// The threads set by --threads (omp_set_num_threads), or 1 where n_threads() is 1 for the
/// nesting: what an ensemble shares out among replicates, whatever the machine's load.
inline std::size_t configured_threads() {
  if (in_pool_loop() || omp_get_level() >= omp_get_max_active_levels()) return 1;
  const int n = omp_get_max_threads();
  return n > 1 ? static_cast<std::size_t>(n) : 1;
}

/// Called between two months of a replicate, and before its first: note_month
/// (thread_pool.hpp: a month on a busy machine runs as at 1 thread), when the replicate's
/// loops may use more than one thread (with one, there is nothing to decide).
inline void between_months() {
  if (configured_threads() > 1) note_month();
}

/// Blocks per thread of a for_blocks loop. More blocks than threads, so that a thread that the
/// kernel has not scheduled (a busy machine) holds up at most one small block while the others
/// take the rest, and uneven blocks even out.
constexpr std::size_t blocks_per_thread = 4;

/// Blocks to split a loop into (and per-block scratch to allocate): blocks_per_thread per
/// thread, 1 with one thread (the serial loop). Also a safe bound on the `thread` index of
/// for_chunks.
inline std::size_t n_blocks() {
  const std::size_t t = n_threads();
  return t > 1 ? t * blocks_per_thread : 1;
}

/// Blocks for a loop over `rows` rows that gains from threads only with at least `min_rows`
/// rows a block: n_blocks(), fewer when the rows are too few, and 1 (the serial loop) below
/// 2·min_rows. For loops of little work a row over scattered rows, which a helper mostly finds
/// in the other core's cache (about 0.2 µs a cache line on this kind of virtual machine,
/// docs/performance.md): with a few thousand rows they took longer at 2 threads than at 1.
inline std::size_t blocks_for(std::size_t rows, std::size_t min_rows) {
  const std::size_t most = min_rows > 0 ? rows / min_rows : rows;
  return most < 2 ? 1 : std::min(n_blocks(), most);
}

/// Rows in a chunk of for_chunks: fixed, so that chunks (and lists kept per chunk) are the same
/// at any thread count.
constexpr std::size_t chunk_rows = 2048;

/// Chunks of for_chunks over n rows.
inline std::size_t n_chunks(std::size_t n) {
  return (n + chunk_rows - 1) / chunk_rows;
}

namespace detail {
template <class Fn>
struct BlockLoop {
  Fn* fn;
  std::size_t n, blocks;
  static void call(void* self, std::size_t, std::size_t b) {
    auto& l = *static_cast<BlockLoop*>(self);
    (*l.fn)(b, l.n * b / l.blocks, l.n * (b + 1) / l.blocks);
  }
};
template <class Fn>
struct ChunkLoop {
  Fn* fn;
  std::size_t n;
  static void call(void* self, std::size_t thread, std::size_t k) {
    auto& l = *static_cast<ChunkLoop*>(self);
    (*l.fn)(thread, k, k * chunk_rows, std::min(l.n, (k + 1) * chunk_rows));
  }
};
}  // namespace detail

/// Runs fn(block, begin, end) for `blocks` contiguous blocks of the rows [0, n), block b
/// holding rows [n·b/blocks, n·(b+1)/blocks), on up to n_threads() threads (thread_pool.hpp: the
/// caller starts at once and the others join as they wake, taking the blocks left). Which
/// thread runs a block never matters: a block writes its own rows and its own scratch.
template <class Fn>
void for_blocks(std::size_t n, std::size_t blocks, Fn&& fn) {
  if (blocks <= 1) {
    fn(std::size_t{0}, std::size_t{0}, n);
    return;
  }
  detail::BlockLoop<std::remove_reference_t<Fn>> loop{&fn, n, blocks};
  run_units(blocks, std::min(blocks, n_threads()), &decltype(loop)::call, &loop);
}

/// Runs fn(thread, chunk, begin, end) for the chunks of chunk_rows rows of [0, n), taken by
/// up to `threads` (at most n_threads()) threads as they become free (for loops whose work is
/// uneven over the rows: the children of nursery age are the most recent rows). `thread` < threads
/// indexes per-thread scratch (integer counts); lists that must keep row order are kept per chunk.
template <class Fn>
void for_chunks(std::size_t n, std::size_t threads, Fn&& fn) {
  const std::size_t nc = n_chunks(n);
  if (threads <= 1) {
    for (std::size_t k = 0; k < nc; ++k)
      fn(std::size_t{0}, k, k * chunk_rows, std::min(n, (k + 1) * chunk_rows));
    return;
  }
  detail::ChunkLoop<std::remove_reference_t<Fn>> loop{&fn, n};
  run_units(nc, std::min(threads, n_threads()), &decltype(loop)::call, &loop);
}

/// Runs fn(unit) for every unit in [0, units) on up to n_threads() threads, in any order (for
/// independent jobs of uneven size, e.g. the arrays compacted one by one).
template <class Fn>
void for_each_unit(std::size_t units, Fn&& fn) {
  auto call = [&](std::size_t k, std::size_t, std::size_t) { fn(k); };
  detail::BlockLoop<decltype(call)> loop{&call, units, units};
  run_units(units, n_threads(), &decltype(loop)::call, &loop);
}

/// fn() run beside the caller: on a pool thread, started at once, while the caller goes on
/// with its own steps and loops (which then have one thread fewer until fn is done), when the
/// caller's loops may use more than one thread (n_threads() > 1) and the pool has a thread to
/// give (thread_pool.hpp: start_job); otherwise by wait(), on the caller. For a step that reads
/// nothing the caller's next steps write, and writes nothing they read: then its results, and
/// theirs, are those of running it at wait(). Its own loops run serially on the pool thread (as
/// in any unit of a loop) and in parallel when it runs on the caller: the same results, by
/// parallel.hpp's rule. Why: one step on one core needs no merges and passes no rows between
/// the cores, so the pair costs less than both steps split across the cores in turn.
template <class Fn>
class Beside {
 public:
  explicit Beside(Fn fn) : fn_(std::move(fn)) {
    started_ = n_threads() > 1 && start_job(&call, this);
  }
  Beside(const Beside&) = delete;
  Beside& operator=(const Beside&) = delete;
  /// Returns once fn has run (rethrows what it threw).
  void wait() {
    if (waited_) return;
    waited_ = true;
    if (started_)
      finish_job();
    else
      fn_();
  }
  /// Waits for fn if it was started and not waited for (the caller's own steps threw): fn
  /// reads the caller's data, which must outlive it. What fn threw is then dropped.
  ~Beside() {
    if (waited_ || !started_) return;
    waited_ = true;
    try {
      finish_job();
    } catch (...) {  // the caller's exception is already on its way
    }
  }

 private:
  static void call(void* self, std::size_t, std::size_t) { static_cast<Beside*>(self)->fn_(); }
  Fn fn_;
  bool started_ = false, waited_ = false;
};

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
