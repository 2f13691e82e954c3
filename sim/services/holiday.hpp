// holiday: the pure parts of the holiday-class submodel (sim/services/holiday.cpp) — the
// calendar of sessions, who is a pupil of holiday-class age, and the nearest-free-place
// allocation — separated so that the tests can check them without running the model.
#pragma once

#include "sim/core/time.hpp"                // YearMonth
#include "sim/services/service_params.hpp"  // ServiceParams

#include <cstdint>  // std::int32_t
#include <vector>   // std::vector

namespace childsim {

/// The two holiday windows; `none` in term time.
enum class HolidayWindow : std::uint8_t { none, summer, winter };

/// Pupils of holiday-class age: age at the last 1 September from 6 to 11 (inclusive).
inline constexpr int holiday_min_age = 6;
inline constexpr int holiday_max_age = 11;

/// Calendar months of the sessions: summer session 1 in July, session 2 in August (the two
/// three-week sessions of 2023 ran 3–21 July and 24 July–11 August); the winter session in
/// January (the two-week session of 2024 ran 22 January–2 February, starting with the school
/// winter break).
inline constexpr int holiday_summer_first = 7;
inline constexpr int holiday_summer_second = 8;
inline constexpr int holiday_winter = 1;

/// The window whose session is held in calendar month `calendar_month` (1..12).
HolidayWindow holiday_window(int calendar_month);

/// The model month of the first session of the window that model month `month` belongs to
/// (July for both summer sessions, January for winter); `month` itself outside the windows.
/// May be negative when the run starts in August. It keys the take-up draw, so a family's
/// decision holds for every session of a window.
int holiday_window_first_month(int month, YearMonth start);

/// A class open in a session: its location and places (capacity ≤ 0: closed).
struct HolidayClass {
  double x_m = 0, y_m = 0;
  std::int32_t capacity = 0;
};

/// The outcome of one session's allocation.
struct HolidayAllocation {
  std::vector<int> place;            ///< per seeker: index into the classes, or -1 (unmet)
  std::vector<double> walk_m;        ///< per seeker: walking distance to the place (0 if unmet)
  std::vector<std::int32_t> filled;  ///< per class: places taken
};

/// Give places to seekers whose homes are `home_x`, `home_y`, taken in the order given (the
/// priority order): each takes the nearest class (walking distance, P.walk_m) that is open,
/// has a free place and lies within `max_m` metres; ties go to the class listed first.
/// Capacity is never exceeded.
HolidayAllocation allocate_holiday_places(const std::vector<HolidayClass>& classes,
                                          const std::vector<double>& home_x,
                                          const std::vector<double>& home_y, const ServiceParams& P,
                                          double max_m);

/// The same allocation as allocate_holiday_places (to the bit), for homes that lie in their
/// street (home_street[k]) where reach[s] lists, in increasing order, every class that some home
/// of street s may have within max_m (facilities_within_reach, reach.hpp): the distances from
/// each seeker to the open classes in reach of its street are computed in parallel beforehand
/// (services.hpp, NearbyFacilities), so that the serial pass in priority order only compares
/// them: the plain scan, a square root per seeker and class with a place, was most of the
/// holiday step's time on the main thread, and the lists by street keep the parallel work below
/// the plain scan's. The plain function stays as the reference the tests compare this one with.
HolidayAllocation allocate_holiday_places_nearby(const std::vector<HolidayClass>& classes,
                                                 const std::vector<double>& home_x,
                                                 const std::vector<double>& home_y,
                                                 const std::vector<std::int16_t>& home_street,
                                                 const std::vector<std::vector<int>>& reach,
                                                 const ServiceParams& P, double max_m);

}  // namespace childsim
