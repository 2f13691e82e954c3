// nursery: full-day care for children of nursery age — who wants it, where, and who waits.
//
// Each month, in this order (docs/model.md, "Nursery"):
//  1. Leaving: a child leaves its place, or the waiting list, on reaching the kind's maximum
//     age or on entering kindergarten; a family gives up waiting after max_wait_months.
//  2. Displacement: where capacity has fallen below enrolment (a closure or a cut), the most
//     recently enrolled children lose their places and choose again in step 4.
//  3. Waiting lists: free places go to the children on that facility's list in priority order
//     (choice.hpp: all parents work, Shanghai hukou, earlier application, fixed tie-break).
//  4. New demand: a family with a child of nursery age that has no place and is not waiting
//     wants formal care with probability logistic(η) (work, grandparent care, income, age,
//     family taste, cheapest net price nearby); the comparison uses a uniform number fixed for
//     the child, so a family's wish changes only when its circumstances do. A family that
//     wants care chooses a facility by multinomial logit over walking distance, net price
//     (after the childcare subsidy), quality and kind; it takes a place if one is free, else
//     joins that facility's waiting list. Families are processed in priority order.
// Capacity is never exceeded: a place is only taken when enrolment < capacity.
#include "sim/core/parallel.hpp"          // par::for_chunks
#include "sim/core/rng.hpp"               // Stream
#include "sim/demography/demography.hpp"  // age_in_months
#include "sim/services/choice.hpp"        // logit_choice, priority_key, logistic
#include "sim/services/reach.hpp"         // facilities_within_reach
#include "sim/services/services.hpp"      // ServiceContext

#include <algorithm>  // std::sort
#include <cmath>      // std::isfinite
#include <limits>     // std::numeric_limits

namespace childsim {

namespace io {
std::vector<OutputSpec> nursery_outputs() {
  using V = std::vector<std::string>;
  const V rtf{"replicate", "time", "facility"}, rts{"replicate", "time", "street"};
  return {
      {"nursery_enrolled", rtf, "children", "children holding a place",
       "children enrolled at the end of the month (full-day nursery kinds only)"},
      {"nursery_waiting", rtf, "children", "children on the waiting list",
       "children on the facility's waiting list at the end of the month"},
      {"nursery_eligible", rts, "children", "children of nursery age",
       "children whose age is within some nursery kind's age range, by home street"},
      {"nursery_wanting", rts, "children", "children whose family wants formal care",
       "enrolled + waiting + wanting but without a facility within reach, by home street"},
      {"nursery_children_enrolled", rts, "children", "children in nurseries by home street",
       "children holding a full-day place, by the street they live in"},
      {"nursery_children_waiting", rts, "children", "children waiting by home street",
       "children on a waiting list, by the street they live in"},
      {"nursery_unmet", rts, "children", "unmet demand",
       "children whose family wants care but holds no place at the end of the month (waiting "
       "or with no facility within reach)"},
      {"nursery_new_places", rts, "children", "places taken this month",
       "children who took a place this month (from a waiting list or directly)"},
      {"nursery_displaced", rts, "children", "children who lost a place",
       "children whose place ended this month because capacity fell below enrolment"},
      {"nursery_gave_up", rts, "children", "families who stopped waiting",
       "children removed from a waiting list after nursery.max_wait_months"},
      {"nursery_walk_m", rts, "m", "mean walking distance to the nursery",
       "mean walking distance from home to the place held, of children holding a place "
       "(NaN when none)",
       true},
      {"policy_subsidy_cost",
       {"replicate", "year"},
       "yuan",
       "public spending on subsidies",
       "childcare subsidies paid in the year (scenario policy.subsidies, the national one "
       "included): each month, the subsidies paid to every child under 36 months times the "
       "children under 36 months living in the district, plus fee subsidies (at most the fee) "
       "for children of that age holding a nursery place",
       true},
      {"policy_price_cap_cost",
       {"replicate", "year"},
       "yuan",
       "public compensation for the price cap",
       "compensation to providers of inclusive nurseries for the price cap, in the year: for "
       "each child holding a place and each month, the facility's list price minus the cap "
       "in effect (0 where the price is below the cap)",
       true},
      {"family_nursery_fees",
       {"replicate", "year"},
       "yuan",
       "families' out-of-pocket nursery fees",
       "nursery fees families pay in the year: for each child holding a place and each month, "
       "the price after the cap minus fee subsidies (not minus the subsidies paid to every "
       "child, which families receive whether or not they use a nursery)",
       true},
  };
}
}  // namespace io

namespace {

struct NurseryWork {
  std::vector<int> facilities;  // nursery-service facilities
  int min_age = 216, max_age = 0;
};

NurseryWork nursery_facilities(const Facilities& F) {
  NurseryWork w;
  w.facilities = F.of_service(Service::nursery);
  for (int f : w.facilities) {
    w.min_age = std::min(w.min_age, F.kind_of(static_cast<std::size_t>(f)).min_age_months);
    w.max_age = std::max(w.max_age, F.kind_of(static_cast<std::size_t>(f)).max_age_months);
  }
  return w;
}

// The price a family pays before subsidies: the list price, capped for inclusive kinds.
double capped_price(const ServiceContext& cx, std::size_t f, int month) {
  const Facilities& F = cx.scenario.facilities;
  const double list = F.price[f];
  return F.inclusive[f] ? std::min(list, cx.params.price_cap_month[static_cast<std::size_t>(month)])
                        : list;
}

// The price a family weighs: after the cap and every subsidy for a child under 36 months.
double net_price(const ServiceContext& cx, std::size_t f, int month, int age_months) {
  const auto t = static_cast<std::size_t>(month);
  const double subsidy =
      age_months < 36 ? cx.params.subsidy_every_child_month[t] + cx.params.subsidy_enrolled_month[t]
                      : 0.0;
  const double p = capped_price(cx, f, month) - subsidy;
  return p > 0 ? p : 0.0;
}

std::uint64_t child_key(const Children& c, const HomeRow* home, std::size_t i, int since) {
  const HomeRow& o = home[c.household[i]];
  return priority_key(o.all_parents_work(), o.hukou_local(), since, mix64(c.id[i]));
}

// Each child's decision this month (step_nursery), a row per child, kept from month to month.
struct Choices {
  std::vector<std::int32_t> choice;
};

}  // namespace

void step_nursery(const ServiceContext& cx, State& st, io::Recorder& rec) {
  const Scenario& sc = cx.scenario;
  const Facilities& F = sc.facilities;
  const ServiceParams& P = cx.params;
  Children& c = st.children;
  std::vector<HomeRow> own_homes;
  const HomeRow* home = homes_for(cx, st, own_homes);
  const int t = st.month, r = st.replicate;
  const NurseryWork w = nursery_facilities(F);
  const std::size_t nf = F.size();
  const std::size_t ns = sc.base.streets.size();

  std::int32_t* displaced = rec.block("nursery_displaced", r, t);
  std::int32_t* gave_up = rec.block("nursery_gave_up", r, t);
  std::int32_t* new_places = rec.block("nursery_new_places", r, t);
  auto street_of = [&](std::size_t i) {
    return static_cast<std::size_t>(home[c.household[i]].street);
  };

  // 1. Leaving places and lists. A family that gives up waiting does not apply again in the
  // same month (it would otherwise rejoin the same list at once). Each row changes only
  // itself; counts per thread, added up.
  const std::size_t nb = par::n_blocks();
  std::vector<std::int32_t> enrolled(nf, 0);
  // Each child's decision this month: -3 gave up waiting (step 1), -2 not seeking, -1 wants
  // care but nothing in reach, else the facility chosen (step 4). A buffer kept with the state
  // between months (kept_scratch.hpp): filling it costs less than faulting in fresh pages every
  // month (tens of megabytes for the whole of Shanghai).
  constexpr std::int32_t gave_up_waiting = -3;
  // Only the rows of `rows` are read, and step 1 sets each of them to -2 in its parallel pass
  // (a serial fill of every row cost more than the rest of the step's serial part).
  std::vector<std::int32_t>& choice = st.kept.get<Choices>().choice;
  if (choice.size() < c.size()) choice.resize(c.size());
  // Children still on a waiting list after leaving, with their keys, per chunk of rows (the
  // displacement of step 2 changes places, not lists).
  // The passes run over the young children's rows (services.hpp, young_rows): the others are
  // of no nursery age and hold no place and no waiting-list entry.
  const RowSet rows = young_rows(cx, st);
  const std::size_t n = rows.size();
  // A child on a list or applying (steps 3 and 4), with what the serial allocation needs, so
  // that it reads the applicants in order rather than each child's rows; sorted by key, then
  // row.
  struct Applicant {
    std::uint64_t key;
    std::size_t row;
    std::int32_t facility;  // the list it is on, or its choice
    std::int16_t street;
    bool operator<(const Applicant& o) const { return key != o.key ? key < o.key : row < o.row; }
  };
  std::vector<std::vector<Applicant>> waiting(par::n_chunks(n));
  {
    std::vector<std::vector<std::int32_t>> e_parts(nb, std::vector<std::int32_t>(nf, 0));
    std::vector<std::vector<std::int32_t>> g_parts(nb, std::vector<std::int32_t>(ns, 0));
    par::for_chunks(n, nb,
                    [&](std::size_t thread, std::size_t chunk, std::size_t begin, std::size_t end) {
                      std::int32_t* e = e_parts[thread].data();
                      std::int32_t* g = g_parts[thread].data();
                      for (std::size_t k = begin; k < end; ++k) {
                        const std::size_t i = rows[k];
                        choice[i] = -2;
                        if (!c.present[i] || (c.nursery[i] < 0 && c.waiting[i] < 0)) continue;
                        const int age = age_in_months(t, c.birth_month[i]);
                        if (c.nursery[i] >= 0) {
                          const auto f = static_cast<std::size_t>(c.nursery[i]);
                          if (c.kindergarten[i] >= 0 || age >= F.kind_of(f).max_age_months) {
                            c.nursery[i] = -1;
                          } else {
                            e[f] += 1;
                          }
                        }
                        if (c.waiting[i] >= 0) {
                          const auto f = static_cast<std::size_t>(c.waiting[i]);
                          if (c.kindergarten[i] >= 0 || age >= F.kind_of(f).max_age_months) {
                            c.waiting[i] = -1;
                          } else if (t - c.waiting_since[i] >= P.max_wait_months) {
                            c.waiting[i] = -1;
                            g[street_of(i)] += 1;
                            choice[i] = gave_up_waiting;
                          }
                        }
                        if (c.waiting[i] >= 0)
                          waiting[chunk].push_back({child_key(c, home, i, c.waiting_since[i]), i,
                                                    c.waiting[i], home[c.household[i]].street});
                      }
                    });
    par::add_counts(e_parts, enrolled.data());
    par::add_counts(g_parts, gave_up);
  }

  // 2. Displacement where capacity fell: the latest enrolled leave first. Displaced children,
  // like those whose facility closed, are free to choose again in step 4 this month.
  for (const std::size_t i :
       displace_latest(F, t, w.facilities, c, c.nursery, c.nursery_since, enrolled))
    displaced[street_of(i)] += 1;

  // 3. Waiting lists, in priority order.
  std::vector<std::vector<Applicant>> lists(nf);
  for (const auto& part : waiting)  // each list is sorted below
    for (const Applicant& q : part) lists[static_cast<std::size_t>(q.facility)].push_back(q);
  for (int f : w.facilities) {
    const auto fu = static_cast<std::size_t>(f);
    auto& list = lists[fu];
    std::sort(list.begin(), list.end());
    const std::int32_t cap = F.capacity(fu, t);
    if (cap == 0) {  // closed: its list dissolves and the families choose again
      for (const Applicant& q : list) c.waiting[q.row] = -1;
      continue;
    }
    for (const Applicant& q : list) {
      if (enrolled[fu] >= cap) break;
      c.waiting[q.row] = -1;
      c.nursery[q.row] = f;
      c.nursery_since[q.row] = t;
      enrolled[fu] += 1;
      new_places[static_cast<std::size_t>(q.street)] += 1;
    }
  }

  // 4. New demand. Decisions are drawn in parallel from each child's own streams; places are
  // then taken serially in priority order. The price term of the wish uses the cheapest net
  // price among facilities open to the child's age within reach of the street's centre
  // (computed once per street and age, since most children do not want care and evaluating
  // every facility for each of them dominated the run time).
  const auto rep = static_cast<std::uint32_t>(r);
  const double max_m = P.max_distance_km * 1000.0;
  const int n_ages = std::max(0, w.max_age - w.min_age);
  std::vector<double> cheapest(ns * static_cast<std::size_t>(n_ages),
                               std::numeric_limits<double>::infinity());
  // A facility's net price takes two values, under 36 months and from 36 (net_price), worked
  // out once per facility rather than per street and age.
  std::vector<double> price_under_36(nf), price_from_36(nf);
  for (int f : w.facilities) {
    const auto fu = static_cast<std::size_t>(f);
    price_under_36[fu] = net_price(cx, fu, t, 35);
    price_from_36[fu] = net_price(cx, fu, t, 36);
  }
  for (std::size_t s = 0; s < ns; ++s) {
    const Street& street = sc.base.streets[s];
    for (int f : w.facilities) {
      const auto fu = static_cast<std::size_t>(f);
      if (F.capacity(fu, t) <= 0) continue;
      if (P.walk_m(street.x_m, street.y_m, F.x_m[fu], F.y_m[fu]) > max_m) continue;
      const FacilityKind& k = F.kind_of(fu);
      for (int a = std::max(k.min_age_months, w.min_age); a < std::min(k.max_age_months, w.max_age);
           ++a) {
        double& best = cheapest[s * static_cast<std::size_t>(n_ages) +
                                static_cast<std::size_t>(a - w.min_age)];
        best = std::min(best, a < 36 ? price_under_36[fu] : price_from_36[fu]);
      }
    }
  }
  // Facilities that a home of each street may reach (reach.hpp: same result, less time).
  const auto reach = facilities_within_reach(sc.base, F, w.facilities, P, max_m);
  // Options in reach of child i: open, admitting its age, within the distance limit, with
  // their utilities.
  auto options_for = [&](std::size_t i, int age, std::vector<int>& options,
                         std::vector<double>& v) {
    const HomeRow& o = home[c.household[i]];
    for (int f : reach[static_cast<std::size_t>(o.street)]) {
      const auto fu = static_cast<std::size_t>(f);
      const FacilityKind& k = F.kind_of(fu);
      if (F.capacity(fu, t) <= 0 || age < k.min_age_months || age >= k.max_age_months) continue;
      if (F.public_hukou_only && k.id == "nursery_class" && F.is_public(fu) && !o.hukou_local())
        continue;
      const double d = P.walk_m(o.x_m, o.y_m, F.x_m[fu], F.y_m[fu]);
      if (d > max_m) continue;
      options.push_back(f);
      v.push_back(P.beta_distance_per_km * d / 1000.0 +
                  P.beta_net_price_per_1000 * net_price(cx, fu, t, age) / 1000.0 +
                  P.beta_quality * F.quality[fu] +
                  P.asc_by_kind[static_cast<std::size_t>(F.kind[fu])]);
    }
  };
  // Per chunk of rows (children of nursery age are the latest rows: uneven work), the seekers
  // with their keys in row order; sorted below.
  std::vector<std::vector<Applicant>> found(par::n_chunks(n));
  // The candidates' wishes are drawn a group at a time, and their households fetched before
  // the group is decided (services.hpp, for_rows_with_first_words).
  auto candidate = [&](std::size_t i) {
    const int age = age_in_months(t, c.birth_month[i]);
    return (c.present[i] != 0) & (c.nursery[i] < 0) & (c.waiting[i] < 0) & (c.kindergarten[i] < 0) &
           (choice[i] != gave_up_waiting) & (age >= w.min_age) & (age < w.max_age);
  };
  auto fetch_traits = [&](std::size_t i, const FirstBlocks&, std::size_t) {
    __builtin_prefetch(&home[c.household[i]]);
  };
  par::for_chunks(n, nb, [&](std::size_t, std::size_t chunk, std::size_t begin, std::size_t end) {
    // The wish: a uniform number fixed for the child, the first word of its nursery stream of
    // month 0, so no monthly churn.
    for_rows_with_first_words(
        rows, begin, end, c, sc.seed, rep, 0, Purpose::nursery, candidate, fetch_traits,
        [&](std::size_t i, const FirstBlocks& wish, std::size_t g) {
          const int age = age_in_months(t, c.birth_month[i]);
          const HomeRow& o = home[c.household[i]];
          const auto s = static_cast<std::size_t>(o.street);
          const double cheap = cheapest[s * static_cast<std::size_t>(n_ages) +
                                        static_cast<std::size_t>(age - w.min_age)];
          const int income = o.income_band;
          const double eta =
              P.seek_intercept + P.seek_all_parents_work * o.all_parents_work() +
              P.seek_grandparent * o.grandparent_care() + P.seek_income_low * (income == 0) +
              P.seek_income_high * (income == 2) + P.seek_age_per_year * (age - 24) / 12.0 +
              P.seek_taste * o.taste +
              (std::isfinite(cheap) ? P.seek_net_price_per_1000 * cheap / 1000.0 : 0.0);
          if (wish.uniform(g, 0) >= logistic(eta)) return;
          std::vector<double> v;
          std::vector<int> options;
          options_for(i, age, options, v);
          if (options.empty()) {
            choice[i] = -1;
            return;
          }
          Stream pick(sc.seed, rep, c.id[i], static_cast<std::uint32_t>(t + cx.rng_month_shift),
                      Purpose::nursery);
          choice[i] = options[static_cast<std::size_t>(logit_choice(v, pick.uniform()))];
          found[chunk].push_back({child_key(c, home, i, t), i, choice[i], o.street});
        });
  });
  std::vector<Applicant> seekers;
  par::concatenate(found, seekers);
  std::sort(seekers.begin(), seekers.end());
  for (Applicant& q : seekers) {
    const std::size_t i = q.row;
    if (t == 0 && cx.settle_first_month &&
        enrolled[static_cast<std::size_t>(q.facility)] >=
            F.capacity(static_cast<std::size_t>(q.facility), t)) {
      // The first month stands for places already allocated before the run: a family whose
      // first choice is full takes its logit choice among the places still free (a stream
      // month no real month uses), instead of everyone queueing at once for the cheapest.
      std::vector<int> options, free_options;
      std::vector<double> v, free_v;
      options_for(i, age_in_months(t, c.birth_month[i]), options, v);
      for (std::size_t k = 0; k < options.size(); ++k)
        if (enrolled[static_cast<std::size_t>(options[k])] <
            F.capacity(static_cast<std::size_t>(options[k]), t)) {
          free_options.push_back(options[k]);
          free_v.push_back(v[k]);
        }
      if (!free_options.empty()) {
        Stream settle(sc.seed, rep, c.id[i], 0, Purpose::nursery_settle);
        q.facility = free_options[static_cast<std::size_t>(logit_choice(free_v, settle.uniform()))];
        choice[i] = q.facility;
      }
    }
    const auto f = static_cast<std::size_t>(q.facility);
    if (enrolled[f] < F.capacity(f, t)) {
      c.nursery[i] = q.facility;
      c.nursery_since[i] = t;
      enrolled[f] += 1;
      new_places[static_cast<std::size_t>(q.street)] += 1;
    } else {
      c.waiting[i] = q.facility;
      c.waiting_since[i] = t;
    }
  }

  // Recording.
  if (!cx.record) return;
  std::int32_t* enr = rec.block("nursery_enrolled", r, t);
  std::int32_t* wait = rec.block("nursery_waiting", r, t);
  std::int32_t* eligible = rec.block("nursery_eligible", r, t);
  std::int32_t* wanting = rec.block("nursery_wanting", r, t);
  std::int32_t* by_street = rec.block("nursery_children_enrolled", r, t);
  std::int32_t* wait_street = rec.block("nursery_children_waiting", r, t);
  std::int32_t* unmet = rec.block("nursery_unmet", r, t);
  double* walk = rec.real_block("nursery_walk_m", r, t);
  // Costs of the policy levers, added month by month into the year (policy.subsidies, the
  // price cap) and what families pay.
  const int y = rec.year_index(t);
  double* subsidy_cost = rec.real_block("policy_subsidy_cost", r, y);
  double* cap_cost = rec.real_block("policy_price_cap_cost", r, y);
  double* fees = rec.real_block("family_nursery_fees", r, y);
  const auto tt = static_cast<std::size_t>(t);
  // Counts per thread (added up); the money and the walks, sums of doubles, are listed per
  // chunk in row order and added up serially in that order, as a serial loop would. A child
  // under 36 months without a place adds only the subsidy paid to every child: such children
  // are counted (`before` a child holding a place, `after` the last one of a chunk) rather
  // than listed, and the serial sum adds the subsidy once for each, in the same order.
  struct Term {  // a child holding a place
    std::size_t street;
    bool under_36;
    double fee_subsidy, cap, fee, walk;
    std::uint32_t before;  // children under 36 months without a place since the last Term
  };
  struct Terms {
    std::vector<Term> held;
    std::uint32_t after = 0;
  };
  struct Counts {
    std::vector<std::int32_t> enr, wait, eligible, wanting, by_street, wait_street, unmet;
  };
  std::vector<Counts> counts(nb);
  for (Counts& k : counts) {
    k.enr.assign(nf, 0);
    k.wait.assign(nf, 0);
    for (auto* v : {&k.eligible, &k.wanting, &k.by_street, &k.wait_street, &k.unmet})
      v->assign(ns, 0);
  }
  std::vector<Terms> terms(par::n_chunks(n));
  // The children of nursery age by street come from the agent census when it is kept
  // (services.hpp, add_children_by_street): the pass then reads the household only of the
  // children with a place, on a list or wanting care without an option.
  const bool eligible_from_census = st.census.enabled();
  if (eligible_from_census) add_children_by_street(st.census, t, w.min_age, w.max_age, eligible);
  par::for_chunks(
      n, nb, [&](std::size_t thread, std::size_t chunk, std::size_t begin, std::size_t end) {
        Counts& k = counts[thread];
        // First, without reading any household, the rows counted by street, each with the
        // children under 36 months without a place since the last child holding one (they add
        // only the subsidy paid to every child); then those rows, their households fetched a
        // few rows ahead.
        struct Counted {
          std::uint32_t row, before;
        };
        std::vector<Counted> counted;
        std::uint32_t unplaced_under_36 = 0;  // since the last child holding a place
        for (std::size_t j = begin; j < end; ++j) {
          const std::size_t i = rows[j];
          if (!c.present[i]) continue;
          const int age = age_in_months(t, c.birth_month[i]);
          if (c.nursery[i] >= 0) {
            counted.push_back({static_cast<std::uint32_t>(i), unplaced_under_36});
            unplaced_under_36 = 0;
            continue;
          }
          if (age < 36) ++unplaced_under_36;
          if ((!eligible_from_census && age >= w.min_age && age < w.max_age) || c.waiting[i] >= 0 ||
              choice[i] == -1)
            counted.push_back({static_cast<std::uint32_t>(i), 0});
        }
        terms[chunk].after = unplaced_under_36;
        // Room for every counted row: the list grew from nothing in each chunk and month.
        terms[chunk].held.reserve(counted.size());
        for_rows_fetched_ahead(
            std::size_t{0}, counted.size(), [](std::size_t) { return true; },
            [&](std::size_t q) { __builtin_prefetch(&home[c.household[counted[q].row]]); },
            [&](std::size_t q) {
              const std::size_t i = counted[q].row;
              const int age = age_in_months(t, c.birth_month[i]);
              const std::size_t s = street_of(i);
              if (!eligible_from_census && age >= w.min_age && age < w.max_age) k.eligible[s] += 1;
              if (c.nursery[i] >= 0) {
                const auto f = static_cast<std::size_t>(c.nursery[i]);
                const double price = capped_price(cx, f, t);
                const double fee_subsidy =
                    age < 36 ? std::min(price, P.subsidy_enrolled_month[tt]) : 0.0;
                const HomeRow& o = home[c.household[i]];
                terms[chunk].held.push_back(
                    {s, age < 36, fee_subsidy, F.price[f] - price, price - fee_subsidy,
                     P.walk_m(o.x_m, o.y_m, F.x_m[f], F.y_m[f]), counted[q].before});
                k.enr[f] += 1;
                k.by_street[s] += 1;
                k.wanting[s] += 1;
                return;
              }
              if (c.waiting[i] >= 0) {
                k.wait[static_cast<std::size_t>(c.waiting[i])] += 1;
                k.wait_street[s] += 1;
                k.wanting[s] += 1;
                k.unmet[s] += 1;
              } else if (choice[i] == -1) {
                k.wanting[s] += 1;
                k.unmet[s] += 1;
              }
            });
      });
  for (const Counts& k : counts) {
    for (std::size_t f = 0; f < nf; ++f) {
      enr[f] += k.enr[f];
      wait[f] += k.wait[f];
    }
    for (std::size_t s = 0; s < ns; ++s) {
      eligible[s] += k.eligible[s];
      wanting[s] += k.wanting[s];
      by_street[s] += k.by_street[s];
      wait_street[s] += k.wait_street[s];
      unmet[s] += k.unmet[s];
    }
  }
  std::vector<double> walk_sum(ns, 0.0);
  const double every_child = P.subsidy_every_child_month[tt];
  // The same additions in the same order, into locals (the recorder's cells, written through
  // pointers, were stored and loaded again at every addition).
  double subsidy = *subsidy_cost, cap_sum = *cap_cost, fee_sum = *fees;
  for (const Terms& list : terms) {
    for (const Term& x : list.held) {
      for (std::uint32_t k = 0; k < x.before; ++k) subsidy += every_child;
      if (x.under_36) subsidy += every_child;
      subsidy += x.fee_subsidy;
      cap_sum += x.cap;
      fee_sum += x.fee;
      walk_sum[x.street] += x.walk;
    }
    for (std::uint32_t k = 0; k < list.after; ++k) subsidy += every_child;
  }
  *subsidy_cost = subsidy;
  *cap_cost = cap_sum;
  *fees = fee_sum;
  for (std::size_t s = 0; s < ns; ++s)
    walk[s] =
        by_street[s] > 0 ? walk_sum[s] / by_street[s] : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace childsim
