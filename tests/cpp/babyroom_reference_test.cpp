// babyroom_reference_test: the baby-room step as it was before its rooms were served in
// parallel (main at fc4ff87: one sort of all requests, then a serial loop), kept as the
// reference that step_babyroom must equal to the bit, at 1 and 3 threads, on real states
// where rooms cannot serve every request (issue #14).
#include "sim/core/parallel.hpp"          // par::for_chunks
#include "sim/core/rng.hpp"               // Stream
#include "sim/demography/demography.hpp"  // age_in_months
#include "sim/demography/population.hpp"  // build_initial_state
#include "sim/model/model.hpp"            // Model, step_month
#include "sim/scenario/scenario.hpp"      // load_scenario
#include "sim/services/reach.hpp"         // facilities_within_reach
#include "sim/services/services.hpp"      // step_babyroom, ServiceContext
#include "test_support.hpp"

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads
#include <catch2/catch.hpp>

#include <algorithm>   // std::sort, std::min
#include <cmath>       // std::lround
#include <filesystem>  // std::filesystem::remove_all
#include <fstream>     // std::ofstream
#include <limits>      // std::numeric_limits
#include <string>      // std::string

using namespace childsim;

namespace {

void step_babyroom_reference(const ServiceContext& cx, State& st, io::Recorder& rec) {
  const Scenario& sc = cx.scenario;
  const Facilities& F = sc.facilities;
  const ServiceParams& P = cx.params;
  Children& c = st.children;
  const int t = st.month, r = st.replicate;
  const std::vector<int> rooms = F.of_service(Service::babyroom);
  const auto rep = static_cast<std::uint32_t>(r);
  const int want = static_cast<int>(std::lround(P.babyroom_sessions_per_month));
  const double max_m = P.max_distance_km * 1000.0;
  std::int32_t* users = rec.block("babyroom_users", r, t);
  std::int32_t* demanded = rec.block("babyroom_sessions_demanded", r, t);
  std::int32_t* served = rec.block("babyroom_sessions_served", r, t);
  std::int32_t* used = rec.block("babyroom_sessions_used", r, t);
  if (rooms.empty() || want <= 0) return;
  std::vector<HomeRow> own_homes;
  const HomeRow* home = homes_for(cx, st, own_homes);
  // Rooms that a home of each street may reach (reach.hpp: same result, less time).
  const auto reach = facilities_within_reach(sc.base, F, rooms, P, max_m);
  const bool outreach = t >= P.babyroom_outreach_from && t < P.babyroom_outreach_until;

  struct Request {
    std::uint64_t order;
    std::size_t child;
    int room;
  };
  // The family's number, fixed per child: the second word of its nursery stream of month 0
  // (the first is the nursery wish), Stream(seed, replicate, id, 0, nursery) — drawn below a
  // group of children at a time.
  // The highest take-up of the month: take-up falls with the walk (0 to max_m, or max_m when no
  // room is in reach) and rises with the room's sessions (an open room's, or 660 when none is
  // in reach) if babyroom_beta_log_sessions > 0; the log-odds are linear in the walk and in the
  // log of the sessions, so the highest is at a corner of those ranges. A margin of 1e-9 (far
  // above rounding) keeps every family that could use a room.
  const FacilityKind& k0 = F.kind_of(static_cast<std::size_t>(rooms.front()));
  double most_take_up = 0;
  {
    double fewest = 660.0, most = 660.0;
    for (int f : rooms) {
      const std::int32_t cap = F.capacity(static_cast<std::size_t>(f), t);
      if (cap <= 0) continue;
      fewest = std::min(fewest, static_cast<double>(cap));
      most = std::max(most, static_cast<double>(cap));
    }
    for (const double km : {0.0, max_m / 1000.0})
      for (const double sessions : {fewest, most})
        most_take_up = std::max(most_take_up, P.babyroom_probability(km, sessions, outreach));
    most_take_up += 1e-9;
  }
  // Per chunk of rows (children under 3 are the latest rows: uneven work): the requests in row
  // order; users and sessions asked for are counted per thread and added up.
  // They run over the young children's rows (services.hpp, young_rows): the others are of no
  // baby-room age.
  const RowSet rows = young_rows(cx, st);
  const std::size_t n = rows.size(), nb = par::n_blocks(), ns = sc.base.streets.size();
  std::vector<std::vector<Request>> found(par::n_chunks(n));
  std::vector<std::vector<std::int32_t>> user_parts(nb, std::vector<std::int32_t>(ns, 0));
  std::vector<std::vector<std::int32_t>> demand_parts(nb, std::vector<std::int32_t>(ns, 0));
  par::for_chunks(
      n, nb, [&](std::size_t thread, std::size_t chunk, std::size_t begin, std::size_t end) {
        std::int32_t* k_users = user_parts[thread].data();
        std::int32_t* k_demanded = demand_parts[thread].data();
        // Age eligibility is that of the baby-room kind (checked against the first room so that
        // demand without an open room is still counted). Families whose number is above every
        // take-up of the month are left out before their home is read. The numbers are drawn a
        // group of children at a time (services.hpp, for_rows_with_first_words: word 1 of each
        // child's block), and the households of the group's families that may use a room are
        // fetched before the group is decided.
        auto may_use = [&](std::size_t i) {
          if (!c.present[i] || c.nursery[i] >= 0) return false;
          const int age = age_in_months(t, c.birth_month[i]);
          return age >= k0.min_age_months && age < k0.max_age_months;
        };
        auto fetch = [&](std::size_t i, const FirstBlocks& wish, std::size_t g) {
          if (wish.uniform(g, 1) < most_take_up) __builtin_prefetch(&home[c.household[i]]);
        };
        auto use = [&](std::size_t i, const FirstBlocks& wish, std::size_t g) {
          const double number = wish.uniform(g, 1);  // the family's number
          if (number >= most_take_up) return;
          const int age = age_in_months(t, c.birth_month[i]);
          const HomeRow& o = home[c.household[i]];
          int best = -1;
          double best_d = std::numeric_limits<double>::infinity();
          for (int f : reach[static_cast<std::size_t>(o.street)]) {
            const auto fu = static_cast<std::size_t>(f);
            const FacilityKind& k = F.kind_of(fu);
            if (age < k.min_age_months || age >= k.max_age_months) continue;
            if (F.capacity(fu, t) <= 0) continue;
            const double d = P.walk_m(o.x_m, o.y_m, F.x_m[fu], F.y_m[fu]);
            if (d <= max_m && d < best_d) {
              best = f;
              best_d = d;
            }
          }
          const double take_up = P.babyroom_probability(
              (best < 0 ? max_m : best_d) / 1000.0,
              best < 0 ? 660.0 : static_cast<double>(F.capacity(static_cast<std::size_t>(best), t)),
              outreach);
          if (number >= take_up) return;
          const auto s = static_cast<std::size_t>(o.street);
          k_users[s] += 1;
          k_demanded[s] += want;
          if (best < 0) return;
          Stream order(sc.seed, rep, c.id[i], static_cast<std::uint32_t>(t), Purpose::nursery);
          order();  // the first word of this stream is the nursery choice
          found[chunk].push_back({(static_cast<std::uint64_t>(order()) << 32) | order(), i, best});
        };
        for_rows_with_first_words(rows, begin, end, c, sc.seed, rep, 0, Purpose::nursery, may_use,
                                  fetch, use);
      });
  par::add_counts(user_parts, users);
  par::add_counts(demand_parts, demanded);
  std::vector<Request> requests;
  par::concatenate(found, requests);
  std::sort(requests.begin(), requests.end(),
            [](const Request& a, const Request& b) { return a.order < b.order; });
  for (const Request& q : requests) {
    const auto f = static_cast<std::size_t>(q.room);
    const int left = F.capacity(f, t) - used[f];
    const int got = std::min(want, std::max(0, left));
    used[f] += got;
    if (got > 0) c.babyroom_year[q.child] = sc.start.plus(t).year;
    served[static_cast<std::size_t>(home[c.household[q.child]].street)] += got;
  }
}

}  // namespace

TEST_CASE("babyroom, the rooms served in parallel equal the serial reference to the bit",
          "[babyroom][threads]") {
  // Month by month on the states of a real run (a baby room in every street, a fifth of the
  // district, 24 months, outreach from 2025), step_babyroom at 1 and 3 threads and the serial
  // reference above, each on its own copy of the state, give the same outputs and the same
  // children served: with the rooms as given, and with their sessions cut to a tenth and a
  // fiftieth, so that many rooms cannot serve every request and the order decides.
  const auto dir = test::fresh_dir("babyroom-reference");
  {
    std::ofstream out(dir / "rooms.yaml");
    out << "extends: " << test::scenario("scenarios/baby-room-outreach.yaml").string()
        << "\npopulation_scale: 0.2\nreplicates: 1\nend: 2025-12\n";
  }
  for (const double factor : {1.0, 0.1, 0.02}) {
    Scenario sc = load_scenario(dir / "rooms.yaml");
    Facilities& F = sc.facilities;
    for (int f : F.of_service(Service::babyroom))
      for (int t = 0; t < F.n_months; ++t) {
        auto& cap = F.capacity_schedule[static_cast<std::size_t>(f * F.n_months + t)];
        cap = static_cast<std::int32_t>(std::lround(cap * factor));
      }
    const Model m(sc);
    const ServiceContext cx{m.scenario, m.services};
    State st = build_initial_state(sc, m.rates, m.counts, 0);
    io::Recorder run(sc, 1), reference(sc, 1), one(sc, 1), three(sc, 1);
    const int saved = omp_get_max_threads();
    int full = 0;  // room-months that gave all their sessions
    for (int t = 0; t < sc.n_months(); ++t) {
      st.month = t;
      step_month(m, st, run);
      State a = st, b = st, c = st;
      step_babyroom_reference(cx, a, reference);
      omp_set_num_threads(1);
      step_babyroom(cx, b, one);
      omp_set_num_threads(3);
      step_babyroom(cx, c, three);
      omp_set_num_threads(saved);
      INFO("sessions x " << factor << ", month " << t);
      CHECK(b.children.babyroom_year == a.children.babyroom_year);
      CHECK(c.children.babyroom_year == a.children.babyroom_year);
      const std::int32_t* used = reference.block("babyroom_sessions_used", 0, t);
      for (int f : F.of_service(Service::babyroom))
        full += F.capacity(f, t) > 0 && used[f] == F.capacity(f, t);
    }
    const io::Dataset x = reference.to_dataset({}), y = one.to_dataset({}),
                      z = three.to_dataset({});
    int compared = 0;
    for (const auto& v : x.variables) {
      if (v.name.rfind("babyroom_", 0) != 0) continue;
      INFO("sessions x " << factor << ", variable " << v.name);
      CHECK(test::identical(y.find_variable(v.name)->data, v.data));
      CHECK(test::identical(z.find_variable(v.name)->data, v.data));
      compared += 1;
    }
    CHECK(compared == 4);
    INFO("sessions x " << factor << ": " << full << " room-months full");
    if (factor < 1) CHECK(full > 20);
  }
  std::filesystem::remove_all(dir);
}
