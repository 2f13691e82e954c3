// time: calendar arithmetic for the month index.
#include "sim/core/time.hpp"

#include <cstdio>  // std::snprintf

namespace childsim {
namespace {
// Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil, public-domain algorithm).
long days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
}  // namespace

std::string YearMonth::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  return buf;
}

long days_between(YearMonth origin, YearMonth m) {
  return days_from_civil(m.year, m.month, 1) - days_from_civil(origin.year, origin.month, 1);
}

bool parse_year_month(const std::string& text, YearMonth& out) {
  int y = 0, mo = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d%c", &y, &mo, &tail) != 2) return false;
  if (text.size() != 7 || mo < 1 || mo > 12 || y < 1900 || y > 2200) return false;
  out = {y, mo};
  return true;
}

}  // namespace childsim
