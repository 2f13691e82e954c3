// migration_schedule: the Rogers–Castro labour-force component.
#include "sim/demography/migration_schedule.hpp"

#include <cmath>  // std::exp, std::log, std::tgamma

namespace childsim {

double LabourPeak::location() const {
  return mode - std::log(rise / fall) / rise;
}

double LabourPeak::operator()(double x) const {
  const double z = x - location();
  return std::exp(-fall * z - std::exp(-rise * z));
}

double LabourPeak::relative(double x) const {
  return (*this)(x) / (*this)(mode);
}

double LabourPeak::integral() const {
  return std::tgamma(fall / rise) / rise;
}

}  // namespace childsim
