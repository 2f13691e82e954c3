// choice: the multinomial logit choice and the priority order shared by the services.
//
// A family choosing among J options with systematic utilities V_j picks j with probability
// exp(V_j) / Σ_k exp(V_k) (McFadden 1974). We draw the choice by inverting the cumulative
// probabilities with one uniform number from the child's own stream, which is equivalent to
// adding independent Gumbel errors and taking the maximum, and keeps the result a pure
// function of (seed, child, month).
#pragma once

#include <cmath>    // std::exp
#include <cstdint>  // std::uint64_t
#include <vector>   // std::vector

namespace childsim {

/// Logit probabilities of utilities `v` (numerically stable: shifted by the maximum).
inline std::vector<double> logit_probabilities(const std::vector<double>& v) {
  std::vector<double> p(v.size());
  if (v.empty()) return p;
  double vmax = v[0];
  for (double x : v) vmax = x > vmax ? x : vmax;
  double sum = 0;
  for (std::size_t j = 0; j < v.size(); ++j) sum += p[j] = std::exp(v[j] - vmax);
  for (double& x : p) x /= sum;
  return p;
}

/// The option chosen with uniform `u` in [0, 1): the first j whose cumulative probability
/// exceeds u. Returns -1 for an empty choice set.
inline int logit_choice(const std::vector<double>& v, double u) {
  const auto p = logit_probabilities(v);
  double cum = 0;
  for (std::size_t j = 0; j < p.size(); ++j) {
    cum += p[j];
    if (u < cum) return static_cast<int>(j);
  }
  return p.empty() ? -1 : static_cast<int>(p.size()) - 1;  // u within rounding of 1
}

/// The logistic function.
inline double logistic(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

/// A waiting-list priority key: smaller is served first. The documented rule (docs/model.md):
/// 1. families where every parent present works; 2. Shanghai hukou; 3. earlier application
/// month; 4. a fixed random tie-break from the child's id.
inline std::uint64_t priority_key(bool all_parents_work, bool hukou_local, int since_month,
                                  std::uint64_t tie_break) {
  const auto since = static_cast<std::uint64_t>(since_month + 4096) & 0xfffffu;  // 20 bits
  return (static_cast<std::uint64_t>(!all_parents_work) << 62) |
         (static_cast<std::uint64_t>(!hukou_local) << 61) | (since << 40) | (tie_break >> 24);
}

}  // namespace childsim
