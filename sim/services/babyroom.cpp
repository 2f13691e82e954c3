// babyroom: community baby rooms (宝宝屋) — short, low-cost sessions for children under 3.
//
// Baby rooms give free 3-hour sessions to 1-3-year-olds (changning.md L51); any child of
// baby-room age without a full-day place may come: at home, with grandparents or in
// part-time care (the model does not tell these apart). Whether its family uses the nearest
// open room within nursery.max_distance_km is a logit (ServiceParams::babyroom_probability):
// take-up falls with the walk, rises with the sessions the room offers and with outreach
// (policy babyroom_outreach), all assumed (parameters.yaml babyroom.*, docs/model.md §7.12).
// The family's uniform number is fixed per child, so a better offer only adds users. A user
// asks for babyroom.sessions_per_month sessions. A family with no room in reach is counted as
// if a standard room (660 sessions) stood at the largest distance (its demand is recorded,
// unserved). A room's capacity is child-sessions per
// month; requests are served in a monthly random order (each child's own stream), whole requests
// first, and the last one served may be partly met. Unserved sessions are unmet demand.
#include "sim/core/parallel.hpp"          // par::for_chunks, par::for_each_unit
#include "sim/core/rng.hpp"               // Stream
#include "sim/demography/demography.hpp"  // age_in_months
#include "sim/services/reach.hpp"         // facilities_within_reach
#include "sim/services/services.hpp"      // ServiceContext

#include <algorithm>  // std::sort, std::min, std::max
#include <cmath>      // std::lround
#include <cstdint>    // std::int32_t, std::int64_t, std::uint64_t
#include <limits>     // std::numeric_limits

namespace childsim {

namespace io {
std::vector<OutputSpec> babyroom_outputs() {
  using V = std::vector<std::string>;
  const V rtf{"replicate", "time", "facility"}, rts{"replicate", "time", "street"};
  return {
      {"babyroom_sessions_used", rtf, "child-sessions", "baby-room sessions given",
       "child-sessions given by each baby room in the month"},
      {"babyroom_users", rts, "children", "children using baby rooms",
       "children whose family asked for baby-room sessions this month, by home street"},
      {"babyroom_sessions_demanded", rts, "child-sessions", "baby-room sessions asked for",
       "sessions asked for by families living in the street (including those with no room "
       "within reach)"},
      {"babyroom_sessions_served", rts, "child-sessions", "baby-room sessions served",
       "sessions given to families living in the street"},
  };
}
}  // namespace io

namespace {

/// A family's request for sessions at its room this month.
struct Request {
  std::uint64_t order;  // the monthly random order of serving
  std::size_t child;
  std::int32_t street;  // the child's home street
};

/// The month's lists (step_babyroom), kept from month to month so that a month does not
/// allocate a list per chunk and room; they carry nothing from one month to the next.
struct RequestLists {
  std::vector<std::vector<Request>> found;        // per chunk and room
  std::vector<std::vector<Request>> by_room;      // per room, in row order
  std::vector<std::vector<std::int32_t>> served;  // sessions served per room, by street
};

}  // namespace

void step_babyroom(const ServiceContext& cx, State& st, io::Recorder& rec) {
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

  // Index of each room in `rooms`, by facility.
  std::vector<std::int32_t> room_index(F.size(), -1);
  for (std::size_t u = 0; u < rooms.size(); ++u)
    room_index[static_cast<std::size_t>(rooms[u])] = static_cast<std::int32_t>(u);
  const std::size_t n_rooms = rooms.size();
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
  // Requests per chunk and room (found[chunk * n_rooms + room]), each list in row order.
  RequestLists& lists = st.kept.get<RequestLists>();
  std::vector<std::vector<Request>>& found = lists.found;
  found.resize(par::n_chunks(n) * n_rooms);
  for (std::vector<Request>& f : found) f.clear();
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
        auto may_use = [&](std::size_t i) {  // (without branches: services.hpp)
          const int age = age_in_months(t, c.birth_month[i]);
          return (c.present[i] != 0) & (c.nursery[i] < 0) & (age >= k0.min_age_months) &
                 (age < k0.max_age_months);
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
          found[chunk * n_rooms +
                static_cast<std::size_t>(room_index[static_cast<std::size_t>(best)])]
              .push_back({(static_cast<std::uint64_t>(order()) << 32) | order(), i, o.street});
        };
        for_rows_with_first_words(rows, begin, end, c, sc.seed, rep, 0, Purpose::nursery, may_use,
                                  fetch, use);
      });
  par::add_counts(user_parts, users);
  par::add_counts(demand_parts, demanded);
  // Serving. Each request is served in the monthly random order (`order`), and what a request
  // gets depends only on the requests for the same room before it: rooms do not interact.
  // Rooms in parallel, each over its own requests, writing its own `used` and the years of
  // its own children (a child asks one room); sessions served are counted per room and added
  // up by street. A room that can serve all its requests in full serves them in any order;
  // the others sort theirs by `order`, which is the old order of one sort of all requests
  // (orders are 64 random bits: ties have probability ~1e-12 a month; a tie is broken by row).
  const int year = sc.start.plus(t).year;
  const std::size_t nc = par::n_chunks(n);
  std::vector<std::vector<std::int32_t>>& served_parts = lists.served;
  lists.by_room.resize(n_rooms);
  served_parts.resize(n_rooms);
  par::for_each_unit(n_rooms, [&](std::size_t u) {
    std::vector<Request>& list = lists.by_room[u];
    list.clear();
    served_parts[u].assign(ns, 0);
    for (std::size_t k = 0; k < nc; ++k)
      list.insert(list.end(), found[k * n_rooms + u].begin(), found[k * n_rooms + u].end());
    if (list.empty()) return;
    const auto f = static_cast<std::size_t>(rooms[u]);
    const std::int32_t cap = F.capacity(f, t);
    if (static_cast<std::int64_t>(list.size()) * want > static_cast<std::int64_t>(cap) - used[f])
      std::sort(list.begin(), list.end(), [](const Request& a, const Request& b) {
        return a.order < b.order || (a.order == b.order && a.child < b.child);
      });
    std::vector<std::int32_t>& by_street = served_parts[u];
    std::int32_t taken = used[f];
    for (const Request& q : list) {
      const int got = std::min(want, std::max(0, cap - taken));
      taken += got;
      if (got > 0) c.babyroom_year[q.child] = year;
      by_street[static_cast<std::size_t>(q.street)] += got;
    }
    used[f] = taken;
  });
  for (const std::vector<std::int32_t>& part : served_parts)
    for (std::size_t s = 0; s < part.size(); ++s) served[s] += part[s];
}

}  // namespace childsim
