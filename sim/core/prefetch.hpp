// prefetch: a row's cells of several columns requested ahead of their use.
//
// A table kept as one array per column (state.hpp) costs a cache line per column for a row
// read at random. A loop over scattered rows asks for the columns of a row some rows ahead
// (prefetch_row), so that the fetches of several rows overlap instead of each row waiting for
// its own; it matters most at 2 threads, where half of such rows may sit in the other core's
// cache (docs/performance.md, "Every target at one head, in both of the VM's states").
#pragma once

#include <cstddef>  // std::size_t

namespace childsim {

/// Requests row i of each column (a std::vector or anything with data()) for reading.
template <class... Columns>
inline void prefetch_row(std::size_t i, const Columns&... columns) {
  (__builtin_prefetch(columns.data() + i), ...);
}

}  // namespace childsim
