// model: one replicate, month by month — the fixed list of processes in `step_month`.
#pragma once

#include "sim/io/recorder.hpp"              // Recorder
#include "sim/model/rates.hpp"              // Rates, InitialCounts
#include "sim/model/state.hpp"              // State
#include "sim/scenario/scenario.hpp"        // Scenario
#include "sim/services/service_params.hpp"  // ServiceParams
#include "sim/services/warm_start.hpp"      // WarmStart

#include <functional>  // std::function
#include <memory>      // std::shared_ptr

namespace childsim {

/// Everything fixed for a scenario: validated inputs and the packed rates.
struct Model {
  const Scenario& scenario;
  InitialCounts counts;
  Rates rates;
  ServiceParams services;
  std::shared_ptr<const WarmStart> warm;  ///< the services' spin-up; null: cold start
  explicit Model(const Scenario& sc);
};

/// Simulate month `state.month`:
///   1. demography (ageing out, births, deaths, moves, arrivals — demography.hpp);
///   2. recording of the month's demographic outputs;
///   3. services (kindergarten, nursery, baby rooms, holiday classes, clinics, access, and at
///      the end of a year the indicators — services.hpp);
///   4. housekeeping (retire households that no longer matter; compact the tables).
void step_month(const Model& model, State& state, io::Recorder& recorder);

/// Build the starting population of `replicate` and run every month. `on_month` (optional)
/// is called after each month, for progress reporting. `memory` (optional): a state whose
/// memory the replicate is built in, and in which it leaves its own, emptied (an ensemble
/// passes the same one to each replicate in turn: state.hpp, recycled).
void run_replicate(const Model& model, int replicate, io::Recorder& recorder,
                   const std::function<void(int month)>& on_month = {}, State* memory = nullptr);

/// Where count_population adds its counts (null: not counted). Ages are completed years at
/// the month counted.
struct PopulationCounts {
  std::int32_t* children = nullptr;  ///< present children, [street × 18 + age]
  std::int32_t* women = nullptr;  ///< women 18–49 of present households, [street × 32 + age − 18]
  std::int32_t* residents = nullptr;  ///< every resident: children, the women of the household
                                      ///< tables and the resident counts, by [(street × n_sexes +
                                      ///< sex) × n_age_groups + age group] (as
                                      ///< count_residents_by_age, residents.hpp)
};

/// Count the agents and residents of `state` at `month` into `out`, adding to what the arrays
/// hold. One pass over the tables, split in blocks across the threads, the blocks' integer
/// counts added up: the same result at any thread count.
void count_population(const State& state, int month, int n_streets, const PopulationCounts& out);

/// The same counts as count_population, from `state.census` (which must be kept: state.hpp)
/// and the resident counts: sums over runs of birth months, no row read. What record_month
/// uses; count_population stays the reference (tests) and the census of a state built by hand.
void count_population_from_census(const State& state, int month, int n_streets,
                                  const PopulationCounts& out);

/// Record the start-of-run population (variable `population_start`).
void record_start(const State& state, io::Recorder& recorder);

/// Record the parameter values a replicate runs with (variable `parameter_value`).
void record_parameters(const Scenario& sc, int replicate, io::Recorder& recorder);

}  // namespace childsim
