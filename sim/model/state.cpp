// state: stable compaction of the agent tables.
#include "sim/model/state.hpp"

#include "sim/core/parallel.hpp"  // par::for_each_unit

#include <functional>  // std::function

namespace childsim {
namespace {
template <class T>
void keep_rows(std::vector<T>& v, const std::vector<std::uint8_t>& keep, std::size_t kept) {
  std::size_t j = 0;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (keep[i]) v[j++] = v[i];
  v.resize(kept);
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
  std::vector<std::int32_t> new_row(h.size(), -1);
  std::size_t kept_h = 0;
  for (std::size_t i = 0; i < h.size(); ++i)
    if (h.present[i]) new_row[i] = static_cast<std::int32_t>(kept_h++);
  const auto keep_h = h.present;  // copy: `present` itself is compacted below
  std::size_t kept_c = 0;
  for (std::size_t i = 0; i < c.size(); ++i) kept_c += c.present[i];
  const auto keep_c = c.present;
  // Each array is compacted on its own: the arrays are shared out among the threads.
  auto h_rows = [&](auto& v) { return [&] { keep_rows(v, keep_h, kept_h); }; };
  auto c_rows = [&](auto& v) { return [&] { keep_rows(v, keep_c, kept_c); }; };
  const std::vector<std::function<void()>> jobs = {
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
      c_rows(c.id),
      [&] {
        keep_rows(c.household, keep_c, kept_c);
        for (auto& hh : c.household) hh = new_row[static_cast<std::size_t>(hh)];
      },
      c_rows(c.birth_month),
      c_rows(c.sex),
      c_rows(c.present),
      c_rows(c.nursery),
      c_rows(c.nursery_since),
      c_rows(c.waiting),
      c_rows(c.waiting_since),
      c_rows(c.kindergarten),
      c_rows(c.kindergarten_since),
      c_rows(c.babyroom_year),
  };
  par::for_each_unit(jobs.size(), [&](std::size_t k) { jobs[k](); });
}

}  // namespace childsim
