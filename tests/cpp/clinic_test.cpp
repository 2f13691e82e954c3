// clinic_test: the M/M/c and M/M/c/K queues (Erlang C and the finite queue with balking
// against textbook closed forms and against event-by-event simulations; waits monotone in load
// and servers) and the paediatric clinic submodel (capacity, conservation of visits, closures,
// threads, the winter peak, an added doctor-session, the home-point tables kept between
// months, the children counted from the agent census), each checked against a reference
// computed here from the inputs.
#include "sim/core/rng.hpp"               // Stream
#include "sim/demography/demography.hpp"  // step_demography, retire_households
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model
#include "sim/run/ensemble.hpp"           // run_scenario, RunOptions
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "sim/services/queue.hpp"     // erlang_c, mmck, clinic_month, simulate_mmc, simulate_mmck
#include "sim/services/services.hpp"  // step_clinic, ServiceContext
#include "test_support.hpp"

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads
#include <catch2/catch.hpp>

#include <algorithm>  // std::min
#include <cmath>      // std::floor, std::sqrt, std::isnan, std::isinf, std::pow, std::exp
#include <limits>     // std::numeric_limits
#include <string>     // std::string
#include <vector>     // std::vector

using namespace childsim;

namespace {

/// Erlang C from the textbook sum: P0 = [Σ_{k<c} aᵏ/k! + aᶜ/(c!(1−ρ))]⁻¹, C = aᶜ/(c!(1−ρ))·P0
/// (Gross & Harris §2.3), in long double. Returns {C, Wq}.
std::pair<double, double> erlang_c_reference(double lambda, double mu, int c) {
  const long double a = lambda / mu, rho = a / c;
  long double term = 1, sum = 0;  // term = a^k / k!
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const long double last = term / (1 - rho);
  const long double p_wait = last / (sum + last);
  return {static_cast<double>(p_wait), static_cast<double>(p_wait / (c * mu - lambda))};
}

/// The small test scenario, shortened.
Scenario small(int replicates, int months) {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = replicates;
  sc.end = sc.start.plus(months - 1);
  return sc;
}

std::vector<int> clinic_facilities(const Scenario& sc) {
  return sc.facilities.of_service(Service::clinic);
}

/// Scale the sessions of every district clinic, so that a fifth of the population meets the
/// district's capacity pressure (small.yaml has population_scale 0.2).
void scale_district_clinics(Scenario& sc, double factor) {
  Facilities& F = sc.facilities;
  for (int f : clinic_facilities(sc)) {
    if (F.street[static_cast<std::size_t>(f)] < 0) continue;
    for (int t = 0; t < F.n_months; ++t) {
      auto& cap = F.capacity_schedule[static_cast<std::size_t>(f * F.n_months + t)];
      cap = static_cast<std::int32_t>(std::lround(cap * factor));
    }
  }
}

double param(const Scenario& sc, const std::string& name) {
  return sc.base.parameters[name];
}

/// Patients a doctor of clinic f sees in a session: min(visits per session, μ·H).
double per_session(const Scenario& sc, int f) {
  const double most =
      60.0 / param(sc, "clinic.service_minutes") * param(sc, "clinic.session_hours");
  const double stated = sc.facilities.visits_per_session[static_cast<std::size_t>(f)];
  return stated > 0 ? std::min(stated, most) : most;  // 0: not stated
}

/// Visits a clinic can serve in month t: sessions × min(visits per session, μ·H).
std::int64_t visit_capacity(const Scenario& sc, int f, int t) {
  return static_cast<std::int64_t>(std::floor(sc.facilities.capacity(f, t) * per_session(sc, f)));
}

/// M/M/c/K from the textbook closed forms (Gross & Harris, *Fundamentals of Queueing Theory*,
/// §2.5, ρ = λ/(cμ) ≠ 1): p0 = [Σ_{n<c} aⁿ/n! + aᶜ/c! (1 − ρ^{K−c+1}) / (1 − ρ)]⁻¹,
/// p_K = a^K / (c! c^{K−c}) p0, Lq = p0 aᶜ ρ / (c! (1−ρ)²) [1 − ρ^{K−c+1} − (1−ρ)(K−c+1) ρ^{K−c}],
/// Wq = Lq / (λ (1 − p_K)) (Little's law for those who join). Returns {p_K, Wq}.
std::pair<double, double> mmck_reference(double lambda, double mu, int c, int K) {
  const long double a = lambda / mu, rho = a / c;
  long double sum = 0, term = 1;  // aⁿ/n!
  for (int n = 0; n < c; ++n) {
    sum += term;
    term *= a / (n + 1);
  }
  const long double ac = term;  // aᶜ/c!
  const long double p0 = 1 / (sum + ac * (1 - std::pow(rho, K - c + 1)) / (1 - rho));
  const long double pk = ac * std::pow(rho, K - c) * p0;
  const long double lq =
      p0 * ac * rho / ((1 - rho) * (1 - rho)) *
      (1 - std::pow(rho, K - c + 1) - (1 - rho) * (K - c + 1) * std::pow(rho, K - c));
  return {static_cast<double>(pk), static_cast<double>(lq / (lambda * (1 - pk)))};
}

/// Visits per child per year at age a, from the parameter table.
double visits_per_year(const Scenario& sc, int a) {
  if (a == 0) return param(sc, "clinic.visits_age0");
  if (a <= 2) return param(sc, "clinic.visits_age1_2");
  if (a <= 5) return param(sc, "clinic.visits_age3_5");
  if (a <= 11) return param(sc, "clinic.visits_age6_11");
  return param(sc, "clinic.visits_age12_17");
}

/// Report a failed expectation once per call site, with its context, without Catch's cost per
/// passing assertion (these loops check tens of thousands of values).
#define EXPECT(cond, context)                         \
  do {                                                \
    if (!(cond)) {                                    \
      FAIL_CHECK(#cond << " failed for " << context); \
      return false;                                   \
    }                                                 \
  } while (0)

/// Every visit is counted once: wanted = served in the district + ended outside, in every
/// replicate and month; and what the clinics outside served is what ended outside.
bool conserved(const Scenario& sc, const io::Dataset& ds) {
  const auto& demanded = test::ints(ds, "clinic_visits_demanded");
  const auto& outside = test::ints(ds, "clinic_visits_outside");
  const auto& visits = test::ints(ds, "clinic_visits");
  const int R = sc.replicates, T = sc.n_months(), S = sc.base.n_streets();
  const int NF = static_cast<int>(sc.facilities.size());
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      long wanted = 0, out = 0, in_district = 0, at_outside = 0;
      for (int s = 0; s < S; ++s) {
        wanted += demanded[(r * T + t) * S + s];
        out += outside[(r * T + t) * S + s];
      }
      for (int f : clinic_facilities(sc))
        (sc.facilities.street[f] < 0 ? at_outside : in_district) += visits[(r * T + t) * NF + f];
      EXPECT(wanted == in_district + out, "replicate " << r << " month " << t);
      EXPECT(at_outside == out, "replicate " << r << " month " << t);  // it admits every age
    }
  return true;
}

/// Served visits within capacity; offered = served + refused; refusals near what the queue
/// at the offered load loses; utilisation and the queue outputs as computed here from the
/// inputs and the offered visits.
bool within_capacity(const Scenario& sc, const io::Dataset& ds, long& total_diverted) {
  const auto& visits = test::ints(ds, "clinic_visits");
  const auto& diverted = test::ints(ds, "clinic_visits_diverted");
  const auto& offered = test::ints(ds, "clinic_visits_offered");
  const auto& util = test::reals(ds, "clinic_utilisation");
  const auto& wait = test::reals(ds, "clinic_wait_minutes");
  const auto& over30 = test::reals(ds, "clinic_p_wait_over_30min");
  const auto& away = test::reals(ds, "clinic_share_turned_away");
  const auto& gone = test::reals(ds, "clinic_share_diverted");
  const int R = sc.replicates, T = sc.n_months();
  const int NF = static_cast<int>(sc.facilities.size());
  const double hours = param(sc, "clinic.session_hours");
  const int half_days = static_cast<int>(param(sc, "clinic.half_days_per_month"));
  const double tolerance = param(sc, "clinic.wait_tolerance_minutes");
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      for (int f = 0; f < NF; ++f) {
        const int k = (r * T + t) * NF + f;
        const std::string& id = sc.facilities.id[f];
        if (sc.facilities.service_of(f) != Service::clinic) {
          EXPECT(visits[k] == 0 && std::isnan(util[k]) && std::isnan(wait[k]), id);
          continue;
        }
        total_diverted += diverted[k];
        const std::int64_t cap = visit_capacity(sc, f, t);
        EXPECT(offered[k] == visits[k] + diverted[k], id << " month " << t);
        const int sessions = sc.facilities.capacity(f, t);
        if (sc.facilities.street[f] < 0) {
          EXPECT(diverted[k] == 0 && std::isnan(wait[k]), id << " month " << t);  // never refuses
          continue;
        }
        EXPECT(visits[k] <= cap, id << " month " << t);
        if (sessions == 0) {
          EXPECT(std::isnan(wait[k]) && offered[k] == 0, id << " month " << t);
          continue;
        }
        EXPECT(std::abs(util[k] - static_cast<double>(visits[k]) / cap) < 1e-12,
               id << " month " << t);
        const ClinicMonth q =
            clinic_month(offered[k], sessions, half_days, per_session(sc, f), hours, tolerance, 30);
        EXPECT(wait[k] == q.mean_wait_min && over30[k] == q.p_wait_over &&
                   away[k] == q.share_turned_away && gone[k] == q.share_diverted,
               id << " month " << t);
        // Refusals: what the queue loses, rounded (one round: within 1 visit; a later round
        // adds visits refused elsewhere and may round once more), or more at capacity.
        const double lost = offered[k] - q.served;
        EXPECT(diverted[k] >= std::floor(lost) - 1 &&
                   (diverted[k] <= std::ceil(lost) + 1 || visits[k] == cap),
               id << " month " << t << ": refused " << diverted[k] << ", queue loses " << lost);
      }
  return true;
}

}  // namespace

TEST_CASE("clinic, erlang_c matches textbook values", "[clinic][queue]") {
  // Gross & Harris: λ = 2, μ = 1, c = 3 gives C = 4/9 and Wq = C / (cμ − λ) = 4/9.
  const QueueMetrics q = erlang_c(2, 1, 3);
  CHECK(q.p_wait == Approx(4.0 / 9.0).epsilon(1e-12));
  CHECK(q.mean_wait == Approx(4.0 / 9.0).epsilon(1e-12));
  CHECK(q.utilisation == Approx(2.0 / 3.0));
  // M/M/1: C = ρ, Wq = ρ / (μ − λ).
  const QueueMetrics m1 = erlang_c(5, 6, 1);
  CHECK(m1.p_wait == Approx(5.0 / 6.0));
  CHECK(m1.mean_wait == Approx(5.0 / 6.0));
  // Against the textbook sum, small to large c.
  for (const auto& [lambda, mu, c] : std::vector<std::tuple<double, double, int>>{
           {0.5, 1, 1}, {3.2, 1, 4}, {8, 1, 10}, {9.9, 1, 10}, {45, 1, 50}, {150, 2, 90}}) {
    const auto [p, w] = erlang_c_reference(lambda, mu, c);
    const QueueMetrics e = erlang_c(lambda, mu, c);
    INFO("lambda " << lambda << " mu " << mu << " c " << c);
    CHECK(e.p_wait == Approx(p).epsilon(1e-10));
    CHECK(e.mean_wait == Approx(w).epsilon(1e-10));
  }
  // No arrivals: nobody waits. Unstable: everyone waits, for ever.
  CHECK(erlang_c(0, 1, 2).p_wait == 0);
  CHECK(erlang_c(0, 1, 2).mean_wait == 0);
  CHECK(erlang_c(3, 1, 3).p_wait == 1);
  CHECK(std::isinf(erlang_c(3, 1, 3).mean_wait));
  CHECK(std::isinf(erlang_c(4, 1, 3).mean_wait));
}

TEST_CASE("clinic, simulated M/M/c queue matches Erlang C", "[clinic][queue]") {
  // Utilisation 0.8 with 4 and with 10 servers; 100 independent runs of about 48,000
  // customers each (one stream per run), the first 500 time units discarded.
  for (const auto& [lambda, c, duration] :
       std::vector<std::tuple<double, int, double>>{{3.2, 4, 15000}, {8.0, 10, 6000}}) {
    const double mu = 1;
    const int runs = 100;
    double n = 0, waited = 0, wait = 0, sum_w = 0, sum_w2 = 0;
    for (int k = 0; k < runs; ++k) {
      Stream rng(2024, 0, static_cast<std::uint64_t>(k), 0, Purpose::clinic);
      const SimulatedQueue s = simulate_mmc(lambda, mu, c, duration, 500, rng);
      n += s.customers;
      waited += s.p_wait * s.customers;
      wait += s.mean_wait * s.customers;
      sum_w += s.mean_wait;
      sum_w2 += s.mean_wait * s.mean_wait;
    }
    const QueueMetrics e = erlang_c(lambda, mu, c);
    const double p = waited / n, w = wait / n;
    const double se_w = std::sqrt((sum_w2 / runs - (sum_w / runs) * (sum_w / runs)) / (runs - 1));
    INFO("lambda " << lambda << " c " << c << ": P(wait) " << p << " vs " << e.p_wait << ", Wq "
                   << w << " vs " << e.mean_wait << " (s.e. " << se_w << ")");
    CHECK(n > 0.9 * runs * lambda * (duration - 500));
    CHECK(std::abs(p - e.p_wait) < 0.02 * e.p_wait);
    CHECK(std::abs(w - e.mean_wait) < 0.04 * e.mean_wait);
    CHECK(std::abs(w - e.mean_wait) < 4 * se_w);
  }
}

TEST_CASE("clinic, mmck matches textbook closed forms", "[clinic][queue]") {
  // By hand: M/M/2/3 with λ = μ = 1 has p_n ∝ 1, 1, 1/2, 1/4, so p_3 = 1/11; an arrival joins
  // at n = 2 with probability (2/11) / (10/11) = 0.2 and then waits Exp(2): Wq = 0.1 and
  // P(wait > t) = 0.2 e^{−2t}.
  const FiniteQueueMetrics h = mmck(1, 1, 2, 3, 0.5);
  CHECK(h.p_block == Approx(1.0 / 11).epsilon(1e-12));
  CHECK(h.p_wait == Approx(0.2).epsilon(1e-12));
  CHECK(h.mean_wait == Approx(0.1).epsilon(1e-12));
  CHECK(h.p_wait_over == Approx(0.2 * std::exp(-1.0)).epsilon(1e-12));
  CHECK(h.utilisation == Approx((10.0 / 11) / 2).epsilon(1e-12));
  // M/M/1/K: p_K = (1 − ρ) ρ^K / (1 − ρ^{K+1}) (Gross & Harris §2.4).
  for (const auto& [rho, K] : std::vector<std::pair<double, int>>{{0.5, 4}, {0.9, 20}, {1.7, 6}}) {
    const double pk = (1 - rho) * std::pow(rho, K) / (1 - std::pow(rho, K + 1));
    CHECK(mmck(rho, 1, 1, K, 0).p_block == Approx(pk).epsilon(1e-10));
  }
  // M/M/c/K against the closed forms, light to overloaded (ρ up to 1.5: a finite queue is
  // always stable), small to large c.
  for (const auto& [lambda, mu, c, K] : std::vector<std::tuple<double, double, int, int>>{
           {2, 1, 3, 5}, {4.5, 1, 3, 12}, {9, 2, 4, 30}, {30, 1, 20, 40}, {12, 0.5, 30, 200}}) {
    const auto [pk, wq] = mmck_reference(lambda, mu, c, K);
    const FiniteQueueMetrics q = mmck(lambda, mu, c, K, 0);
    INFO("lambda " << lambda << " mu " << mu << " c " << c << " K " << K);
    CHECK(q.p_block == Approx(pk).epsilon(1e-9));
    CHECK(q.mean_wait == Approx(wq).epsilon(1e-9));
  }
  // A long enough line is M/M/c: Erlang C, with the M/M/c wait tail P(W > t) = C e^{−(cμ−λ)t}
  // (Gross & Harris §2.3).
  for (const auto& [lambda, mu, c] :
       std::vector<std::tuple<double, double, int>>{{2, 1, 3}, {8, 1, 10}, {5, 6, 1}}) {
    const QueueMetrics e = erlang_c(lambda, mu, c);
    const FiniteQueueMetrics q = mmck(lambda, mu, c, 2000, 1.5);
    CHECK(q.p_block < 1e-12);
    CHECK(q.p_wait == Approx(e.p_wait).epsilon(1e-9));
    CHECK(q.mean_wait == Approx(e.mean_wait).epsilon(1e-9));
    CHECK(q.p_wait_over == Approx(e.p_wait * std::exp(-(c * mu - lambda) * 1.5)).epsilon(1e-9));
  }
  // Balking: join iff (n − c + 1) / (cμ) ≤ T, so K = c + ⌊T c μ⌋.
  CHECK(balking_capacity(5, 2, 2.0) == 22);
  CHECK(balking_capacity(5, 2, 0.0) == 2);
  CHECK(balking_capacity(3.75, 4, 0.5) == 11);
}

TEST_CASE("clinic, simulated M/M/c/K with balking matches mmck", "[clinic][queue]") {
  // Event by event, without mmck: a line that holds at most K, and arrivals that leave when
  // their expected wait exceeds the tolerance; overloaded (ρ = 1.1) and moderate cases.
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& [lambda, c, K, tolerance] : std::vector<std::tuple<double, int, int, double>>{
           {2.2, 2, 10, inf}, {2.2, 2, 40, 2.0}, {3.2, 4, 12, 1.1}}) {
    const double mu = 1, tail = 0.5, duration = 15000;
    const int runs = 60;
    double n = 0, blocked = 0, joined = 0, wait = 0, over = 0;
    for (int k = 0; k < runs; ++k) {
      Stream rng(2025, 1, static_cast<std::uint64_t>(k), 0, Purpose::clinic);
      const SimulatedFiniteQueue s =
          simulate_mmck(lambda, mu, c, K, tolerance, duration, 200, tail, rng);
      n += s.customers;
      blocked += s.p_block * s.customers;
      const double j = (1 - s.p_block) * s.customers;
      joined += j;
      wait += s.mean_wait * j;
      over += s.p_wait_over * j;
    }
    const int limit = std::min(K, tolerance == inf ? K : balking_capacity(mu, c, tolerance));
    const FiniteQueueMetrics q = mmck(lambda, mu, c, limit, tail);
    INFO("lambda " << lambda << " c " << c << " K " << K << " tolerance " << tolerance << ": lost "
                   << blocked / n << " vs " << q.p_block << ", Wq " << wait / joined << " vs "
                   << q.mean_wait << ", P(W > tail) " << over / joined << " vs " << q.p_wait_over);
    CHECK(std::abs(blocked / n - q.p_block) < 0.03 * q.p_block);
    CHECK(std::abs(wait / joined - q.mean_wait) < 0.03 * q.mean_wait);
    CHECK(std::abs(over / joined - q.p_wait_over) < 0.03 * q.p_wait_over);
  }
}

TEST_CASE("clinic, the month's wait rises with offered load and falls with every session",
          "[clinic][queue]") {
  // A CHC clinic: 20 patients a doctor-session of 4 hours, 20 half-days, tolerance 120 min.
  const double per = 20, hours = 4, tolerance = 120;
  // In load, at 40 sessions: waits, P(wait > 30) and the shares lost never fall.
  ClinicMonth prev = clinic_month(0, 40, 20, per, hours, tolerance, 30);
  for (double offered = 20; offered <= 1600; offered += 20) {
    const ClinicMonth q = clinic_month(offered, 40, 20, per, hours, tolerance, 30);
    INFO("offered " << offered);
    CHECK(q.mean_wait_min > prev.mean_wait_min);
    CHECK(q.p_wait_over >= prev.p_wait_over);
    CHECK(q.share_diverted + q.share_turned_away > prev.share_diverted + prev.share_turned_away);
    CHECK(q.served > prev.served);  // throughput still grows
    CHECK(q.served <= 40 * per);    // never above the month's quota
    prev = q;
  }
  // In sessions, at a fixed offered load (the full quota of 40 sessions): every session added,
  // one at a time from 1 to 90, lowers the wait; a clinic below the half-days opens more of
  // them, one at or above adds a doctor to one half-day.
  for (const double offered : {200.0, 800.0, 1200.0}) {
    double last = std::numeric_limits<double>::infinity();
    for (int sessions = 1; sessions <= 90; ++sessions) {
      const ClinicMonth q = clinic_month(offered, sessions, 20, per, hours, tolerance, 30);
      INFO("offered " << offered << " sessions " << sessions);
      CHECK(q.mean_wait_min < last);
      last = q.mean_wait_min;
    }
  }
  // A quota shorter than the tolerance: the quota is the limit, and what is lost is turned away.
  const ClinicMonth quota = clinic_month(1200, 40, 20, per, hours, 600, 30);
  CHECK(quota.share_turned_away > 0);
  CHECK(quota.share_diverted == 0);
}

TEST_CASE("clinic, served visits never exceed capacity and every visit is counted once",
          "[clinic]") {
  Scenario sc = small(2, 24);
  scale_district_clinics(sc, sc.population_scale);  // the district's pressure at full scale
  const auto ds = run_scenario(sc);
  long total_diverted = 0;
  CHECK(within_capacity(sc, ds, total_diverted));
  CHECK(total_diverted > 0);  // the test exercises diversion
  CHECK(conserved(sc, ds));
}

TEST_CASE("clinic, closing a CHC sends its street's visits elsewhere", "[clinic]") {
  Scenario base = small(2, 24);
  // The first CHC clinic open at the start, and its street.
  int chc = -1;
  for (int f : clinic_facilities(base))
    if (base.facilities.kind_of(f).id == "chc_clinic" && base.facilities.capacity(f, 0) > 0) {
      chc = f;
      break;
    }
  REQUIRE(chc >= 0);
  const int street = base.facilities.street[chc];
  Scenario closed = base;
  for (int t = 0; t < closed.facilities.n_months; ++t)
    closed.facilities.capacity_schedule[chc * closed.facilities.n_months + t] = 0;
  const auto a = run_scenario(base), b = run_scenario(closed);
  const int R = base.replicates, T = base.n_months(), S = base.base.n_streets();
  const int NF = static_cast<int>(base.facilities.size());
  long wanted_a = 0, wanted_b = 0, elsewhere_a = 0, elsewhere_b = 0;
  double walk_a = 0, walk_b = 0;
  long served_closed = 0;
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      const int k = (r * T + t) * NF + chc, ks = (r * T + t) * S + street;
      served_closed +=
          test::ints(b, "clinic_visits")[k] + test::ints(b, "clinic_visits_diverted")[k];
      wanted_a += test::ints(a, "clinic_visits_demanded")[ks];
      wanted_b += test::ints(b, "clinic_visits_demanded")[ks];
      walk_a += test::reals(a, "clinic_mean_walk_m")[ks];
      walk_b += test::reals(b, "clinic_mean_walk_m")[ks];
      for (int f : clinic_facilities(base))
        if (f != chc) {
          elsewhere_a += test::ints(a, "clinic_visits")[(r * T + t) * NF + f];
          elsewhere_b += test::ints(b, "clinic_visits")[(r * T + t) * NF + f];
        }
    }
  INFO("street " << base.base.streets[street].id << ": visits wanted " << wanted_a << " / "
                 << wanted_b << ", served by other clinics " << elsewhere_a << " / " << elsewhere_b
                 << ", mean walk " << walk_a / (R * T) << " / " << walk_b / (R * T));
  // The closed clinic serves and turns away nothing (closed clinics are not options); the
  // street's children want exactly the same visits (common random numbers: the visits wanted
  // are drawn before the clinics are chosen); other clinics serve the visits the closed one
  // served, and the street walks further.
  CHECK(served_closed == 0);
  CHECK(test::ints(a, "clinic_visits_demanded") == test::ints(b, "clinic_visits_demanded"));
  CHECK(wanted_b == wanted_a);
  CHECK(elsewhere_b > elsewhere_a);
  CHECK(walk_b > walk_a);
  long diverted = 0;
  CHECK(within_capacity(closed, b, diverted));
  CHECK(conserved(closed, b));
}

TEST_CASE("clinic, a clinic without visits_per_session sees what fits in a session", "[clinic]") {
  // A clinic a scenario opens states no visits per session (0): its doctors see
  // 60 x session_hours / service_minutes a session (parameters.yaml clinic.service_minutes),
  // not none. The busiest CHC, with its stated figure removed, serves visits, never more than
  // sessions x that many a month, and the visits stay conserved.
  Scenario sc = small(2, 24);
  scale_district_clinics(sc, sc.population_scale);
  int chc = -1;
  for (int f : clinic_facilities(sc))
    if (sc.facilities.kind_of(f).id == "chc_clinic" && sc.facilities.capacity(f, 0) > 0) {
      chc = f;
      break;
    }
  REQUIRE(chc >= 0);
  sc.facilities.visits_per_session[static_cast<std::size_t>(chc)] = 0;
  const double most =
      60.0 / param(sc, "clinic.service_minutes") * param(sc, "clinic.session_hours");
  const auto ds = run_scenario(sc);
  const int R = sc.replicates, T = sc.n_months();
  const int NF = static_cast<int>(sc.facilities.size());
  long served = 0;
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      const long v = test::ints(ds, "clinic_visits")[(r * T + t) * NF + chc];
      CHECK(v <= static_cast<long>(std::floor(sc.facilities.capacity(chc, t) * most)));
      served += v;
    }
  CHECK(served > 0);
  long diverted = 0;
  CHECK(within_capacity(sc, ds, diverted));
  CHECK(conserved(sc, ds));
}

TEST_CASE("clinic, outputs are identical for 1 and 3 threads", "[clinic][threads]") {
  Scenario sc = small(2, 24);
  scale_district_clinics(sc, sc.population_scale);
  RunOptions one, three;
  one.threads = 1;
  three.threads = 3;
  const auto a = run_scenario(sc, one), b = run_scenario(sc, three);
  CHECK(test::check_outputs_identical(a, b, "clinic_") == 11);
  // Visits were refused and chose again (the next choices are computed in parallel over the
  // refused packets, the draws made serially).
  long diverted = 0;
  for (const std::int32_t d : test::ints(a, "clinic_visits_diverted")) diverted += d;
  CHECK(diverted > 1000);
}

TEST_CASE("clinic, January demand exceeds July demand by the winter peak", "[clinic]") {
  // Expected visits in month t: Σ over street and age of children × v(age) / 12 × seasonal(t),
  // with seasonal = 1 ± winter_peak in January and July. The visits drawn are Poisson (sums of
  // independent Poissons), so their variance equals their mean.
  Scenario sc = small(4, 24);
  const auto ds = run_scenario(sc);
  const auto& pop = test::ints(ds, "population");
  const auto& demanded = test::ints(ds, "clinic_visits_demanded");
  const int R = sc.replicates, T = sc.n_months(), S = sc.base.n_streets(), A = 18;
  const double peak = param(sc, "clinic.winter_peak");
  REQUIRE(sc.start.month == 1);
  double seen[2] = {0, 0}, base[2] = {0, 0}, seen_all = 0, expected_all = 0;
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      const int month = sc.start.plus(t).month;
      const double seasonal = 1 + peak * std::cos(2 * 3.141592653589793 * (month - 1) / 12);
      double b = 0, d = 0;
      for (int s = 0; s < S; ++s) {
        for (int a = 0; a < A; ++a)
          b += pop[((r * T + t) * S + s) * A + a] * visits_per_year(sc, a) / 12;
        d += demanded[(r * T + t) * S + s];
      }
      seen_all += d;
      expected_all += b * seasonal;
      if (month == 1 || month == 7) {
        seen[month == 7] += d;
        base[month == 7] += b;
      }
    }
  const double jan = seen[0] / base[0], jul = seen[1] / base[1];
  INFO("January " << seen[0] << " visits (" << jan << " × the yearly mean rate), July " << seen[1]
                  << " (" << jul << "); all months " << seen_all << " vs " << expected_all);
  CHECK(std::abs(seen_all - expected_all) < 4 * std::sqrt(expected_all));
  CHECK(std::abs(seen[0] - base[0] * (1 + peak)) < 4 * std::sqrt(base[0] * (1 + peak)));
  CHECK(std::abs(seen[1] - base[1] * (1 - peak)) < 4 * std::sqrt(base[1] * (1 - peak)));
  CHECK(jan / jul == Approx((1 + peak) / (1 - peak)).epsilon(0.05));
}

TEST_CASE("clinic, one more doctor-session a week at the busiest CHC lowers its wait", "[clinic]") {
  // The CHC with the most offered visits over the run gets 4 more sessions a month (one a
  // week); in every replicate its mean wait over the months falls. (Not necessarily in every
  // month: a clinic no longer at capacity also receives visits refused elsewhere, so its
  // offered load can rise; at a given offered load the wait always falls, tested above.)
  // The visits wanted are the same.
  Scenario base = small(3, 24);
  scale_district_clinics(base, base.population_scale);
  const auto a = run_scenario(base);
  const int R = base.replicates, T = base.n_months();
  const int NF = static_cast<int>(base.facilities.size());
  const auto& offered = test::ints(a, "clinic_visits_offered");
  int busiest = -1;
  long most = -1;
  for (int f : clinic_facilities(base)) {
    if (base.facilities.kind_of(f).id != "chc_clinic") continue;
    long sum = 0;
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) sum += offered[(r * T + t) * NF + f];
    if (sum > most) {
      most = sum;
      busiest = f;
    }
  }
  REQUIRE(busiest >= 0);
  Scenario more = base;
  for (int t = 0; t < more.facilities.n_months; ++t) {
    auto& cap = more.facilities.capacity_schedule[busiest * more.facilities.n_months + t];
    if (cap > 0) cap += 4;
  }
  const auto b = run_scenario(more);
  const auto& wa = test::reals(a, "clinic_wait_minutes");
  const auto& wb = test::reals(b, "clinic_wait_minutes");
  for (int r = 0; r < R; ++r) {
    double mean_a = 0, mean_b = 0;
    int months = 0, lower = 0;
    for (int t = 0; t < T; ++t) {
      const int k = (r * T + t) * NF + busiest;
      if (std::isnan(wa[k])) continue;
      mean_a += wa[k];
      mean_b += wb[k];
      months += 1;
      lower += wb[k] < wa[k];
    }
    INFO("replicate " << r << ": " << base.facilities.id[busiest] << " waits " << mean_a / months
                      << " min, with one more session a week " << mean_b / months << "; lower in "
                      << lower << " of " << months << " months");
    REQUIRE(months > 0);
    CHECK(mean_b < mean_a);
    CHECK(lower > months / 2);
  }
  CHECK(test::ints(a, "clinic_visits_demanded") == test::ints(b, "clinic_visits_demanded"));
  long diverted = 0;
  CHECK(within_capacity(more, b, diverted));
  CHECK(conserved(more, b));
}

TEST_CASE(
    "clinic, the home-point tables kept from month to month give the outputs of tables made "
    "afresh each month",
    "[clinic][threads]") {
  // step_clinic keeps its home points' distances and logit weights from the last month and
  // makes them again only when an input differs (a clinic opens or closes, another scenario).
  // Month by month on one state: `kept` steps after the same scenario's last month (tables
  // kept, but in the months a clinic closes or reopens); `fresh` steps right after a scenario
  // with other clinics open (tables made again every month). Same outputs to the bit, at 1
  // and 3 threads.
  Scenario sc = small(1, 24);
  int chc = -1;
  for (int f : clinic_facilities(sc))
    if (sc.facilities.kind_of(f).id == "chc_clinic" && sc.facilities.capacity(f, 0) > 0) {
      chc = f;
      break;
    }
  REQUIRE(chc >= 0);
  Scenario other = sc;  // the CHC closed in every month
  for (int t = 0; t < sc.facilities.n_months; ++t) {
    other.facilities.capacity_schedule[static_cast<std::size_t>(chc * sc.facilities.n_months + t)] =
        0;
    if (t >= 5 && t < 9)  // sc: closed for four months, then open again
      sc.facilities.capacity_schedule[static_cast<std::size_t>(chc * sc.facilities.n_months + t)] =
          0;
  }
  const Model m(sc), mo(other);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  const int saved = omp_get_max_threads();
  for (const int threads : {1, 3}) {
    omp_set_num_threads(threads);
    io::Recorder kept(sc, 1), fresh(sc, 1), scratch(other, 1);
    const ServiceContext cx{m.scenario, m.services}, cx_other{mo.scenario, mo.services};
    for (int t = 0; t < sc.n_months(); ++t) {
      st.month = t;
      step_clinic(cx, st, kept);
      step_clinic(cx_other, st, scratch);
      step_clinic(cx, st, fresh);
    }
    const io::Dataset a = kept.to_dataset({}), b = fresh.to_dataset({});
    INFO(threads << " threads");
    CHECK(test::check_outputs_identical(a, b, "clinic_") == 11);
    // The closure changed the CHC's visits (so the tables were made again when it closed).
    const auto& visits = test::ints(a, "clinic_visits");
    const auto nf = sc.facilities.size();
    CHECK(visits[4 * nf + static_cast<std::size_t>(chc)] > 0);
    CHECK(visits[6 * nf + static_cast<std::size_t>(chc)] == 0);
    CHECK(visits[10 * nf + static_cast<std::size_t>(chc)] > 0);
  }
  omp_set_num_threads(saved);
}

TEST_CASE("clinic, children counted from the agent census give the outputs of a count of the rows",
          "[clinic][census]") {
  // step_clinic counts the children by street and age from the agent census the demography
  // keeps (state.hpp), and from the rows in a state without it (one built by hand). Month by
  // month through two years of births, deaths, moves, arrivals and ageing out, the step is run
  // with the census and again with it taken away: the same outputs to the bit.
  Scenario sc = small(1, 24);
  scale_district_clinics(sc, sc.population_scale);
  const Model m(sc);
  State st = build_initial_state(sc, m.rates, m.counts, 0);
  REQUIRE(st.census.enabled());
  io::Recorder from_census(sc, 1), from_rows(sc, 1);
  const ServiceContext cx{m.scenario, m.services};
  for (int t = 0; t < sc.n_months(); ++t) {
    st.month = t;
    MonthFlows flows(m.rates.n_streets);
    step_demography(st, sc, m.rates, flows);
    step_clinic(cx, st, from_census);
    AgentCensus census = std::move(st.census);
    st.census = AgentCensus{};
    REQUIRE_FALSE(st.census.enabled());
    step_clinic(cx, st, from_rows);
    st.census = std::move(census);
    retire_households(st);
    if (t % 12 == 11) compact(st);
  }
  const io::Dataset a = from_census.to_dataset({}), b = from_rows.to_dataset({});
  CHECK(test::check_outputs_identical(a, b, "clinic_") == 11);
  long demanded = 0;
  for (const std::int32_t d : test::ints(a, "clinic_visits_demanded")) demanded += d;
  CHECK(demanded > 10000);
}
