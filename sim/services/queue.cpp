// queue: Erlang C and the event-by-event M/M/c simulation.
#include "sim/services/queue.hpp"

#include "sim/core/check.hpp"  // CHILDSIM_CHECK

#include <boost/random/exponential_distribution.hpp>  // boost::random::exponential_distribution

#include <algorithm>   // std::max, std::push_heap, std::pop_heap
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

}  // namespace childsim
