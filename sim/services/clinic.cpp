// clinic: paediatric outpatient visits — how many, where, who is turned away, how long they wait.
//
// Each month (docs/model.md, "Paediatric clinics"):
//  1. Demand. A child aged a (completed years) makes Poisson(v_a / 12 × seasonal) visits, with
//     v_a = clinic.visits_by_age and seasonal = 1 + winter_peak × cos(2π (calendar month − 1) / 12)
//     (peak in January, trough in July, mean 1 over a year).
//  2. Choice. Each visit goes to one clinic chosen by multinomial logit over the options open
//     to the child: clinics in the district with sessions this month (closed CHCs are not
//     options) that admit its age, and the clinics outside the district (always options).
//     V_j = β_distance × walking km from home + β_quality × quality_j + asc_hospital × [j is
//     not a CHC]; a clinic outside the district is clinic.outside_distance_km from every home.
//  3. Queueing from offered load. A doctor sees n_j = min(visits_per_session_j, 60H /
//     service_minutes) patients (60H / service_minutes when visits_per_session is not stated) in a
//     session of H hours (rate n_j / H). The month's sessions are spread over at most
//     clinic.half_days_per_month half-days, the doctors of a half-day pooled in one line; each
//     half-day is M/M/c/K (queue.hpp, clinic_month) with arrivals = the visits offered to the
//     clinic (all that chose it, before any refusal) spread evenly over its open half-days, K the
//     smaller of the booking quota (c × n_j registered and not yet seen) and the balking limit
//     (nobody joins whose expected wait would exceed clinic.wait_tolerance_minutes). The arrivals
//     the queue loses are refused: turned away (quota) or diverted (wait). Clinic j also never
//     serves more than K_j = ⌊sessions_j × n_j⌋ visits a month (capacity). A refused visit goes to
//     its next-preferred district clinic that it has not tried, that is not at capacity and that
//     admits its age — by the rank-ordered logit, the logit choice restricted to those clinics —
//     and to a clinic outside the district only when there is none. Clinics outside the district
//     never refuse. Rounds repeat until nothing is pending; every round each pending visit tries a
//     clinic it has not tried, so there are at most as many rounds as clinics.
//  4. Waiting. The mean wait of the visits that join the line, P(wait > 30 min), and the
//     expected shares turned away and diverted, from the queue at the month's offered load.
//
// Aggregation (docs/model.md, "Paediatric clinics", explains why it is equivalent in
// distribution to drawing each child's visits and choices one by one, and much faster):
//  - Children are counted by street and age class (ages with the same visit rate and the same
//    clinic kinds admitting them). The visits of a street and age group are Poisson with the
//    sum of its children's means, split among the clinics by a multinomial draw.
//  - Choice probabilities and walking distances are averaged over 32 fixed points that stand
//    for the street's homes, which the model draws uniformly in the street's disc. Visits
//    travel in packets (street, age group, clinic) that carry the weight of each home point,
//    so that the next choice of a diverted visit and the expected walk of a served one use
//    the homes its visits actually come from.
//
// Random numbers: street s draws the visits its children want (age groups in order), then
// their first choices (binomials, clinics in order), then the new choices of its diverted
// visits (rounds and packets in order) from Stream(seed, replicate, street_stream + s, month,
// clinic); clinic f draws which visits it turns away from Stream(seed, replicate,
// facility_stream + f, month, clinic): in each round, one uniform to round the expected
// refusals, then one per arriving visit (selection sampling). Each stream is drawn by one
// thread at a time, in the order of the serial loops (streets in parallel, then in each round
// the clinics in parallel, then the streets), so nothing depends on the number of threads.
// The visits wanted are drawn before any choice, so they are the same in two scenarios that
// differ only in their clinics.
#include "sim/core/check.hpp"             // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"          // par::for_blocks, par::for_each_unit
#include "sim/core/rng.hpp"               // Stream, Purpose
#include "sim/demography/demography.hpp"  // age_in_months
#include "sim/services/queue.hpp"         // clinic_month, ClinicMonth
#include "sim/services/services.hpp"      // ServiceContext

#include <boost/random/binomial_distribution.hpp>  // boost::random::binomial_distribution
#include <boost/random/poisson_distribution.hpp>   // boost::random::poisson_distribution

#include <algorithm>  // std::sort, std::unique, std::min, std::max, std::clamp
#include <bitset>     // std::bitset
#include <cmath>      // std::cos, std::exp, std::floor, std::ceil, std::sqrt
#include <cstdint>    // std::int32_t, std::int64_t, std::uint64_t
#include <cstring>    // std::memcmp
#include <limits>     // std::numeric_limits
#include <vector>     // std::vector

namespace childsim {

namespace io {
std::vector<OutputSpec> clinic_outputs() {
  using V = std::vector<std::string>;
  const V rtf{"replicate", "time", "facility"}, rts{"replicate", "time", "street"};
  return {
      {"clinic_visits_demanded", rts, "visits", "paediatric visits wanted",
       "outpatient visits wanted by children living in the street, wherever they were served"},
      {"clinic_visits", rtf, "visits", "paediatric visits served",
       "visits served by the clinic in the month (0 for facilities that are not clinics)"},
      {"clinic_visits_offered", rtf, "visits", "paediatric visits offered",
       "visits that chose the clinic in the month (first or after a refusal elsewhere), before "
       "any refusal: the clinic's offered load; a visit refused twice counts at both clinics"},
      {"clinic_visits_diverted", rtf, "visits", "paediatric visits refused",
       "offered visits the clinic did not serve: turned away by its booking quota or capacity, "
       "or gone because the expected wait exceeded clinic.wait_tolerance_minutes; each tries "
       "another clinic; a visit refused twice counts at both clinics"},
      {"clinic_visits_outside", rts, "visits", "paediatric visits served outside the district",
       "visits of children living in the street that ended at a clinic outside the district, "
       "by choice or after diversion (and any that no clinic admits, by age)"},
      {"clinic_utilisation", rtf, "1", "clinic utilisation",
       "visits served / visits the clinic can serve in the month (doctor sessions × min(visits "
       "per session, what a doctor sees in a session)); NaN when closed or not a clinic",
       true},
      {"clinic_wait_minutes", rtf, "min", "mean wait for a doctor",
       "mean wait in line of the visits that join, in M/M/c/K half-day sessions (a half-day's "
       "doctors pooled; arrivals = the month's offered visits spread evenly over its open "
       "half-days; K = booking quota or balking limit); NaN when closed, outside the district "
       "or not a clinic",
       true},
      {"clinic_p_wait_over_30min", rtf, "1", "share waiting more than 30 minutes",
       "probability that a visit that joins the line waits more than 30 minutes, in the same "
       "queue as clinic_wait_minutes; NaN when closed, outside the district or not a clinic",
       true},
      {"clinic_share_turned_away", rtf, "1", "share of offered visits turned away",
       "expected share of the offered visits lost because the session's booking quota was "
       "full (the quota is the queue's limit K), from the queue at the month's offered load; "
       "NaN when closed, outside the district or not a clinic",
       true},
      {"clinic_share_diverted", rtf, "1", "share of offered visits diverted by the wait",
       "expected share of the offered visits that left because their expected wait exceeded "
       "clinic.wait_tolerance_minutes (the balking limit is K), from the queue at the month's "
       "offered load; NaN when closed, outside the district or not a clinic",
       true},
      {"clinic_mean_walk_m", rts, "m", "mean walking distance to the clinic",
       "expected walking distance from home to the clinic of the street's visits served in "
       "the district (homes: 32 points standing for the street's disc); NaN when none",
       true},
  };
}
}  // namespace io

namespace {

/// Agent ids of the clinic's random streams (purpose `clinic`): + street or facility index.
constexpr std::uint64_t street_stream = 1ull << 62;
constexpr std::uint64_t facility_stream = (1ull << 62) | (1ull << 32);
constexpr int max_age_months = 216;
constexpr double two_pi = 6.283185307179586;

/// Homes of a street are represented by `n_points` points of its disc: `rings` rings at the
/// radii that split the disc into equal areas, `per_ring` points on each, every other ring
/// turned by half a step. Each point stands for the same share of homes, because homes are
/// drawn uniformly in the disc (draw_home in sim/demography/population.cpp; change both
/// together). Against a Monte Carlo integral, 32 points give mean distances to any point
/// within 1 % and logit shares within 0.001 (docs/model.md).
constexpr int rings = 4, per_ring = 8;
constexpr std::size_t n_points = rings * per_ring;

struct Point {
  double x, y;
};

std::vector<Point> home_points(const Street& s) {
  std::vector<Point> p;
  p.reserve(n_points);
  for (int i = 0; i < rings; ++i) {
    const double radius = s.radius_m * std::sqrt((i + 0.5) / rings);
    for (int k = 0; k < per_ring; ++k) {
      const double angle = two_pi * (k + 0.5 * (i % 2)) / per_ring;
      p.push_back({s.x_m + radius * std::cos(angle), s.y_m + radius * std::sin(angle)});
    }
  }
  return p;
}

/// One clinic facility this month.
struct Option {
  std::size_t f = 0;          // facility index
  bool outside = false;       // street `outside`: always an option, never refuses
  bool open = false;          // an option this month
  std::int64_t capacity = 0;  // visits it can serve this month
  double per_session = 0;     // patients a doctor sees in a session
  double constant = 0;        // utility terms that do not depend on the home
};

/// Ages in months fall into groups (the same clinic kinds admit them) and, within a group,
/// classes (the same visit rate), so that children can be counted rather than summed.
struct AgeClasses {
  std::vector<int> group_start;      // first age in months of each group, then 216
  std::vector<std::uint8_t> of_age;  // class of each age in months
  std::vector<double> rate;          // expected visits per child this month, by class
  std::vector<std::size_t> group;    // group of each class
  std::size_t n_groups() const { return group_start.size() - 1; }
};

AgeClasses age_classes(const Facilities& F, const std::vector<int>& clinics, const ServiceParams& P,
                       double seasonal) {
  AgeClasses a;
  a.group_start = {0, max_age_months};
  for (int f : clinics) {
    const FacilityKind& k = F.kind_of(static_cast<std::size_t>(f));
    a.group_start.push_back(std::clamp(k.min_age_months, 0, max_age_months));
    a.group_start.push_back(std::clamp(k.max_age_months, 0, max_age_months));
  }
  std::sort(a.group_start.begin(), a.group_start.end());
  a.group_start.erase(std::unique(a.group_start.begin(), a.group_start.end()), a.group_start.end());
  a.of_age.resize(max_age_months);
  std::size_t g = 0;
  for (int age = 0; age < max_age_months; ++age) {
    while (age >= a.group_start[g + 1]) ++g;
    const double rate =
        P.clinic_visits_by_age[static_cast<std::size_t>(age / 12)] / 12.0 * seasonal;
    std::size_t k = 0;
    while (k < a.rate.size() && !(a.group[k] == g && a.rate[k] == rate)) ++k;
    if (k == a.rate.size()) {
      CHILDSIM_CHECK(k < 255, "clinic: too many age classes");
      a.rate.push_back(rate);
      a.group.push_back(g);
    }
    a.of_age[static_cast<std::size_t>(age)] = static_cast<std::uint8_t>(k);
  }
  return a;
}

/// Visits of one street and age group that arrive at one clinic in the same round. `weights`
/// (n_points numbers, in the list of the street or pending packet that made it) is proportional to
/// the probability that such a visit comes from each home point: the product of the point's logit
/// probabilities of the choices that brought the visits here.
// The most clinics a month can hold (a packet's tried set is a bitset of this size): the whole
// of Shanghai has about 250 (a CHC per street, docs/data-packs.md).
constexpr std::size_t max_clinics = 512;

/// The walking distances and logit weights of every street's home points to every clinic
/// (step 3 of step_clinic), with the inputs they were computed from.
struct HomePointTables {
  std::vector<double> inputs, dist, w;
  std::vector<double> scratch;  // this month's inputs, compared with `inputs`
};

struct Packet {
  std::size_t street = 0, group = 0, option = 0;
  std::int32_t count = 0;
  std::size_t weight = 0;           // offset of its weights in the list they are made in
  std::bitset<max_clinics> tried;   // bit j: these visits have chosen option j before
  const double* weights = nullptr;  // its n_points weights, once that list is complete
  // The expected walk of these visits is walk_num / walk_den: Σ weight × walk and Σ weight
  // over the home points (district clinics only; 0 for clinics outside).
  double walk_num = 0, walk_den = 0;
};

/// One street's lists, written by the street's unit of a parallel loop (steps 4 and 5). On
/// cache lines of their own: vectors side by side would share lines, and every push_back, which
/// writes the vector's end, would pass the line between the cores (the streets' loop of step 5
/// took 2.3 times the CPU time at 2 threads that it took at 1, when these lists were indexed by
/// pending packet, neighbours belonging to other streets; docs/performance.md).
struct alignas(64) StreetLists {
  std::vector<Packet> packets;  // step 4: the first round's packets
  std::vector<double> pool;     // their weights
  // Step 5: the packets the street's diverted visits make, and their weights: two sets, used
  // in turn by the rounds (a round reads the packets the round before made).
  std::vector<Packet> made[2];
  std::vector<double> made_weights[2];
  std::vector<std::size_t> pending;  // indices into `pending` of the street's packets
  // One pending packet's next choice: its options, their logit denominators at each home
  // point, the cumulated shares, and the visits that chose each option.
  std::vector<std::size_t> again;
  std::vector<double> total, cum;
  std::vector<std::int32_t> count;
};

/// One clinic's refused packets (packet, visits refused), written by the clinic's unit of a
/// parallel loop: on a cache line of its own, as StreetLists.
struct alignas(64) ClinicLists {
  std::vector<std::pair<Packet*, std::int32_t>> refusals;
};

/// The month's working lists (step_clinic), kept from month to month so that a month does not
/// allocate and free some hundred small vectors; they carry nothing from one month to the next
/// (each is cleared or assigned before it is read).
struct ClinicScratch {
  std::vector<std::vector<std::int64_t>> parts;  // children by street and age class, per block
  std::vector<StreetLists> streets;
  std::vector<ClinicLists> clinics;
  std::vector<Packet*> current, next;  // the packets of this round and of the next
  std::vector<std::vector<Packet*>> arrivals;
};

}  // namespace

void step_clinic(const ServiceContext& cx, State& st, io::Recorder& rec) {
  const Scenario& sc = cx.scenario;
  const Facilities& F = sc.facilities;
  const ServiceParams& P = cx.params;
  const Children& c = st.children;
  const Households& h = st.households;
  const int t = st.month, r = st.replicate;
  const auto rep = static_cast<std::uint32_t>(r);
  const auto month = static_cast<std::uint32_t>(t);
  const std::size_t ns = sc.base.streets.size();
  const std::vector<int> clinics = F.of_service(Service::clinic);
  const std::size_t nj = clinics.size();

  std::int32_t* demanded = rec.block("clinic_visits_demanded", r, t);
  std::int32_t* visits = rec.block("clinic_visits", r, t);
  std::int32_t* diverted = rec.block("clinic_visits_diverted", r, t);
  std::int32_t* offered = rec.block("clinic_visits_offered", r, t);
  std::int32_t* outside = rec.block("clinic_visits_outside", r, t);
  double* utilisation = rec.real_block("clinic_utilisation", r, t);
  double* wait = rec.real_block("clinic_wait_minutes", r, t);
  double* over30 = rec.real_block("clinic_p_wait_over_30min", r, t);
  double* share_away = rec.real_block("clinic_share_turned_away", r, t);
  double* share_diverted = rec.real_block("clinic_share_diverted", r, t);
  double* walk = rec.real_block("clinic_mean_walk_m", r, t);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t f = 0; f < F.size(); ++f)
    utilisation[f] = wait[f] = over30[f] = share_away[f] = share_diverted[f] = nan;
  for (std::size_t s = 0; s < ns; ++s) walk[s] = nan;

  // 1. The options this month, and who may choose them.
  CHILDSIM_CHECK(P.clinic_service_minutes > 0 && P.clinic_session_hours > 0,
                 "clinic: service_minutes and session_hours must be positive");
  CHILDSIM_CHECK(nj <= max_clinics, "clinic: at most 512 clinics (a packet's tried set)");
  const double mu = 60.0 / P.clinic_service_minutes;       // patients per doctor-hour
  const double per_session = mu * P.clinic_session_hours;  // most a doctor sees in a session
  std::vector<Option> opt(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    Option& o = opt[j];
    o.f = static_cast<std::size_t>(clinics[j]);
    o.outside = F.street[o.f] < 0;
    const double sessions = F.capacity(o.f, t);
    // visits_per_session 0 = not stated (a clinic a scenario opens without it): a doctor sees
    // what fits in a session, 60H / service_minutes (parameters.yaml clinic.service_minutes).
    const double stated = F.visits_per_session[o.f];
    o.per_session = stated > 0 ? std::min(stated, per_session) : per_session;
    o.capacity = static_cast<std::int64_t>(std::floor(sessions * o.per_session));
    o.open = o.outside || o.capacity > 0;
    const bool chc = F.kind_of(o.f).id == "chc_clinic";
    o.constant = P.clinic_beta_quality * F.quality[o.f] + (chc ? 0.0 : P.clinic_asc_hospital) +
                 (o.outside ? P.clinic_beta_distance_per_km * P.clinic_outside_distance_km : 0.0);
  }
  const int calendar_month = sc.start.plus(t).month;
  const double seasonal =
      std::max(0.0, 1.0 + P.clinic_winter_peak * std::cos(two_pi * (calendar_month - 1) / 12.0));
  const AgeClasses ages = age_classes(F, clinics, P, seasonal);
  const std::size_t ng = ages.n_groups(), nk = ages.rate.size();
  // first[g]: the options a visit of age group g chooses among first (open, admitting its age).
  std::vector<std::vector<std::size_t>> first(ng);
  for (std::size_t g = 0; g < ng; ++g)
    for (std::size_t j = 0; j < nj; ++j) {
      const FacilityKind& k = F.kind_of(opt[j].f);
      if (opt[j].open && k.min_age_months <= ages.group_start[g] &&
          ages.group_start[g + 1] <= k.max_age_months)
        first[g].push_back(j);
    }

  // 2. Children by street and age class, then expected visits by street and age group.
  std::vector<std::int64_t> children(ns * nk, 0);
  const std::size_t nb = par::n_blocks();
  ClinicScratch& scratch = st.kept.get<ClinicScratch>();
  if (st.census.enabled()) {
    // From the agent census (state.hpp), which counts the present children by their
    // household's street, sex and birth month at every event, and which no service step
    // changes: a few thousand cells, where the rows were a pass over every child, each reading
    // its household's street at random (most of this step's time). The same integer counts
    // (tests/cpp/clinic_test.cpp).
    const AgentCensus& a = st.census;
    const auto n_months = static_cast<std::size_t>(a.n_birth_months);
    for (std::size_t s = 0; s < ns; ++s)
      for (int sex = 0; sex < n_sexes; ++sex) {
        const std::int32_t* born =
            a.children.data() + (s * n_sexes + static_cast<std::size_t>(sex)) * n_months;
        for (int age = 0; age < max_age_months; ++age)
          children[s * nk + ages.of_age[static_cast<std::size_t>(age)]] +=
              sum_of_ages(born, a.first_birth_month, a.n_birth_months, t, age, age + 1);
      }
  } else {
    // A state built by hand, without the census: the rows (integer counts per block of rows,
    // added up).
    std::vector<std::vector<std::int64_t>>& parts = scratch.parts;
    parts.resize(nb);
    for (std::vector<std::int64_t>& part : parts) part.assign(ns * nk, 0);
    par::for_blocks(c.size(), nb, [&](std::size_t b, std::size_t begin, std::size_t end) {
      std::int64_t* k = parts[b].data();
      for_rows_fetched_ahead(
          begin, end,
          [&](std::size_t i) {
            if (!c.present[i]) return false;
            const int age = age_in_months(t, c.birth_month[i]);
            return age >= 0 && age < max_age_months;
          },
          [&](std::size_t i) {
            __builtin_prefetch(&h.street[static_cast<std::size_t>(c.household[i])]);
          },
          [&](std::size_t i) {
            const int age = age_in_months(t, c.birth_month[i]);
            // The street alone (a small array) rather than the HomeRow: every child is counted.
            const auto s =
                static_cast<std::size_t>(h.street[static_cast<std::size_t>(c.household[i])]);
            k[s * nk + ages.of_age[static_cast<std::size_t>(age)]] += 1;
          });
    });
    par::add_counts(parts, children.data());
  }
  std::vector<double> mean(ns * ng, 0.0);  // expected visits by (street, age group)
  for (std::size_t s = 0; s < ns; ++s)
    for (std::size_t k = 0; k < nk; ++k)
      mean[s * ng + ages.group[k]] += static_cast<double>(children[s * nk + k]) * ages.rate[k];

  // 3. Home points of every street: walking distances to every clinic and logit weights
  // exp(V − max V) (0 for closed clinics). They depend only on the streets, the clinics, which
  // are open and the parameters, which change seldom (a clinic opening or closing): they are
  // kept from the last month (with the state: kept_scratch.hpp) with every input they were
  // computed from, and computed again only when an input differs, so the values are
  // those of computing them every month.
  HomePointTables& tables = st.kept.get<HomePointTables>();
  std::vector<double>& key = tables.scratch;
  key.clear();
  for (const Street& street : sc.base.streets)
    key.insert(key.end(), {street.x_m, street.y_m, street.radius_m});
  for (const Option& o : opt)
    key.insert(key.end(), {F.x_m[o.f], F.y_m[o.f], static_cast<double>(o.outside),
                           static_cast<double>(o.open), o.constant});
  key.insert(key.end(),
             {P.clinic_outside_distance_km, P.detour_factor, P.clinic_beta_distance_per_km,
              static_cast<double>(ns), static_cast<double>(nj)});
  // Compared bit for bit (not ==, for which 0.0 equals −0.0).
  const bool fresh =
      key.size() != tables.inputs.size() ||
      std::memcmp(key.data(), tables.inputs.data(), key.size() * sizeof(double)) != 0;
  std::vector<double>& dist = tables.dist;
  std::vector<double>& w = tables.w;
  auto at = [&](std::size_t s, std::size_t q) { return (s * n_points + q) * nj; };
  if (fresh) {
    tables.inputs.swap(key);
    dist.assign(ns * n_points * nj, 0.0);
    w.assign(ns * n_points * nj, 0.0);
  }
  // Streets in parallel: each writes only its own slice of `dist` and `w`.
  if (fresh)
    par::for_blocks(ns, std::min(nb, ns), [&](std::size_t, std::size_t s_begin, std::size_t s_end) {
      for (std::size_t s = s_begin; s < s_end; ++s) {
        const std::vector<Point> points = home_points(sc.base.streets[s]);
        for (std::size_t q = 0; q < n_points; ++q) {
          double* d = &dist[at(s, q)];
          double* e = &w[at(s, q)];
          double vmax = -std::numeric_limits<double>::infinity();
          for (std::size_t j = 0; j < nj; ++j) {
            const Option& o = opt[j];
            const double dx = points[q].x - F.x_m[o.f], dy = points[q].y - F.y_m[o.f];
            d[j] = o.outside ? P.clinic_outside_distance_km * 1000.0
                             : P.detour_factor * std::sqrt(dx * dx + dy * dy);  // as walk_m
            e[j] = o.constant + (o.outside ? 0.0 : P.clinic_beta_distance_per_km * d[j] / 1000.0);
            if (o.open) vmax = std::max(vmax, e[j]);
          }
          for (std::size_t j = 0; j < nj; ++j) e[j] = opt[j].open ? std::exp(e[j] - vmax) : 0.0;
        }
      }
    });
  // The logit denominators ("point totals") Σ_{k ∈ options} w[s, q, k] at every home point q
  // of street s: the probability of choosing j among `options` at point q is
  // w[s, q, j] / total[q]. Each must be positive (else the weights underflowed).

  // 4. Demand and first choices. Street s first draws the visits of each age group g,
  // Poisson with mean m(s, g), then splits them among the clinics by the logit probabilities
  // averaged over its home points, p(s, g, j), as a multinomial (a binomial per clinic, in
  // order); the counts per clinic are then independent Poisson with means m(s, g) × p(s, g, j),
  // as if each child's visits chose one by one. Totals come first so that the visits wanted do
  // not depend on the clinics (common random numbers between scenarios). One stream per street.
  // The expected walk of a packet's visits over their home points (`weights`: its n_points
  // weights), computed where the packet is made, in parallel: the numbers of the serial loop
  // that computed it where the visits were served.
  auto set_walk = [&](Packet& pk, const double* weights) {
    if (opt[pk.option].outside) return;
    double num = 0, den = 0;
    for (std::size_t q = 0; q < n_points; ++q) {
      num += weights[q] * dist[at(pk.street, q) + pk.option];
      den += weights[q];
    }
    pk.walk_num = num;
    pk.walk_den = den;
  };
  std::vector<LineStream> streams;  // (a line each: the streets' units draw at the same time)
  streams.reserve(ns);
  for (std::size_t s = 0; s < ns; ++s)
    streams.push_back({Stream(sc.seed, rep, street_stream + s, month, Purpose::clinic)});
  // Streets in parallel (each draws only from its own stream and writes only its own
  // entries), their packets and weights listed per street; the first round takes the packets
  // in street order: the packets, weights and draws of the serial loop over the streets.
  std::vector<StreetLists>& lists = scratch.streets;
  lists.resize(ns);
  std::vector<std::uint8_t> underflow(ns, 0);
  par::for_blocks(ns, std::min(nb, ns), [&](std::size_t, std::size_t s_begin, std::size_t s_end) {
    std::vector<double> total(n_points), prob(nj);
    std::vector<int> wanted(ng);
    for (std::size_t s = s_begin; s < s_end; ++s) {
      Stream& rs = streams[s].s;
      std::vector<Packet>& out = lists[s].packets;
      std::vector<double>& weights = lists[s].pool;
      out.clear();
      weights.clear();
      for (std::size_t g = 0; g < ng; ++g) {
        const double m = mean[s * ng + g];
        wanted[g] = m > 0 ? boost::random::poisson_distribution<int, double>(m)(rs) : 0;
        demanded[s] += wanted[g];
      }
      for (std::size_t g = 0; g < ng && !underflow[s]; ++g) {
        int left = wanted[g];
        if (left == 0) continue;
        if (first[g].empty()) {  // no clinic admits this age: counted as outside the district
          outside[s] += left;
          continue;
        }
        for (std::size_t q = 0; q < n_points && !underflow[s]; ++q) {  // point totals
          double sum = 0;
          for (std::size_t j : first[g]) sum += w[at(s, q) + j];
          underflow[s] = !(sum > 0);
          total[q] = sum;
        }
        if (underflow[s]) break;  // raised below, in street order
        double p_left = 0;
        for (std::size_t j : first[g]) {
          prob[j] = 0;
          for (std::size_t q = 0; q < n_points; ++q) prob[j] += w[at(s, q) + j] / total[q];
          p_left += prob[j] /= n_points;
        }
        for (std::size_t a = 0; a < first[g].size() && left > 0; ++a) {
          const std::size_t j = first[g][a];
          const bool last = a + 1 == first[g].size();
          const int n =
              last ? left
                   : boost::random::binomial_distribution<int, double>(
                         left, p_left > 0 ? std::clamp(prob[j] / p_left, 0.0, 1.0) : 1.0)(rs);
          left -= n;
          p_left -= prob[j];
          if (n == 0) continue;
          out.push_back({s, g, j, n, weights.size(), std::bitset<max_clinics>().set(j)});
          for (std::size_t q = 0; q < n_points; ++q) weights.push_back(w[at(s, q) + j] / total[q]);
          set_walk(out.back(), &weights[out.back().weight]);
        }
      }
      for (Packet& pk : out) pk.weights = weights.data() + pk.weight;  // the list is complete
    }
  });
  // The first round's packets, in street order: those of the serial loop over the streets.
  std::vector<Packet*>& current = scratch.current;
  std::vector<Packet*>& next = scratch.next;
  current.clear();
  for (std::size_t s = 0; s < ns; ++s) {
    CHILDSIM_CHECK(!underflow[s],
                   "clinic: logit weights underflowed (check the clinic.* parameters)");
    for (Packet& pk : lists[s].packets) current.push_back(&pk);
  }

  // 5. Queueing, refusals and diversion, in rounds. In each round every clinic adds the
  // packets that arrived in that round to its offered load and refuses what the queue at that
  // load loses (clinics do not interact within a round); the refused visits choose again.
  CHILDSIM_CHECK(P.clinic_half_days_per_month >= 1 && P.clinic_wait_tolerance_minutes >= 0,
                 "clinic: half_days_per_month must be >= 1 and wait_tolerance_minutes >= 0");
  const int half_days = P.clinic_half_days_per_month;
  const double hours = P.clinic_session_hours, tolerance = P.clinic_wait_tolerance_minutes;
  constexpr double tail_minutes = 30;  // clinic_p_wait_over_30min
  std::vector<std::int64_t> taken(nj, 0), refused(nj, 0), load(nj), arrived(nj, 0);
  std::vector<std::uint8_t> full(nj, 0);
  std::vector<ClinicMonth> last_queue(nj);  // the queue at the load of the last round's call
  std::vector<std::uint8_t> has_queue(nj, 0);
  std::vector<LineStream> clinic_streams;  // one per option, drawn in rounds
  clinic_streams.reserve(nj);
  for (std::size_t j = 0; j < nj; ++j)
    clinic_streams.push_back(
        {Stream(sc.seed, rep, facility_stream + opt[j].f, month, Purpose::clinic)});
  std::vector<double> walk_sum(ns, 0.0);
  std::vector<std::int64_t> walk_n(ns, 0);
  std::vector<std::pair<Packet*, std::int32_t>> pending;  // (packet, visits refused)
  // For each pending packet: 0, or 1 or 2 where a check failed, or no_options; and the range
  // of the packets it made in its street's list.
  constexpr std::uint8_t no_options = 3;
  std::vector<std::uint8_t> next_state;
  std::vector<std::size_t> made_begin, made_end;
  // Refused visits choose again among the district clinics they have not tried that admit
  // their age and are not at capacity; if there are none, among the clinics outside they
  // have not tried; if none of those either, they are counted as outside the district with
  // no provider (no options). By the rank-ordered logit, the next-preferred of a set is the
  // logit choice within it, at each home point; the packet's weights say which home points
  // its visits come from.
  auto next_choices = [&](const Packet& from, std::vector<std::size_t>& again, double* total_k,
                          std::vector<double>& cum) -> std::uint8_t {
    again.clear();
    cum.clear();
    for (std::size_t j : first[from.group])
      if (!opt[j].outside && !full[j] && !from.tried[j]) again.push_back(j);
    if (again.empty())
      for (std::size_t j : first[from.group])
        if (opt[j].outside && !from.tried[j]) again.push_back(j);
    if (again.empty()) return no_options;
    for (std::size_t q = 0; q < n_points; ++q) {  // point totals
      double sum = 0;
      for (std::size_t j : again) sum += w[at(from.street, q) + j];
      if (!(sum > 0)) return 1;
      total_k[q] = sum;
    }
    double sum = 0;
    for (std::size_t a = 0; a < again.size(); ++a) {
      double share = 0;
      for (std::size_t q = 0; q < n_points; ++q)
        share += from.weights[q] * w[at(from.street, q) + again[a]] / total_k[q];
      cum.push_back(sum += share);
    }
    return sum > 0 ? 0 : 2;
  };
  // Each round has two parts that run in parallel, each on draws of its own stream:
  //  - the clinics (their refusals): clinic j draws from its own stream and changes only the
  //    counts of this round's packets that chose it, so the clinics run in parallel, each over
  //    its packets in packet order; their refused packets are then listed clinic by clinic, in
  //    the order of the serial loop over the clinics;
  //  - the streets (the next choices of the refused visits): the visits of pending packet k
  //    draw from its street's stream, so the streets run in parallel, each over its pending
  //    packets in the order of `pending`, and makes their new packets; the next round's list
  //    of packets then takes them serially, in the order of `pending`.
  // Every stream sees the draws of the serial loop in its order, so the results are the same
  // at any number of threads.
  auto& arrivals = scratch.arrivals;  // this round's packets, by option
  std::vector<ClinicLists>& clinic_lists = scratch.clinics;
  arrivals.resize(nj);
  clinic_lists.resize(nj);
  std::vector<std::size_t> busy;  // district clinics with arrivals
  for (std::size_t round = 0; !current.empty(); ++round) {
    CHILDSIM_CHECK(round <= nj + 1, "clinic: diversion did not finish");
    const std::size_t set = round % 2;  // the lists of made packets this round writes
    std::fill(load.begin(), load.end(), 0);
    for (std::size_t j = 0; j < nj; ++j) {
      arrivals[j].clear();
      clinic_lists[j].refusals.clear();
    }
    for (Packet* pk : current) {
      load[pk->option] += pk->count;
      arrivals[pk->option].push_back(pk);
    }
    busy.clear();
    for (std::size_t j = 0; j < nj; ++j)
      if (!opt[j].outside && load[j] != 0) busy.push_back(j);
    par::for_each_unit(busy.size(), [&](std::size_t u) {
      const std::size_t j = busy[u];
      arrived[j] += load[j];
      // The queue at the offered load so far: refusals so far should be L − served(L), which
      // grows with L by at most 1 per visit (throughput rises with the load); rounded at
      // random to a whole number, minus those refused in earlier rounds.
      Stream& rf = clinic_streams[j].s;
      const ClinicMonth q =
          clinic_month(static_cast<double>(arrived[j]), F.capacity(opt[j].f, t), half_days,
                       opt[j].per_session, hours, tolerance, tail_minutes);
      last_queue[j] = q;  // at the load so far, which is the month's if no more arrive
      has_queue[j] = 1;
      const double expected = static_cast<double>(arrived[j]) - q.served;
      const auto target = static_cast<std::int64_t>(std::floor(expected + rf.uniform()));
      std::int64_t excess = std::clamp<std::int64_t>(target - refused[j], 0, load[j]);
      // Capacity: never more than K_j served in the month.
      excess = std::max(excess, taken[j] + load[j] - opt[j].capacity);
      if (excess <= 0) return;
      // Refuse a uniformly random subset of this round's arrivals (selection sampling, Knuth's
      // Algorithm S, over the visits in packet order).
      CHILDSIM_CHECK(load[j] < 250000, "clinic: more arrivals than one stream has words");
      refused[j] += excess;
      std::int64_t left = load[j];
      for (Packet* p : arrivals[j]) {
        if (excess <= 0) break;
        Packet& pk = *p;
        std::int32_t out = 0;
        for (std::int32_t v = 0; v < pk.count && excess > 0; ++v, --left)
          if (rf.uniform() * static_cast<double>(left) < static_cast<double>(excess)) {
            out += 1;
            excess -= 1;
          }
        pk.count -= out;
        if (out > 0) clinic_lists[j].refusals.emplace_back(p, out);
      }
    });
    pending.clear();
    for (std::size_t j = 0; j < nj; ++j)
      pending.insert(pending.end(), clinic_lists[j].refusals.begin(),
                     clinic_lists[j].refusals.end());
    // Served: the rest of this round's arrivals.
    for (const Packet* p : current) {
      const Packet& pk = *p;
      if (opt[pk.option].outside) arrived[pk.option] += pk.count;
      if (pk.count == 0) continue;
      taken[pk.option] += pk.count;
      if (opt[pk.option].outside) {
        outside[pk.street] += pk.count;
        continue;
      }
      walk_sum[pk.street] += pk.count * pk.walk_num / pk.walk_den;  // (set_walk)
      walk_n[pk.street] += pk.count;
    }
    for (std::size_t j = 0; j < nj; ++j)
      if (!opt[j].outside && taken[j] >= opt[j].capacity) full[j] = 1;
    // Refused visits choose again (next_choices); each draws from its street's stream. The
    // next choices' probabilities do not depend on the draws (only on the packet's weights,
    // its tried set and the clinics full this round). Streets in parallel: each computes the
    // choices of its pending packets, draws their visits and makes their new packets, in the
    // order of `pending`, writing only their entries; the next round's list then takes the new
    // packets serially in the order of `pending`, as before. The arithmetic of each number is
    // that of the serial loop.
    const std::size_t n_pending = pending.size();
    next_state.assign(n_pending, 0);
    made_begin.assign(n_pending, 0);
    made_end.assign(n_pending, 0);
    for (std::size_t s = 0; s < ns; ++s) lists[s].pending.clear();
    for (std::size_t k = 0; k < n_pending; ++k)
      lists[pending[k].first->street].pending.push_back(k);
    par::for_each_unit(ns, [&](std::size_t s) {
      Stream& rs = streams[s].s;
      StreetLists& L = lists[s];
      std::vector<double>& weights = L.made_weights[set];
      std::vector<Packet>& made = L.made[set];
      weights.clear();
      made.clear();
      L.total.resize(n_points);
      for (std::size_t k : L.pending) {
        next_state[k] = next_choices(*pending[k].first, L.again, L.total.data(), L.cum);
        // A failed check is raised below, in the order of `pending`, before any packet after
        // it is made: this street's later draws are never used.
        if (next_state[k] == no_options) continue;
        if (next_state[k] != 0) break;
        const std::vector<std::size_t>& again = L.again;
        const std::vector<double>& cum = L.cum;
        const double sum = cum.back();
        std::vector<std::int32_t>& count = L.count;
        count.assign(again.size(), 0);
        for (std::int32_t v = 0; v < pending[k].second; ++v) {
          const double target = rs.uniform() * sum;
          std::size_t a = 0;
          while (a + 1 < again.size() && !(target < cum[a])) ++a;
          count[a] += 1;
        }
        // The new packets (those with visits, in option order) and their weights; they stay
        // where they are made (the next round's list points to them), so the rounds use two
        // sets of these lists in turn.
        const Packet& from = *pending[k].first;
        made_begin[k] = made.size();
        for (std::size_t a = 0; a < again.size(); ++a) {
          if (count[a] == 0) continue;
          made.push_back({from.street, from.group, again[a], count[a], weights.size(),
                          std::bitset<max_clinics>(from.tried).set(again[a])});
          for (std::size_t q = 0; q < n_points; ++q)
            weights.push_back(from.weights[q] * w[at(from.street, q) + again[a]] / L.total[q]);
          set_walk(made.back(), &weights[made.back().weight]);
        }
        made_end[k] = made.size();
      }
      for (Packet& pk : made) pk.weights = weights.data() + pk.weight;  // the list is complete
    });
    next.clear();
    for (std::size_t k = 0; k < n_pending; ++k) {
      const auto [p, n] = pending[k];
      const std::size_t street = p->street;
      if (next_state[k] == no_options) {
        outside[street] += n;
        continue;
      }
      // The checks of the serial loop, in its order (point totals, then the shares' sum).
      CHILDSIM_CHECK(next_state[k] != 1,
                     "clinic: logit weights underflowed (check the clinic.* parameters)");
      CHILDSIM_CHECK(next_state[k] != 2,
                     "clinic: logit weights underflowed (check the clinic.* parameters)");
      std::vector<Packet>& made = lists[street].made[set];
      for (std::size_t i = made_begin[k]; i < made_end[k]; ++i) next.push_back(&made[i]);
    }
    current.swap(next);
  }

  // 6. Outputs by clinic: visits offered, served and refused, utilisation, and the queue at
  // the month's offered load; by street, the mean walk.
  for (std::size_t j = 0; j < nj; ++j) {
    const Option& op = opt[j];
    visits[op.f] = static_cast<std::int32_t>(taken[j]);
    diverted[op.f] = static_cast<std::int32_t>(refused[j]);
    offered[op.f] = static_cast<std::int32_t>(arrived[j]);
    if (op.capacity > 0)
      utilisation[op.f] = static_cast<double>(taken[j]) / static_cast<double>(op.capacity);
    const std::int32_t sessions = F.capacity(op.f, t);
    if (sessions <= 0 || op.outside || op.per_session <= 0) continue;
    // The queue at the month's offered load: that of the last round in which visits arrived
    // (the same call: arrived[j] has not changed since), else computed here.
    const ClinicMonth q = has_queue[j]
                              ? last_queue[j]
                              : clinic_month(static_cast<double>(arrived[j]), sessions, half_days,
                                             op.per_session, hours, tolerance, tail_minutes);
    wait[op.f] = q.mean_wait_min;
    over30[op.f] = q.p_wait_over;
    share_away[op.f] = q.share_turned_away;
    share_diverted[op.f] = q.share_diverted;
  }
  for (std::size_t s = 0; s < ns; ++s)
    if (walk_n[s] > 0) walk[s] = walk_sum[s] / static_cast<double>(walk_n[s]);
}

}  // namespace childsim
