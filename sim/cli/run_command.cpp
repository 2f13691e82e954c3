// run_command: `childsim run` — load → validate → build → run → write, then a short summary.
#include "sim/cli/command.hpp"
#include "sim/cli/output_path.hpp"         // check_output_path
#include "sim/io/dataset.hpp"              // write_dataset
#include "sim/run/ensemble.hpp"            // RunOptions
#include "sim/run/footprint.hpp"           // check_footprint
#include "sim/run/stream.hpp"              // run_to_file
#include "sim/run/summary.hpp"             // print_summary
#include "sim/scenario/scenario.hpp"       // load_scenario, override_run
#include "sim/scenario/scenario_diff.hpp"  // scenario_changes

#include <fmt/format.h>  // fmt::print

#include <unistd.h>  // isatty

#include <algorithm>     // std::max
#include <charconv>      // std::from_chars
#include <chrono>        // std::chrono::steady_clock
#include <cstdint>       // std::int64_t
#include <cstdio>        // stderr
#include <filesystem>    // std::filesystem
#include <limits>        // std::numeric_limits
#include <memory>        // std::make_shared
#include <set>           // std::set
#include <stdexcept>     // std::runtime_error
#include <string>        // std::string
#include <system_error>  // std::errc
#include <vector>        // std::vector

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
  std::vector<std::string> scenarios;
  std::string out;
  int replicates = 0, threads = 0;
  std::int64_t seed = -1;
  bool quiet = false;
  bool resume = false;
};

// Several scenarios in one call (`childsim run a.yaml b.yaml … -o DIR`): one file per scenario,
// DIR/<file stem>.h5, each byte-identical to `childsim run x.yaml -o DIR/x.h5`. Every scenario
// is loaded and validated, the seeds compared and the output paths checked before the first
// run, so that an error in any file touches nothing. One file per scenario rather than one file
// with a `scenario` dimension: scenarios may differ in their facilities, targets, horizon and
// replicates (a common dimension would need padding), every tool reads a single-run file
// (compare, briefing, open_runs), and a scenario can be re-run or added alone.
std::vector<std::filesystem::path> plan_outputs(const std::vector<Scenario>& scenarios,
                                                const std::string& dir) {
  std::vector<std::filesystem::path> outs;
  std::set<std::string> stems;
  for (const auto& sc : scenarios) {
    const std::string stem = sc.file.stem().string();
    if (!stems.insert(stem).second)
      throw std::runtime_error(fmt::format(
          "two scenario files are named '{}' ({}): their outputs would both be {}/{}.h5; "
          "run them in separate calls",
          stem, sc.file.string(), dir, stem));
    outs.push_back(std::filesystem::path(dir) / (stem + ".h5"));
  }
  return outs;
}

// Common random numbers: scenarios run together share one seed, so that their differences are
// those of the scenarios and not of the draws.
void check_common_seed(const std::vector<Scenario>& scenarios) {
  for (const auto& sc : scenarios)
    if (sc.seed != scenarios.front().seed)
      throw std::runtime_error(fmt::format(
          "scenarios run together share one seed (common random numbers), but {} has seed {} "
          "and {} has seed {}; give --seed",
          scenarios.front().file.string(), scenarios.front().seed, sc.file.string(), sc.seed));
}

void make_output_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  if (fs::exists(d)) {
    if (!fs::is_directory(d))
      throw std::runtime_error(fmt::format(
          "output '{}' is not a directory (with several scenarios, -o names a directory)", dir));
    return;
  }
  const fs::path parent = d.parent_path().empty() ? fs::path(".") : d.parent_path();
  if (!fs::is_directory(parent))
    throw std::runtime_error(fmt::format(
        "output directory '{}' cannot be made: '{}' does not exist", dir, parent.string()));
  fs::create_directory(d);
}

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
  auto* run = app.add_subcommand(
      "run",
      "Run a scenario and write its outputs (HDF5); with several scenarios, -o is a directory "
      "and each is written to DIR/<file stem>.h5");
  run->add_option("scenario", a->scenarios, "Scenario file(s) (YAML)")->required();
  run->add_option("-o,--output", a->out,
                  "Output file (.h5); a directory when several scenarios are given")
      ->required();
  run->add_option("--replicates", a->replicates, "Override the scenario's number of replicates")
      ->check(CLI::Range(1, 10000));
  run->add_option("--seed", a->seed, "Override the scenario's seed (0 … 2^63−1)")
      ->check(seed_range);
  run->add_option("--threads", a->threads, "OpenMP threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  run->add_flag("-q,--quiet", a->quiet, "Do not print the summary");
  run->add_flag("--resume", a->resume,
                "Continue an interrupted run from <output>.partial, the replicates it finished "
                "(refused if the scenario, seed or replicates differ); the file is the same as "
                "an uninterrupted run's");
  return {run, [a] {
            // Load → validate (every file) → check outputs → run → write, scenario by scenario.
            std::vector<Scenario> scenarios;
            for (const auto& file : a->scenarios) {
              scenarios.push_back(load_scenario(file));
              override_run(scenarios.back(), a->replicates, a->seed);
            }
            // A what-if that removes or replaces a commitment of its base warns here as in
            // `validate` (the list of changes itself is validate's), before anything runs.
            for (const auto& file : a->scenarios)
              for (const auto& w : scenario_changes(file).warnings)
                fmt::print(stderr, "warning: {}{}\n",
                           a->scenarios.size() > 1 ? file + ": " : std::string(), w);
            std::vector<std::filesystem::path> outs;
            if (scenarios.size() == 1) {
              outs.push_back(a->out);
            } else {
              check_common_seed(scenarios);
              outs = plan_outputs(scenarios, a->out);
              make_output_directory(a->out);
            }
            for (std::size_t k = 0; k < outs.size(); ++k) {
              check_output_path(outs[k]);
              check_footprint(scenarios[k], outs[k], /*streamed=*/true);
            }
            RunOptions options;
            options.threads = a->threads;
            StreamOptions stream;
            stream.resume = a->resume;
            stream.note = [](const std::string& text) { fmt::print(stderr, "note: {}\n", text); };
            for (std::size_t k = 0; k < scenarios.size(); ++k) {
              std::string summary;
              {
                Progress progress;
                options.progress = [&](int r, int m, int rs, int ms) { progress(r, m, rs, ms); };
                summary = run_to_file(scenarios[k], options, outs[k], stream);
              }
              if (!a->quiet) fmt::print("{}Wrote {}\n", summary, outs[k].string());
            }
            return 0;
          }};
}

Command add_validate_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* validate = app.add_subcommand("validate", "Check a scenario file without running it");
  validate->add_option("scenario", *path, "Scenario file (YAML)")->required();
  return {validate, [path] {
            const auto sc = load_scenario(*path);
            const Footprint f = estimate_footprint(sc, /*streamed=*/true);
            fmt::print(
                "{}: valid — scenario '{}', {} to {} ({} months), {} replicate(s), seed {}, "
                "{} streets; a run needs about {} of memory and {} of disk\n",
                *path, sc.name, sc.start.to_string(), sc.end.to_string(), sc.n_months(),
                sc.replicates, sc.seed, sc.base.n_streets(), format_bytes(f.memory_bytes),
                format_bytes(f.disk_bytes));
            // What a what-if changes in the scenario it extends; removing a commitment warns.
            const auto changes = scenario_changes(*path);
            if (!changes.base.empty()) {
              fmt::print("changes relative to {}:{}\n", changes.base,
                         changes.lines.empty() ? " none" : "");
              for (const auto& line : changes.lines) fmt::print("  {}\n", line);
            }
            for (const auto& w : changes.warnings) fmt::print(stderr, "warning: {}\n", w);
            return 0;
          }};
}

}  // namespace childsim::cli
