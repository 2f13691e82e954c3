// calibrate_command: `childsim calibrate` — fit uncertain parameters by ABC-SMC (checkpointing
// each generation) and write the posterior file.
#include "sim/cli/calibrate_command.hpp"
#include "sim/calibration/calibrate.hpp"  // load_calibration, calibrate, posterior_dataset
#include "sim/cli/command.hpp"
#include "sim/cli/output_path.hpp"  // check_output_path
#include "sim/io/dataset.hpp"       // write_dataset

#include <fmt/format.h>  // fmt::print

#include <unistd.h>  // isatty

#include <cmath>       // std::sqrt
#include <cstdio>      // stderr
#include <filesystem>  // std::filesystem::path
#include <memory>      // std::make_shared
#include <string>      // std::string

namespace childsim::cli {

namespace fs = std::filesystem;

// Calibration progress on stderr, one line per generation, only on a terminal.
void print_generation(const calibration::GenerationReport& g) {
  if (!isatty(fileno(stderr))) return;
  fmt::print(stderr,
             "generation {}/{}{}  tolerance {:.4g}  acceptance {:.3f}  simulations {}  ESS {:.0f}  "
             "elapsed {:.0f} s\n",
             g.generation, g.max_generations - 1, g.resumed ? " (checkpoint)" : "", g.tolerance,
             g.acceptance_rate, g.simulations, g.effective_sample_size, g.elapsed_seconds);
}

// The posterior in a few lines: weighted mean, sd and 90 % interval of each parameter.
void print_posterior(const calibration::AbcResult& res, const fs::path& out) {
  using calibration::weighted_quantile;
  const auto& gen = res.posterior();
  fmt::print("Posterior (generation {}, {} particles, tolerance {:.4g}): {}\n",
             res.generations.size() - 1, gen.particles.rows(), gen.tolerance, res.stop_reason);
  fmt::print("  {:<36} {:>11} {:>11} {:>11} {:>11}\n", "parameter", "mean", "sd", "5 %", "95 %");
  for (Eigen::Index k = 0; k < gen.particles.cols(); ++k) {
    const Eigen::VectorXd x = gen.particles.col(k);
    const double mean = gen.weights.dot(x);
    const double sd = std::sqrt(gen.weights.dot((x.array() - mean).square().matrix()));
    fmt::print("  {:<36} {:>11.4g} {:>11.4g} {:>11.4g} {:>11.4g}\n",
               res.prior.names[static_cast<std::size_t>(k)], mean, sd,
               weighted_quantile(x, gen.weights, 0.05), weighted_quantile(x, gen.weights, 0.95));
  }
  fmt::print("Wrote {}\n", out.string());
}

namespace {

struct CalibrateArgs {
  std::string calibration, out;
  int threads = 0, generations = 0, particles = 0;
  bool fresh = false;
};

}  // namespace

Command add_calibrate_command(CLI::App& app) {
  auto a = std::make_shared<CalibrateArgs>();
  auto* cal = app.add_subcommand(
      "calibrate", "Fit uncertain parameters to observed figures by ABC-SMC; write the posterior");
  cal->add_option("calibration", a->calibration, "Calibration file (YAML)")->required();
  cal->add_option("-o,--output", a->out, "Posterior file (.h5)")->required();
  cal->add_option("--threads", a->threads, "OpenMP threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  cal->add_option("--generations", a->generations, "Override abc.max_generations")
      ->check(CLI::Range(1, 1000));
  cal->add_option("--particles", a->particles, "Override abc.particles")
      ->check(CLI::Range(2, 100000));
  cal->add_flag("--fresh", a->fresh,
                "Ignore and replace an existing checkpoint (<output>.checkpoint)");
  return {cal, [a] {
            // load → validate → calibrate (checkpointing) → write.
            const auto spec = calibration::load_calibration(a->calibration);
            check_output_path(a->out);
            calibration::CalibrateOptions options;
            options.threads = a->threads;
            options.generations = a->generations;
            options.particles = a->particles;
            options.resume = !a->fresh;
            options.progress = print_generation;
            options.message = [](const std::string& m) { fmt::print(stderr, "{}\n", m); };
            const auto res =
                calibration::calibrate(spec, options, calibration::checkpoint_path(a->out));
            io::write_dataset(calibration::posterior_dataset(spec, res), a->out);
            print_posterior(res, a->out);
            return 0;
          }};
}

}  // namespace childsim::cli
