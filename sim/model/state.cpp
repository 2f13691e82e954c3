// state: stable compaction of the agent tables.
#include "sim/model/state.hpp"

#include "sim/core/check.hpp"     // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"  // par::for_each_unit

#include <cstdint>     // UINT32_MAX
#include <functional>  // std::function

namespace childsim {
namespace {
// The rows to keep, in order (listed once for all the arrays of a table: a loop over the
// flags in every array mispredicted a branch at each removed row).
std::vector<std::uint32_t> kept_rows(const std::vector<std::uint8_t>& present) {
  std::vector<std::uint32_t> rows;
  rows.reserve(present.size());
  for (std::size_t i = 0; i < present.size(); ++i)
    if (present[i]) rows.push_back(static_cast<std::uint32_t>(i));
  return rows;
}

// In place: rows[j] ≥ j and rows increase, so no element is read after it was overwritten.
template <class T>
void keep_rows(std::vector<T>& v, const std::vector<std::uint32_t>& rows) {
  for (std::size_t j = 0; j < rows.size(); ++j) v[j] = v[rows[j]];
  v.resize(rows.size());
}
}  // namespace

std::int64_t ResidentCounts::street_total(int street) const {
  std::int64_t total = 0;
  for (int sex = 0; sex < n_sexes; ++sex) {
    const auto first = static_cast<std::size_t>((street * n_sexes + sex) * n_cohorts);
    for (std::size_t k = 0; k < static_cast<std::size_t>(n_cohorts); ++k) total += n[first + k];
  }
  return total;
}

void compact(State& s) {
  Households& h = s.households;
  Children& c = s.children;
  // A household stays while it has a present child or a mother of reproductive age; the
  // caller clears `present` for households that leave or no longer matter.
  CHILDSIM_CHECK(h.size() <= UINT32_MAX && c.size() <= UINT32_MAX, "agent tables too large");
  const std::vector<std::uint32_t> keep_h = kept_rows(h.present);
  const std::vector<std::uint32_t> keep_c = kept_rows(c.present);
  std::vector<std::int32_t> new_row(h.size(), -1);
  for (std::size_t j = 0; j < keep_h.size(); ++j) new_row[keep_h[j]] = static_cast<std::int32_t>(j);
  // Each array is compacted on its own: the arrays are shared out among the threads.
  auto h_rows = [&](auto& v) { return [&] { keep_rows(v, keep_h); }; };
  auto c_rows = [&](auto& v) { return [&] { keep_rows(v, keep_c); }; };
  std::vector<std::function<void()>> jobs = {
      h_rows(h.id),
      h_rows(h.street),
      h_rows(h.x_m),
      h_rows(h.y_m),
      h_rows(h.mother_birth_month),
      h_rows(h.has_mother),
      h_rows(h.partnered),
      h_rows(h.mother_works),
      h_rows(h.partner_works),
      h_rows(h.grandparent_care),
      h_rows(h.income_band),
      h_rows(h.hukou_local),
      h_rows(h.taste),
      h_rows(h.n_children),
      h_rows(h.parity),
      h_rows(h.last_birth_month),
      h_rows(h.present),
  };
  for_each_column([&](auto& v) { jobs.push_back(c_rows(v)); }, c);
  par::for_each_unit(jobs.size(), [&](std::size_t k) { jobs[k](); });
  for (auto& hh : c.household) hh = new_row[static_cast<std::size_t>(hh)];  // renumbered
}

}  // namespace childsim
