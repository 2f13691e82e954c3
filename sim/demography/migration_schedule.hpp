// migration_schedule: the age schedules of migration, in the Rogers–Castro form.
//
// Rogers and Castro (1981, "Model migration schedules", IIASA RR-81-30) write the rate of
// migration at age x as a sum of components; the one that matters for families is the
// labour-force peak
//     L(x) = exp(−α (x − μ) − exp(−λ (x − μ))),
// a double exponential that rises with rate λ before the peak and falls with rate α after
// it. Its mode is at x* = μ + ln(λ/α)/λ and its integral over all ages is Γ(α/λ)/λ. The
// model uses it twice (docs/model.md, "Migration"):
//   - leaving the district: a family leaves with annual probability
//         q(a) = c + (peak − c) · L(a)/L(x*)
//     at the mother's age a (c = migration.out_base, peak = migration.out_rate at the mode
//     migration.out_peak_age). Children move with their family, so the children's schedule is
//     the parents' shifted by the mothers' age at birth: that is the Rogers–Castro childhood
//     component, which falls with the same α as the labour peak;
//   - arriving: the ages of arriving women are distributed as L(a) over 18..49 (mode
//     migration.in_peak_age). An arriving woman brings the children her past fertility
//     implies (population.hpp, add_arriving_family), so children's ages follow the mother's.
// We write the schedule by its mode (an age a reader can judge) instead of μ.
#pragma once

namespace childsim {

/// A Rogers–Castro labour-force component given by its mode (peak age), rising rate λ and
/// falling rate α (both per year, λ > α > 0 for a peak that rises faster than it falls).
struct LabourPeak {
  double mode = 25.0;
  double rise = 0.4;  ///< λ
  double fall = 0.1;  ///< α

  /// The location μ of the textbook form: μ = mode − ln(λ/α)/λ.
  double location() const;
  /// L(x), unnormalised (the textbook form with location()).
  double operator()(double x) const;
  /// L(x) / L(mode): 1 at the peak.
  double relative(double x) const;
  /// ∫ L(x) dx over all x: Γ(α/λ)/λ.
  double integral() const;
};

}  // namespace childsim
