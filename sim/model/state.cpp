// state: stable compaction of the agent tables.
#include "sim/model/state.hpp"

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
  keep_rows(h.id, keep_h, kept_h);
  keep_rows(h.street, keep_h, kept_h);
  keep_rows(h.x_m, keep_h, kept_h);
  keep_rows(h.y_m, keep_h, kept_h);
  keep_rows(h.mother_birth_month, keep_h, kept_h);
  keep_rows(h.has_mother, keep_h, kept_h);
  keep_rows(h.partnered, keep_h, kept_h);
  keep_rows(h.mother_works, keep_h, kept_h);
  keep_rows(h.partner_works, keep_h, kept_h);
  keep_rows(h.grandparent_care, keep_h, kept_h);
  keep_rows(h.income_band, keep_h, kept_h);
  keep_rows(h.hukou_local, keep_h, kept_h);
  keep_rows(h.taste, keep_h, kept_h);
  keep_rows(h.n_children, keep_h, kept_h);
  keep_rows(h.parity, keep_h, kept_h);
  keep_rows(h.last_birth_month, keep_h, kept_h);
  keep_rows(h.present, keep_h, kept_h);

  std::size_t kept_c = 0;
  for (std::size_t i = 0; i < c.size(); ++i) kept_c += c.present[i];
  const auto keep_c = c.present;
  keep_rows(c.id, keep_c, kept_c);
  keep_rows(c.household, keep_c, kept_c);
  keep_rows(c.birth_month, keep_c, kept_c);
  keep_rows(c.sex, keep_c, kept_c);
  keep_rows(c.present, keep_c, kept_c);
  keep_rows(c.nursery, keep_c, kept_c);
  keep_rows(c.nursery_since, keep_c, kept_c);
  keep_rows(c.waiting, keep_c, kept_c);
  keep_rows(c.waiting_since, keep_c, kept_c);
  keep_rows(c.kindergarten, keep_c, kept_c);
  keep_rows(c.kindergarten_since, keep_c, kept_c);
  keep_rows(c.babyroom_year, keep_c, kept_c);
  for (auto& hh : c.household) hh = new_row[static_cast<std::size_t>(hh)];
}

}  // namespace childsim
