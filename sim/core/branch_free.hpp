// branch_free: per-row choices made without a branch, for loops whose conditions follow no
// pattern.
//
// A scan of the agent tables tests every row (present? a child at home? a woman of 18–49?),
// and the rows that pass are mixed with those that do not in no order a branch predictor can
// learn: a mispredicted branch costs ~15 cycles, more than the rest of such a loop's work
// per row. The helpers here turn the condition into arithmetic: a count index chosen with a
// mask, a list of rows written unconditionally and advanced by the condition. The compiler
// may still emit a branch for `c ? a : b` (GCC does for an index into memory), which is why
// select() masks.
#pragma once

#include <algorithm>  // std::min
#include <cstddef>    // std::size_t
#include <cstdint>    // std::uint8_t, std::uint64_t
#include <cstring>    // std::memcpy
#include <vector>     // std::vector

namespace childsim {

/// `a` if `c`, else `b` (integers), without a branch.
template <class T>
T select(bool c, T a, T b) {
  const T mask = static_cast<T>(T{0} - static_cast<T>(c));
  return static_cast<T>((a & mask) | (b & ~mask));
}

/// Rows per chunk of the two-phase loops: a first loop writes one value per row of a chunk
/// into a small array (no branch and no store to a computed address, so the compiler
/// vectorises it); a second loop uses them (adds counts, lists rows).
constexpr std::size_t chunk_rows = 256;

/// Integer counts by cell, added one row at a time from a chunk's cells (the second loop of a
/// two-phase loop). Kept in four copies, row k of a chunk counted in copy k % 4: consecutive
/// rows often fall in one cell (rows are created street by street, age by age), and an
/// increment of a cell waits for the previous one to reach memory (~5 cycles); four copies
/// let four run at once. Integer sums, so the totals do not depend on the copies.
template <class T>
class Tally {
 public:
  explicit Tally(std::size_t cells) : cells_(cells), n_(4 * cells, 0) {}

  /// Count one row in cell cells[k] for each k < m.
  template <class C>
  void add(const C* cells, std::size_t m) {
    T* n = n_.data();
    const std::size_t c = cells_;
    std::size_t k = 0;
    for (; k + 4 <= m; k += 4) {
      n[cells[k]] += 1;
      n[c + cells[k + 1]] += 1;
      n[2 * c + cells[k + 2]] += 1;
      n[3 * c + cells[k + 3]] += 1;
    }
    for (; k < m; ++k) n[cells[k]] += 1;
  }

  /// Add the counts of cells [0, cells) to out[0, cells).
  template <class U>
  void add_to(U* out, std::size_t cells) const {
    for (std::size_t i = 0; i < cells; ++i)
      out[i] += n_[i] + n_[cells_ + i] + n_[2 * cells_ + i] + n_[3 * cells_ + i];
  }

 private:
  std::size_t cells_;
  std::vector<T> n_;
};

/// Calls fn(k), in increasing order, for the k < n with flags[k] != 0, when few are: eight
/// flags at a time are skipped when all are zero.
template <class Fn>
void for_each_flagged(const std::uint8_t* flags, std::size_t n, Fn&& fn) {
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    std::uint64_t eight;
    std::memcpy(&eight, flags + k, sizeof eight);
    if (eight == 0) continue;
    for (std::size_t j = k; j < k + 8; ++j)
      if (flags[j]) fn(j);
  }
  for (; k < n; ++k)
    if (flags[k]) fn(k);
}

/// Appends to `out`, in row order, the rows i of [begin, end) for which keep(i) is true, when
/// few are. `keep` should be free of branches (`&` and `|` of comparisons, not `&&`, `||`):
/// chunk by chunk, it is evaluated for every row into a flag (a loop the compiler vectorises),
/// then the flagged rows are listed (for_each_flagged).
template <class T, class Keep>
void append_rows_if(std::size_t begin, std::size_t end, Keep&& keep, std::vector<T>& out) {
  std::uint8_t flags[chunk_rows];
  for (std::size_t g = begin; g < end; g += chunk_rows) {
    const std::size_t m = std::min(chunk_rows, end - g);
    for (std::size_t k = 0; k < m; ++k) flags[k] = static_cast<std::uint8_t>(keep(g + k));
    for_each_flagged(flags, m, [&](std::size_t k) { out.push_back(static_cast<T>(g + k)); });
  }
}

}  // namespace childsim
