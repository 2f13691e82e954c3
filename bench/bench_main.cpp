// bench_main: the benchmark — wall time and simulated person-months per second of a
// scenario by thread count. Not a test: it asserts nothing about time. Results go to
// docs/performance.md with the machine and the command.
#include "sim/io/recorder.hpp"        // Recorder
#include "sim/model/model.hpp"        // Model, run_replicate
#include "sim/scenario/scenario.hpp"  // load_scenario

#include <fmt/format.h>  // fmt::print
#include <omp.h>         // omp_set_num_threads
#include <CLI/CLI.hpp>   // CLI::App

#include <algorithm>  // std::min
#include <chrono>     // std::chrono
#include <vector>     // std::vector

int main(int argc, char** argv) {
  CLI::App app{"childsim_bench: time one replicate of a scenario at several thread counts"};
  std::string scenario = "scenarios/baseline.yaml";
  std::vector<int> threads{1, 2};
  int repeats = 5;
  app.add_option("scenario", scenario, "Scenario file");
  app.add_option("-t,--threads", threads, "Thread counts to time");
  app.add_option("-n,--repeats", repeats, "Timed repeats per thread count (the best is kept)");
  CLI11_PARSE(app, argc, argv);

  const childsim::Scenario sc = childsim::load_scenario(scenario);
  const childsim::Model model(sc);
  fmt::print("scenario {}: {} months, population scale {}\n", scenario, sc.n_months(),
             sc.population_scale);
  fmt::print("{:>8} {:>12} {:>12} {:>22}\n", "threads", "best (s)", "median (s)",
             "person-months / s");
  for (const int t : threads) {
    omp_set_num_threads(t);
    std::vector<double> secs;
    double person_months = 0;
    for (int k = 0; k < repeats; ++k) {
      childsim::io::Recorder rec(sc, 1);
      person_months = 0;
      const auto t0 = std::chrono::steady_clock::now();
      childsim::run_replicate(model, 0, rec);
      secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      // Agents simulated: children (from the output) + women 18–49, each month.
      for (const auto* var : {"population", "women"})
        for (const auto x : rec.data(var)) person_months += x;
    }
    std::sort(secs.begin(), secs.end());
    fmt::print("{:>8} {:>12.3f} {:>12.3f} {:>22.3e}\n", t, secs.front(), secs[secs.size() / 2],
               person_months / secs.front());
  }
  return 0;
}
