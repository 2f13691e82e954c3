// queue: Erlang C, M/M/c/K with balking, the clinic month, and the event-by-event simulations.
#include "sim/services/queue.hpp"

#include "sim/core/check.hpp"  // CHILDSIM_CHECK

#include <boost/random/exponential_distribution.hpp>  // boost::random::exponential_distribution

#include <algorithm>   // std::max, std::min, std::push_heap, std::pop_heap
#include <cmath>       // std::exp, std::log, std::floor
#include <functional>  // std::greater
#include <limits>      // std::numeric_limits
#include <vector>      // std::vector

namespace childsim {

QueueMetrics erlang_c(double arrival_rate, double service_rate, int servers) {
  CHILDSIM_CHECK(arrival_rate >= 0, "erlang_c: arrival rate must be >= 0");
  CHILDSIM_CHECK(service_rate > 0, "erlang_c: service rate must be > 0");
  CHILDSIM_CHECK(servers >= 1, "erlang_c: at least one server");
  QueueMetrics q;
  const double a = arrival_rate / service_rate;  // offered load in erlangs
  q.utilisation = a / servers;
  if (arrival_rate == 0) return q;
  if (q.utilisation >= 1) {
    q.p_wait = 1;
    q.mean_wait = std::numeric_limits<double>::infinity();
    return q;
  }
  double b = 1;  // Erlang B with 0 servers
  for (int k = 1; k <= servers; ++k) b = a * b / (k + a * b);
  q.p_wait = b / (1 - q.utilisation * (1 - b));
  q.mean_wait = q.p_wait / (servers * service_rate - arrival_rate);
  return q;
}

SimulatedQueue simulate_mmc(double arrival_rate, double service_rate, int servers, double duration,
                            double warm_up, Stream& rng) {
  CHILDSIM_CHECK(arrival_rate > 0 && service_rate > 0 && servers >= 1,
                 "simulate_mmc: rates must be > 0 and servers >= 1");
  CHILDSIM_CHECK(arrival_rate * duration <= 50000,
                 "simulate_mmc: expected arrivals exceed one stream's words (see queue.hpp)");
  boost::random::exponential_distribution<double> inter(arrival_rate), service(service_rate);
  // Times at which each server next becomes free, as a min-heap.
  std::vector<double> free_at(static_cast<std::size_t>(servers), 0.0);
  const std::greater<double> later;
  SimulatedQueue out;
  std::int64_t waited = 0;
  double total_wait = 0;
  double t = 0;
  for (;;) {
    t += inter(rng);
    if (t >= duration) break;
    const double s = service(rng);
    std::pop_heap(free_at.begin(), free_at.end(), later);  // earliest-free server to the back
    const double start = std::max(t, free_at.back());
    free_at.back() = start + s;
    std::push_heap(free_at.begin(), free_at.end(), later);
    if (t < warm_up) continue;
    out.customers += 1;
    waited += start > t;
    total_wait += start - t;
  }
  if (out.customers > 0) {
    out.p_wait = static_cast<double>(waited) / static_cast<double>(out.customers);
    out.mean_wait = total_wait / static_cast<double>(out.customers);
  }
  return out;
}

FiniteQueueMetrics mmck(double arrival_rate, double service_rate, int servers, int capacity,
                        double tail_time) {
  CHILDSIM_CHECK(arrival_rate >= 0, "mmck: arrival rate must be >= 0");
  CHILDSIM_CHECK(service_rate > 0, "mmck: service rate must be > 0");
  CHILDSIM_CHECK(servers >= 1 && capacity >= servers, "mmck: need 1 <= servers <= capacity");
  CHILDSIM_CHECK(tail_time >= 0, "mmck: tail time must be >= 0");
  FiniteQueueMetrics q;
  if (arrival_rate == 0) return q;
  const int c = servers, K = capacity;
  // log p_n up to a constant, then normalised with the largest term as 1.
  std::vector<double> lp(static_cast<std::size_t>(K) + 1, 0.0);
  const double la = std::log(arrival_rate), lmu = std::log(service_rate);
  // log(min(n, c)) is log(c) from n = c on: computed once (the same value as each time).
  const double log_c = std::log(static_cast<double>(c));
  for (int n = 1; n <= K; ++n)
    lp[static_cast<std::size_t>(n)] = lp[static_cast<std::size_t>(n - 1)] + la - lmu -
                                      (n < c ? std::log(static_cast<double>(n)) : log_c);
  double top = lp[0];
  for (double v : lp) top = std::max(top, v);
  double total = 0;
  for (double& v : lp) total += v = std::exp(v - top);  // lp now holds unnormalised p_n
  q.p_block = lp.back() / total;
  const double joined = 1 - q.p_block;  // P(an arrival joins); > 0 since p_0 > 0
  // Waits of those who join: an arrival seeing n ≥ c waits Erlang(n − c + 1, cμ).
  const double rate = c * service_rate, x = rate * tail_time;
  double waited = 0, wait = 0, over = 0;
  double poisson_term = std::exp(-x), poisson_cdf = poisson_term;  // P(Poisson(x) ≤ i), i = 0
  for (int n = c; n < K; ++n) {
    const int i = n - c;  // customers ahead in line
    if (i > 0) {
      poisson_term *= x / i;
      poisson_cdf += poisson_term;
    }
    const double p = lp[static_cast<std::size_t>(n)] / total;
    waited += p;
    wait += p * (i + 1) / rate;
    over += p * std::min(1.0, poisson_cdf);
  }
  q.p_wait = waited / joined;
  q.mean_wait = wait / joined;
  q.p_wait_over = over / joined;
  q.utilisation = arrival_rate * joined / rate;
  return q;
}

int balking_capacity(double service_rate, int servers, double tolerance) {
  CHILDSIM_CHECK(service_rate > 0 && servers >= 1 && tolerance >= 0,
                 "balking_capacity: need service rate > 0, servers >= 1, tolerance >= 0");
  const double extra = std::floor(tolerance * servers * service_rate);
  // Beyond this nobody could be served in any session anyway; keeps K an int.
  return extra > 1e6 ? servers + 1000000 : servers + static_cast<int>(extra);
}

ClinicMonth clinic_month(double offered, int sessions, int half_days, double per_session,
                         double hours, double tolerance_min, double tail_min) {
  CHILDSIM_CHECK(offered >= 0 && sessions >= 1 && half_days >= 1 && per_session > 0 && hours > 0,
                 "clinic_month: need offered >= 0, sessions, half_days >= 1, per_session and "
                 "hours > 0");
  ClinicMonth m;
  const int open = std::min(sessions, half_days);  // half-days with at least one doctor
  const int base = sessions / open, extra = sessions - base * open;
  const double mu = per_session / hours;           // patients per doctor-hour
  const double lambda = offered / (open * hours);  // arrivals per hour of an open half-day
  double joined = 0, wait = 0, over = 0;
  for (const auto& [c, days] : {std::pair<int, int>{base, open - extra}, {base + 1, extra}}) {
    if (days == 0) continue;
    const int quota = std::max(c, static_cast<int>(std::floor(c * per_session + 1e-9)));
    const int balk = balking_capacity(mu, c, tolerance_min / 60.0);
    const FiniteQueueMetrics q = mmck(lambda, mu, c, std::min(quota, balk), tail_min / 60.0);
    const double share = static_cast<double>(days) / open;  // of the month's offered visits
    (quota <= balk ? m.share_turned_away : m.share_diverted) += share * q.p_block;
    const double j = share * (1 - q.p_block);
    joined += j;
    wait += j * q.mean_wait * 60.0;
    over += j * q.p_wait_over;
  }
  m.served = offered * joined;
  m.mean_wait_min = joined > 0 ? wait / joined : 0;
  m.p_wait_over = joined > 0 ? over / joined : 0;
  return m;
}

SimulatedFiniteQueue simulate_mmck(double arrival_rate, double service_rate, int servers,
                                   int capacity, double tolerance, double duration, double warm_up,
                                   double tail_time, Stream& rng) {
  CHILDSIM_CHECK(arrival_rate > 0 && service_rate > 0 && servers >= 1 && capacity >= servers,
                 "simulate_mmck: rates must be > 0 and 1 <= servers <= capacity");
  CHILDSIM_CHECK(arrival_rate * duration <= 50000,
                 "simulate_mmck: expected arrivals exceed one stream's words (see queue.hpp)");
  boost::random::exponential_distribution<double> inter(arrival_rate), service(service_rate);
  const std::greater<double> later;
  std::vector<double> free_at(static_cast<std::size_t>(servers), 0.0);  // min-heap
  std::vector<double> leaves;  // min-heap: departure times of those in the system
  SimulatedFiniteQueue out;
  std::int64_t blocked = 0, joined = 0, waited = 0, over = 0;
  double total_wait = 0;
  double t = 0;
  for (;;) {
    t += inter(rng);
    if (t >= duration) break;
    const double s = service(rng);
    while (!leaves.empty() && leaves.front() <= t) {
      std::pop_heap(leaves.begin(), leaves.end(), later);
      leaves.pop_back();
    }
    const auto n = static_cast<int>(leaves.size());
    const double expected_wait = n >= servers ? (n - servers + 1) / (servers * service_rate) : 0;
    const bool lost = n >= capacity || expected_wait > tolerance;
    const bool counted = t >= warm_up;
    out.customers += counted;
    if (lost) {
      blocked += counted;
      continue;
    }
    std::pop_heap(free_at.begin(), free_at.end(), later);
    const double start = std::max(t, free_at.back());
    free_at.back() = start + s;
    std::push_heap(free_at.begin(), free_at.end(), later);
    leaves.push_back(start + s);
    std::push_heap(leaves.begin(), leaves.end(), later);
    if (!counted) continue;
    joined += 1;
    waited += start > t;
    over += start - t > tail_time;
    total_wait += start - t;
  }
  if (out.customers > 0)
    out.p_block = static_cast<double>(blocked) / static_cast<double>(out.customers);
  if (joined > 0) {
    out.p_wait = static_cast<double>(waited) / static_cast<double>(joined);
    out.p_wait_over = static_cast<double>(over) / static_cast<double>(joined);
    out.mean_wait = total_wait / static_cast<double>(joined);
  }
  return out;
}

}  // namespace childsim
