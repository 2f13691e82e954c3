// warm_start: the services' spin-up before the first month.
#include "sim/services/warm_start.hpp"

#include "sim/core/parallel.hpp"      // par::for_chunks, par::for_blocks, par::between_months
#include "sim/io/recorder.hpp"        // Recorder (a scratch one: the spin-up records nothing)
#include "sim/services/services.hpp"  // step_kindergarten, step_nursery

#include <algorithm>  // std::max
#include <cmath>      // std::lround
#include <vector>     // std::vector

namespace childsim {

std::unique_ptr<WarmStart> make_warm_start(const Scenario& sc) {
  const int n = static_cast<int>(std::lround(sc.base.parameters["services.spin_up_months"]));
  if (!sc.services || n <= 0) return nullptr;
  auto w = std::make_unique<WarmStart>(WarmStart{sc, ServiceParams{}, n});
  Scenario& sp = w->scenario;
  sp.start = sc.start.plus(-n);
  sp.end = sc.start.plus(-1);
  Facilities& F = sp.facilities;
  F.n_months = n;
  F.capacity_schedule.assign(F.size() * static_cast<std::size_t>(n), 0);
  F.running_cost_schedule.assign(F.size() * static_cast<std::size_t>(n), 0.0);
  F.capital_cost_schedule.assign(F.size() * static_cast<std::size_t>(n), 0.0);
  for (std::size_t f = 0; f < F.size(); ++f)
    for (int t = 0; t < n; ++t) F.capacity_schedule[F.at(f, t)] = sc.facilities.capacity(f, 0);
  sp.investments.clear();
  w->params = make_service_params(sp);
  return w;
}

void warm_start_services(const WarmStart& warm, State& st) {
  const int n = warm.months;
  // Only the children who may be of nursery or kindergarten age in some month of the spin-up
  // take part in it (the others, too old, are passed over by every step): they are copied, in
  // row order, into a state of their own that borrows the households, and their places and
  // lists are copied back afterwards. Results are the same as with every child: each child's
  // decisions depend on its own streams (keyed on its id) and household, and the orders of
  // queues and lists on keys and then row order, which the copy keeps. A child is youngest in
  // the spin-up's first month (month −n of the run), so it takes part if its age then is
  // under the oldest age that matters: kindergarten age at the last 1 September is at most 5,
  // so under 84 months (96 for a margin), and nursery age under the oldest age a nursery
  // kind admits.
  const Facilities& F = warm.scenario.facilities;
  int oldest = 96;
  for (const int f : F.of_service(Service::nursery))
    oldest = std::max(oldest, F.kind_of(static_cast<std::size_t>(f)).max_age_months + 1);
  oldest += n;  // the age at month 0 of the run
  const Children& all = st.children;
  // The rows taking part, listed per chunk in parallel (in row order once concatenated).
  std::vector<std::size_t> rows;
  {
    std::vector<std::vector<std::size_t>> parts(par::n_chunks(all.size()));
    par::for_chunks(
        all.size(), par::n_blocks(),
        [&](std::size_t, std::size_t chunk, std::size_t begin, std::size_t end) {
          for (std::size_t i = begin; i < end; ++i)
            if (all.present[i] && (st.month - all.birth_month[i] < oldest || all.nursery[i] >= 0 ||
                                   all.waiting[i] >= 0 || all.kindergarten[i] >= 0))
              parts[chunk].push_back(i);
        });
    par::concatenate(parts, rows);
  }
  State part;
  part.replicate = st.replicate;
  part.households = std::move(st.households);
  part.kept = std::move(st.kept);  // the steps' buffers, kept for the run's months
  Children& c = part.children;
  // Every column of Children, gathered through the list in parallel over blocks of the list,
  // with the month stamps moved by −n on the way (month m of the spin-up is month m − n of
  // the run; exact: integers).
  for_each_column([&](auto& to, const auto&) { to.resize(rows.size()); }, c, all);
  par::for_blocks(rows.size(), par::n_blocks(),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
                    for_each_column(
                        [&](auto& to, const auto& from) {
                          for (std::size_t k = begin; k < end; ++k) to[k] = from[rows[k]];
                        },
                        c, all);
                    for (std::size_t k = begin; k < end; ++k) {
                      c.birth_month[k] += n;
                      c.nursery_since[k] += n;
                      c.waiting_since[k] += n;
                      c.kindergarten_since[k] += n;
                    }
                  });
  io::Recorder scratch(warm.scenario, 1, st.replicate);
  ServiceContext cx{warm.scenario, warm.params};
  cx.rng_month_shift = -n;
  cx.settle_first_month = true;
  cx.record = false;
  // The households' HomeRows, made once (the spin-up changes no household) into the state's
  // own table, which the first month's services then bring up to date from the rows that
  // month's events touched rather than make whole again (update_homes: made before month 0).
  HomeRows& homes = st.homes;
  make_homes(part.households, homes.rows);
  homes.rows.resize(part.households.size());
  homes.made_month = -1;
  cx.homes = homes.rows.data();
  cx.n_homes = part.households.size();
  for (int m = 0; m < n; ++m) {
    part.month = m;
    par::between_months();  // a busy machine: the month on one thread (thread_pool.hpp)
    step_kindergarten(cx, part, scratch);
    step_nursery(cx, part, scratch);
  }
  st.households = std::move(part.households);
  st.kept = std::move(part.kept);
  // The places and lists copied back, their months moved back by n (rows are distinct: each
  // block writes its own).
  Children& out = st.children;
  par::for_blocks(rows.size(), par::n_blocks(),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
                    for (std::size_t k = begin; k < end; ++k) {
                      const std::size_t i = rows[k];
                      out.nursery[i] = c.nursery[k];
                      out.nursery_since[i] = c.nursery_since[k] - n;
                      out.waiting[i] = c.waiting[k];
                      out.waiting_since[i] = c.waiting_since[k] - n;
                      out.kindergarten[i] = c.kindergarten[k];
                      out.kindergarten_since[i] = c.kindergarten_since[k] - n;
                    }
                  });
  st.month = 0;
}

}  // namespace childsim
