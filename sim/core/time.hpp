// time: calendar months and the model's month index.
//
// The model steps in calendar months. Month index 0 is the scenario's first month (by default
// January 2024). Stocks are recorded at the end of each month; the time coordinate labels a
// month by the number of days from the first day of the start month to the first day of that
// month ("days since 2024-01-01"), which xarray decodes to the month's first date.
#pragma once

#include <string>  // std::string

namespace childsim {

/// A calendar month.
struct YearMonth {
  int year = 2024;
  int month = 1;  ///< 1..12

  int serial() const { return year * 12 + (month - 1); }
  static YearMonth from_serial(int s) { return {s / 12, s % 12 + 1}; }
  YearMonth plus(int months) const { return from_serial(serial() + months); }
  friend bool operator==(YearMonth a, YearMonth b) { return a.serial() == b.serial(); }
  friend bool operator<(YearMonth a, YearMonth b) { return a.serial() < b.serial(); }
  friend bool operator<=(YearMonth a, YearMonth b) { return a.serial() <= b.serial(); }
  std::string to_string() const;
};

/// Months from `a` to `b` (b − a).
inline int months_between(YearMonth a, YearMonth b) {
  return b.serial() - a.serial();
}

/// Days from the first day of `origin` to the first day of `m` (proleptic Gregorian).
long days_between(YearMonth origin, YearMonth m);

/// Parse "YYYY-MM"; returns false on malformed text or month outside 1..12.
bool parse_year_month(const std::string& text, YearMonth& out);

}  // namespace childsim
