// queue: the M/M/c queue — Erlang C waiting times, and a small simulation to check them.
//
// A clinic session is modelled as an M/M/c queue: patients arrive as a Poisson process of
// rate λ, each of c doctors serves one patient at a time with exponential service times of
// rate μ, and patients wait in one first-come-first-served line. When λ < cμ the queue has a
// steady state; the probability that an arriving patient waits is Erlang's C formula and the
// mean wait in line is C / (cμ − λ) (Erlang 1917; e.g. Gross & Harris, *Fundamentals of
// Queueing Theory*, §2.3). `simulate_mmc` runs the same queue event by event; the tests use it
// as an independent check of `erlang_c` (docs/model.md, "Paediatric clinics").
#pragma once

#include "sim/core/rng.hpp"  // Stream

#include <cstdint>  // std::int64_t

namespace childsim {

/// Steady-state measures of an M/M/c queue. Times are in the unit of 1 / the rates.
struct QueueMetrics {
  double p_wait = 0;       ///< probability that an arrival waits (Erlang C); 1 when unstable
  double mean_wait = 0;    ///< mean time in line before service (Wq); +∞ when unstable
  double utilisation = 0;  ///< λ / (cμ): share of server time busy (may exceed 1: unstable)
};

/// Erlang C for arrival rate `arrival_rate` (λ ≥ 0), service rate per server `service_rate`
/// (μ > 0) and `servers` (c ≥ 1). Stable only when λ < cμ; otherwise p_wait = 1 and the mean
/// wait is infinite. Computed through the Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)),
/// a = λ/μ, then C = B / (1 − ρ(1 − B)), which neither overflows nor loses precision for
/// large c (the textbook sum of aᵏ/k! does both).
[[nodiscard]] QueueMetrics erlang_c(double arrival_rate, double service_rate, int servers);

/// What `simulate_mmc` observed among the customers who arrived after the warm-up.
struct SimulatedQueue {
  double p_wait = 0;           ///< share of customers who waited a positive time
  double mean_wait = 0;        ///< mean time in line
  std::int64_t customers = 0;  ///< customers counted
};

/// Simulate an M/M/c FIFO queue, empty at time 0, until `duration`; customers arriving before
/// `warm_up` are served but not counted. Inter-arrival and service times are exponential
/// (Boost.Random) drawn from `rng`, in the order: inter-arrival time, then that customer's
/// service time. A customer starts service when it arrives or when the earliest server
/// becomes free, whichever is later (this is FIFO for identical servers).
/// A Stream holds 262,144 words and each customer uses about four, so the expected number
/// of arrivals λ·duration must not exceed 50,000: run several streams for longer runs.
[[nodiscard]] SimulatedQueue simulate_mmc(double arrival_rate, double service_rate, int servers,
                                          double duration, double warm_up, Stream& rng);

}  // namespace childsim
