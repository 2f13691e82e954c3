// services: the monthly order of the service submodels and shared helpers.
#include "sim/services/services.hpp"

#include "sim/core/rng.hpp"  // mix64

#include <algorithm>  // std::sort

namespace childsim {

std::vector<std::size_t> displace_latest(const Facilities& F, int month,
                                         const std::vector<int>& facilities, const Children& c,
                                         std::vector<std::int32_t>& place,
                                         const std::vector<std::int32_t>& since,
                                         std::vector<std::int32_t>& enrolled) {
  std::vector<std::size_t> out;
  for (int f : facilities) {
    const auto fu = static_cast<std::size_t>(f);
    const std::int32_t cap = F.capacity(fu, month);
    if (enrolled[fu] <= cap) continue;
    std::vector<std::pair<std::uint64_t, std::size_t>> holders;
    for (std::size_t i = 0; i < c.size(); ++i)
      if (c.present[i] && place[i] == f)
        holders.emplace_back(
            (static_cast<std::uint64_t>(since[i] + 4096) << 40) | (mix64(c.id[i]) >> 24), i);
    std::sort(holders.rbegin(), holders.rend());  // latest first
    for (std::int32_t k = 0; k < enrolled[fu] - cap; ++k) {
      const std::size_t i = holders[static_cast<std::size_t>(k)].second;
      place[i] = -1;
      out.push_back(i);
    }
    enrolled[fu] = cap;
  }
  return out;
}

int age_at_last_september(int month, int birth_month, YearMonth start) {
  const int calendar_month = start.plus(month).month;          // 1..12
  const int since_september = (calendar_month - 9 + 12) % 12;  // months since 1 Sept
  const int september = month - since_september;
  const int months = september - birth_month;
  return months < 0 ? -1 : months / 12;
}

void step_services(const ServiceContext& cx, State& st, io::Recorder& rec) {
  step_kindergarten(cx, st, rec);
  step_nursery(cx, st, rec);
  step_babyroom(cx, st, rec);
  step_holiday(cx, st, rec);
  step_clinic(cx, st, rec);
  step_access(cx, st, rec);
  const bool year_end =
      cx.scenario.start.plus(st.month).month == 12 || st.month == cx.scenario.n_months() - 1;
  if (year_end) record_indicators(cx, st, rec);
}

}  // namespace childsim
