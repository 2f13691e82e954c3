// queue: the M/M/c and M/M/c/K queues — Erlang C, finite queues with balking, a clinic month
// as a mix of half-day sessions, and a small simulation to check them.
//
// A clinic session is modelled as an M/M/c queue: patients arrive as a Poisson process of
// rate λ, each of c doctors serves one patient at a time with exponential service times of
// rate μ, and patients wait in one first-come-first-served line. When λ < cμ the queue has a
// steady state; the probability that an arriving patient waits is Erlang's C formula and the
// mean wait in line is C / (cμ − λ) (Erlang 1917; e.g. Gross & Harris, *Fundamentals of
// Queueing Theory*, §2.3). `simulate_mmc` runs the same queue event by event; the tests use it
// as an independent check of `erlang_c` (docs/model.md, "Paediatric clinics").
//
// A clinic with a booking quota, or whose patients leave when the line is too long, is an
// M/M/c/K queue: at most K patients in the clinic, an arrival who finds K there is lost.
// `mmck` gives its steady state from the birth-death balance equations (Gross & Harris §2.5);
// `clinic_month` combines the month's half-day sessions of a clinic (docs/model.md §7.15).
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

/// Steady-state measures of an M/M/c/K queue (FIFO, at most K ≥ c in the system). Waits are
/// of the arrivals who join (not lost); times in the unit of 1 / the rates.
struct FiniteQueueMetrics {
  double p_block = 0;      ///< probability that an arrival finds K in the system (lost)
  double p_wait = 0;       ///< among those who join: probability of a positive wait
  double mean_wait = 0;    ///< among those who join: mean time in line (Wq)
  double p_wait_over = 0;  ///< among those who join: P(wait > `tail_time`)
  double utilisation = 0;  ///< throughput λ(1 − p_block) / (cμ): share of server time busy
};

/// M/M/c/K with arrival rate λ ≥ 0, service rate per server μ > 0, c ≥ 1 servers and room
/// for K ≥ c in the system. Stationary probabilities p_n ∝ Π_{k≤n} λ / (min(k, c) μ),
/// n = 0..K (computed in logs, so any λ/μ and K are safe); by PASTA an arrival sees p_n; one
/// who joins at n ≥ c waits the sum of n − c + 1 exponential times of rate cμ (an Erlang
/// variable), so P(wait > t | n) = Σ_{i ≤ n−c} e^{−cμt} (cμt)^i / i!. Valid for any λ (a finite
/// queue always has a steady state).
[[nodiscard]] FiniteQueueMetrics mmck(double arrival_rate, double service_rate, int servers,
                                      int capacity, double tail_time);

/// The largest number in the system an arrival still joins when it leaves (balks) as soon as
/// its expected wait, (n − c + 1) / (cμ) on finding n ≥ c, would exceed `tolerance`: it joins
/// when n ≤ c − 1 + ⌊tolerance · cμ⌋, so the queue is M/M/c/K with K = c + ⌊tolerance · cμ⌋.
[[nodiscard]] int balking_capacity(double service_rate, int servers, double tolerance);

/// What a clinic's month looks like from its offered load (docs/model.md §7.15).
struct ClinicMonth {
  double share_turned_away = 0;  ///< expected share of offered visits refused by the quota
  double share_diverted = 0;     ///< expected share that leave because the wait is too long
  double mean_wait_min = 0;      ///< mean wait of the visits that join, minutes
  double p_wait_over = 0;        ///< P(wait > tail) of the visits that join
  double served = 0;             ///< expected visits served in the month
};

/// A clinic's month: `sessions` doctor half-day sessions spread over at most `half_days`
/// half-days (⌊S/D⌋ doctors on each, one more on S mod D of them; with S < D, S half-days of
/// one doctor); `offered` visits a month arrive evenly over the open half-days, each of
/// `hours`; a doctor sees `per_session` patients in a session (rate per_session / hours);
/// each half-day is M/M/c/K with K = min(booking quota c × per_session, the balking limit for
/// `tolerance_min`). Refusals count as turned away when the quota is the binding limit, as
/// diverted otherwise. `tail_min`: the wait whose exceedance probability is reported.
[[nodiscard]] ClinicMonth clinic_month(double offered, int sessions, int half_days,
                                       double per_session, double hours, double tolerance_min,
                                       double tail_min);

/// What `simulate_mmck` observed among the customers who arrived after the warm-up.
struct SimulatedFiniteQueue {
  double p_block = 0;          ///< share of arrivals lost (full or balked)
  double p_wait = 0;           ///< among those who joined: share with a positive wait
  double mean_wait = 0;        ///< among those who joined: mean time in line
  double p_wait_over = 0;      ///< among those who joined: share waiting more than `tail_time`
  std::int64_t customers = 0;  ///< arrivals counted
};

/// Simulate, event by event, an M/M/c FIFO queue that holds at most `capacity` customers and
/// whose arrivals balk when their expected wait on arrival, (n − c + 1) / (cμ) with n ≥ c in the
/// system, exceeds `tolerance` (pass +∞ for none): the behaviours that `mmck` and
/// `balking_capacity` describe, simulated without them. Every arrival draws a service time,
/// in the order inter-arrival time, service time. Same limits on `rng` as `simulate_mmc`.
[[nodiscard]] SimulatedFiniteQueue simulate_mmck(double arrival_rate, double service_rate,
                                                 int servers, int capacity, double tolerance,
                                                 double duration, double warm_up, double tail_time,
                                                 Stream& rng);

}  // namespace childsim
