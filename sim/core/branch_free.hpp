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
#include <vector>     // std::vector

namespace childsim {

/// `a` if `c`, else `b`, without a branch.
inline int select(bool c, int a, int b) {
  const int mask = -static_cast<int>(c);
  return (a & mask) | (b & ~mask);
}

/// Appends to `out`, in row order, the rows i of [begin, end) for which keep(i) is true.
/// `keep` should itself be free of branches (`&` and `|` of comparisons, not `&&`, `||`).
template <class T, class Keep>
void append_rows_if(std::size_t begin, std::size_t end, Keep&& keep, std::vector<T>& out) {
  constexpr std::size_t chunk = 256;
  T rows[chunk];
  for (std::size_t g = begin; g < end; g += chunk) {
    const std::size_t m = std::min(chunk, end - g);
    std::size_t n = 0;
    for (std::size_t k = 0; k < m; ++k) {
      rows[n] = static_cast<T>(g + k);  // written always, kept only if n advances
      n += static_cast<std::size_t>(keep(g + k));
    }
    out.insert(out.end(), rows, rows + n);
  }
}

}  // namespace childsim
