// services: the monthly order of the service submodels and shared helpers.
#include "sim/services/services.hpp"

#include "sim/core/check.hpp"        // CHILDSIM_CHECK
#include "sim/core/parallel.hpp"     // par::for_blocks, par::for_chunks
#include "sim/core/prefetch.hpp"     // prefetch_row
#include "sim/core/rng.hpp"          // mix64
#include "sim/services/holiday.hpp"  // holiday_min_age, holiday_max_age

#include <algorithm>  // std::sort

namespace childsim {
namespace {
// The young children's and the pupils' rows of the month (step_services), kept from month to
// month.
struct YoungRows {
  std::vector<std::uint32_t> young, pupils;
};
}  // namespace

void make_homes(const Households& h, std::vector<HomeRow>& out) {
  if (out.size() < h.size()) {
    out.reserve(h.size() + h.size() / 8);  // room for the households of the coming months
    out.resize(h.size());
  }
  HomeRow* rows = out.data();
  par::for_blocks(h.size(), par::n_blocks(), [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) rows[i] = home_row(h, i);
  });
}

HomeRow home_row(const Households& h, std::size_t i) {
  HomeRow o;
  o.x_m = h.x_m[i];
  o.y_m = h.y_m[i];
  o.taste = h.taste[i];
  o.street = h.street[i];
  o.income_band = h.income_band[i];
  // all_parents_work without branches (the flags are tested for non-zero, as there).
  const unsigned mother = h.has_mother[i] != 0, partner = h.partnered[i] != 0;
  const unsigned work = (mother | partner) & (!mother | (h.mother_works[i] != 0)) &
                        (!partner | (h.partner_works[i] != 0));
  o.traits = static_cast<std::uint8_t>(work | (h.hukou_local[i] != 0 ? 2u : 0u) |
                                       (h.grandparent_care[i] != 0 ? 4u : 0u));
  return o;
}

void update_homes(State& st) {
  const Households& h = st.households;
  HomeRows& homes = st.homes;
  const std::size_t made = homes.rows.size();
  homes.made_whole = !(homes.made_month != HomeRows::never && homes.made_month == st.month - 1 &&
                       homes.listed_month == st.month && made <= h.size());
  if (homes.made_whole) {
    make_homes(h, homes.rows);
    homes.rows.resize(h.size());  // (make_homes never shrinks it: the new rows are told by it)
  } else {
    // A few thousand rows a month: serial. HomeRow's constructor leaves the new rows unset.
    // The changed rows are scattered, and at 2 threads half of them were last read by the
    // other core (its share of the household events): their eleven columns are requested 8
    // rows ahead, so that the fetches overlap. On this kind of VM, when the cores pass a line
    // slowly, this and the same in the births' pruning made a 2-thread replicate 1-2 % faster
    // (docs/performance.md, "Every target at one head, in both of the VM's states"); at 1
    // thread, no change.
    homes.rows.resize(h.size());
    const RowSet changed{homes.changed.data(), homes.changed.size()};
    for_rows_fetched_ahead<8>(
        changed, 0, changed.size(), [](std::size_t) { return true; },
        [&](std::size_t i) {
          prefetch_row(i, h.x_m, h.y_m, h.taste, h.street, h.income_band, h.has_mother, h.partnered,
                       h.mother_works, h.partner_works, h.hukou_local, h.grandparent_care);
        },
        [&](std::size_t i) { homes.rows[i] = home_row(h, i); });
    for (std::size_t i = made; i < h.size(); ++i) homes.rows[i] = home_row(h, i);
  }
  homes.made_month = st.month;
}

void list_young(const Children& c, int month, int oldest, int september,
                std::vector<std::uint32_t>& young, std::vector<std::uint32_t>& pupils) {
  std::vector<std::vector<std::uint32_t>> young_parts(par::n_chunks(c.size())),
      pupil_parts(par::n_chunks(c.size()));
  // The pupils' ages from holiday_min_age to holiday_max_age as months since their birth at
  // the last 1 September (age = months / 12 for months >= 0, as step_holiday; -1 before birth,
  // which no pupil age is).
  static_assert(holiday_min_age >= 0, "pupil ages are counted from birth");
  constexpr int pupil_from = 12 * holiday_min_age, pupil_until = 12 * (holiday_max_age + 1);
  par::for_chunks(c.size(), par::n_blocks(),
                  [&](std::size_t, std::size_t chunk, std::size_t begin, std::size_t end) {
                    std::vector<std::uint32_t>& y = young_parts[chunk];
                    std::vector<std::uint32_t>& p = pupil_parts[chunk];
                    // Every row written, each list advanced by its condition (branch_free.hpp):
                    // two in five rows pass each test, in no order a branch predictor learns,
                    // and the branches' mispredictions were most of this loop's time.
                    y.resize(end - begin);
                    p.resize(end - begin);
                    std::uint32_t* yy = y.data();
                    std::uint32_t* pp = p.data();
                    std::size_t ny = 0, np = 0;
                    const std::uint8_t* present = c.present.data();
                    const std::int32_t* born = c.birth_month.data();
                    const std::int32_t* nursery = c.nursery.data();
                    const std::int32_t* waiting = c.waiting.data();
                    const std::int32_t* kindergarten = c.kindergarten.data();
                    for (std::size_t i = begin; i < end; ++i) {
                      const bool here = present[i] != 0;
                      const int months = september - born[i];
                      yy[ny] = static_cast<std::uint32_t>(i);
                      ny += here & ((month - born[i] < oldest) | (nursery[i] >= 0) |
                                    (waiting[i] >= 0) | (kindergarten[i] >= 0));
                      pp[np] = static_cast<std::uint32_t>(i);
                      np += here & (months >= pupil_from) & (months < pupil_until);
                    }
                    y.resize(ny);
                    p.resize(np);
                  });
  par::concatenate(young_parts, young);
  par::concatenate(pupil_parts, pupils);
}

int young_age_limit(const Facilities& F) {
  int oldest = 96;
  for (const Service s : {Service::nursery, Service::babyroom})
    for (const int f : F.of_service(s))
      oldest = std::max(oldest, F.kind_of(static_cast<std::size_t>(f)).max_age_months);
  return oldest;
}

RowSet young_rows(const ServiceContext& cx, const State& st) {
  if (cx.young != nullptr) return {cx.young->data(), cx.young->size()};
  return {nullptr, st.children.size()};
}

void add_children_by_street(const AgentCensus& census, int month, int from, int until,
                            std::int32_t* out) {
  CHILDSIM_CHECK(census.enabled(), "the agent census is not kept");
  const auto n_months = static_cast<std::size_t>(census.n_birth_months);
  const std::size_t rows = census.children.size() / n_months;  // streets × sexes
  for (std::size_t row = 0; row < rows; ++row)
    out[row / n_sexes] +=
        sum_of_ages(census.children.data() + row * n_months, census.first_birth_month,
                    census.n_birth_months, month, from, until);
}

RowSet pupil_rows(const ServiceContext& cx, const State& st) {
  if (cx.pupils != nullptr) return {cx.pupils->data(), cx.pupils->size()};
  return {nullptr, st.children.size()};
}

const HomeRow* homes_for(const ServiceContext& cx, const State& st, std::vector<HomeRow>& own) {
  if (cx.homes != nullptr && cx.n_homes == st.households.size()) return cx.homes;
  make_homes(st.households, own);
  return own.data();
}

std::vector<std::size_t> displace_latest(const Facilities& F, int month,
                                         const std::vector<int>& facilities, const Children& c,
                                         std::vector<std::int32_t>& place,
                                         const std::vector<std::int32_t>& since,
                                         std::vector<std::int32_t>& enrolled) {
  std::vector<std::size_t> out;
  for (int f : facilities) {
    const auto fu = static_cast<std::size_t>(f);
    const std::int32_t cap = F.capacity(fu, month);
    if (enrolled[fu] <= cap) continue;
    std::vector<std::pair<std::uint64_t, std::size_t>> holders;
    for (std::size_t i = 0; i < c.size(); ++i)
      if (c.present[i] && place[i] == f)
        holders.emplace_back(
            (static_cast<std::uint64_t>(since[i] + 4096) << 40) | (mix64(c.id[i]) >> 24), i);
    std::sort(holders.rbegin(), holders.rend());  // latest first
    for (std::int32_t k = 0; k < enrolled[fu] - cap; ++k) {
      const std::size_t i = holders[static_cast<std::size_t>(k)].second;
      place[i] = -1;
      out.push_back(i);
    }
    enrolled[fu] = cap;
  }
  return out;
}

int age_at_last_september(int month, int birth_month, YearMonth start) {
  const int calendar_month = start.plus(month).month;          // 1..12
  const int since_september = (calendar_month - 9 + 12) % 12;  // months since 1 Sept
  const int september = month - since_september;
  const int months = september - birth_month;
  return months < 0 ? -1 : months / 12;
}

void step_services(const ServiceContext& context, State& st, io::Recorder& rec) {
  // The households' HomeRow rows, brought up to date once for the month's steps (none changes
  // a household).
  update_homes(st);
  ServiceContext cx = context;
  cx.homes = st.homes.rows.data();
  cx.n_homes = st.households.size();
  // The young children's rows, listed once for the kindergarten, nursery and baby rooms, and
  // the pupils' for the holiday classes.
  YoungRows& kept = st.kept.get<YoungRows>();
  std::vector<std::uint32_t>& young = kept.young;
  std::vector<std::uint32_t>& pupils = kept.pupils;
  young.clear();
  pupils.clear();
  CHILDSIM_CHECK(st.children.size() <= 0xffffffffu, "services: more than 2^32 child rows");
  const int september = st.month - (cx.scenario.start.plus(st.month).month - 9 + 12) % 12;
  list_young(st.children, st.month, young_age_limit(cx.scenario.facilities), september, young,
             pupils);
  cx.young = &young;
  cx.pupils = &pupils;
  // The clinics and the holiday classes beside the places (par::Beside: on a pool thread while
  // the caller goes on). Both read only the children's birth months, households, ids and
  // presence and the households' streets and homes, which no step of the places writes, and
  // write only their own outputs; the places' steps read nothing they write. On one core they
  // cost less than their loops split across two (no merges, no rows passed between the
  // cores), and the places' loops, which gain least from a second thread, run meanwhile
  // (docs/performance.md, "Steps beside each other"). The access counts, which read the
  // places, come after the places; the indicators, which read every output, after all.
  par::Beside clinics_and_holidays([&] {
    step_clinic(cx, st, rec);
    step_holiday(cx, st, rec);
  });
  step_kindergarten(cx, st, rec);
  step_nursery(cx, st, rec);
  step_babyroom(cx, st, rec);
  step_access(cx, st, rec);
  clinics_and_holidays.wait();
  const bool year_end =
      cx.scenario.start.plus(st.month).month == 12 || st.month == cx.scenario.n_months() - 1;
  if (year_end) record_indicators(cx, st, rec);
}

}  // namespace childsim
