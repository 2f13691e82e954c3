// services: the monthly order of the service submodels and shared helpers.
#include "sim/services/services.hpp"

namespace childsim {

bool all_parents_work(const Households& h, std::size_t i) {
  const bool mother_ok = !h.has_mother[i] || h.mother_works[i];
  const bool partner_ok = !h.partnered[i] || h.partner_works[i];
  return (h.has_mother[i] || h.partnered[i]) && mother_ok && partner_ok;
}

int age_at_last_september(int month, int birth_month, YearMonth start) {
  const int calendar_month = start.plus(month).month;              // 1..12
  const int since_september = (calendar_month - 9 + 12) % 12;      // months since 1 Sept
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
  const bool year_end = cx.scenario.start.plus(st.month).month == 12 ||
                        st.month == cx.scenario.n_months() - 1;
  if (year_end) record_indicators(cx, st, rec);
}

}  // namespace childsim
