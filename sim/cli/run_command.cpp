// run_command: `childsim run` — load → validate → build → run → write, then a short summary.
#include "sim/cli/command.hpp"
#include "sim/cli/output_path.hpp"    // check_output_path
#include "sim/io/dataset.hpp"         // write_dataset
#include "sim/run/ensemble.hpp"       // run_scenario
#include "sim/run/footprint.hpp"      // check_footprint
#include "sim/run/summary.hpp"        // print_summary
#include "sim/scenario/scenario.hpp"  // load_scenario, override_run

#include <fmt/format.h>  // fmt::print

#include <unistd.h>  // isatty

#include <algorithm>     // std::max
#include <charconv>      // std::from_chars
#include <chrono>        // std::chrono::steady_clock
#include <cstdio>        // stderr
#include <memory>        // std::make_shared
#include <string>        // std::string
#include <system_error>  // std::errc

namespace childsim::cli {
namespace {

// A progress line on stderr, only on a terminal and only once a run has taken a second.
class Progress {
 public:
  Progress() : enabled_(isatty(fileno(stderr))), start_(std::chrono::steady_clock::now()) {}
  void operator()(int rep, int month, int reps, int months) {
    if (!enabled_) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed < 1.0) return;
    const double done = (rep * months + month + 1.0) / (static_cast<double>(reps) * months);
    if (done - last_ < 0.01 && done < 1.0) return;
    last_ = done;
    fmt::print(stderr,
               "\rreplicate {}/{}  month {}/{}  {:5.1f} %  elapsed {:.0f} s  left ~{:.0f} s ",
               rep + 1, reps, month + 1, months, 100 * done, elapsed,
               elapsed * (1 - done) / std::max(done, 1e-9));
    shown_ = true;
  }
  ~Progress() {
    if (shown_) fmt::print(stderr, "\n");
  }

 private:
  bool enabled_;
  bool shown_ = false;
  double last_ = 0;
  std::chrono::steady_clock::time_point start_;
};

struct RunArgs {
  std::string scenario, out;
  int replicates = 0, threads = 0;
  std::int64_t seed = -1;
  bool quiet = false;
};

// Seeds are 0 … 2^63−1 here as in a scenario's `seed:` and Python's `seed=` (max_seed);
// CLI11 alone would clamp 2^64 to 2^63−1 silently and print its whole range for -1.
const CLI::Validator seed_range(
    [](std::string& text) -> std::string {
      std::int64_t value = -1;
      const char* end = text.data() + text.size();
      const auto [at, ec] = std::from_chars(text.data(), end, value);
      if (text.empty() || ec != std::errc() || at != end || value < 0)
        return fmt::format("expected an integer in 0 … 2^63−1 ({}), got '{}'", max_seed, text);
      return {};
    },
    "0..2^63-1");

}  // namespace

Command add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run a scenario and write its outputs (HDF5)");
  run->add_option("scenario", a->scenario, "Scenario file (YAML)")->required();
  run->add_option("-o,--output", a->out, "Output file (.h5)")->required();
  run->add_option("--replicates", a->replicates, "Override the scenario's number of replicates")
      ->check(CLI::Range(1, 10000));
  run->add_option("--seed", a->seed, "Override the scenario's seed (0 … 2^63−1)")
      ->check(seed_range);
  run->add_option("--threads", a->threads, "OpenMP threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  run->add_flag("-q,--quiet", a->quiet, "Do not print the summary");
  return {run, [a] {
            auto sc = load_scenario(a->scenario);
            override_run(sc, a->replicates, a->seed);
            check_output_path(a->out);
            check_footprint(sc, a->out);
            RunOptions options;
            options.threads = a->threads;
            Progress progress;
            options.progress = [&](int r, int m, int rs, int ms) { progress(r, m, rs, ms); };
            const auto ds = run_scenario(sc, options);
            io::write_dataset(ds, a->out);
            if (!a->quiet) print_summary(ds, a->out);
            return 0;
          }};
}

Command add_validate_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* validate = app.add_subcommand("validate", "Check a scenario file without running it");
  validate->add_option("scenario", *path, "Scenario file (YAML)")->required();
  return {validate, [path] {
            const auto sc = load_scenario(*path);
            const Footprint f = estimate_footprint(sc);
            fmt::print(
                "{}: valid — scenario '{}', {} to {} ({} months), {} replicate(s), seed {}, "
                "{} streets; a run needs about {} of memory and {} of disk\n",
                *path, sc.name, sc.start.to_string(), sc.end.to_string(), sc.n_months(),
                sc.replicates, sc.seed, sc.base.n_streets(), format_bytes(f.memory_bytes),
                format_bytes(f.disk_bytes));
            return 0;
          }};
}

}  // namespace childsim::cli
