// main: the `childsim` command line — load → validate → build → run → write; `compare` hands
// the result files to the Python analysis package, which writes the briefing page.
#include "childsim/version.hpp"           // version, git_commit
#include "sim/calibration/calibrate.hpp"  // run_calibration
#include "sim/config/config_tree.hpp"     // ConfigError
#include "sim/io/output_catalog.hpp"      // output_catalog_markdown
#include "sim/run/ensemble.hpp"           // run_scenario
#include "sim/run/summary.hpp"            // print_summary
#include "sim/scenario/scenario.hpp"      // load_scenario

#include <fmt/format.h>  // fmt::print
#include <CLI/CLI.hpp>   // CLI::App

#include <sys/wait.h>  // waitpid, WIFEXITED
#include <unistd.h>    // isatty, access, fork, execve

#include <cerrno>      // errno, EINTR
#include <chrono>      // std::chrono::steady_clock
#include <cmath>       // std::sqrt
#include <cstdio>      // stderr, std::fflush
#include <cstdlib>     // std::getenv
#include <filesystem>  // std::filesystem
#include <string>      // std::string
#include <vector>      // std::vector

extern char** environ;  // the environment passed on to Python

namespace {

namespace fs = std::filesystem;

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

// Calibration progress on stderr, one line per generation, only on a terminal.
void print_generation(const childsim::calibration::GenerationReport& g) {
  if (!isatty(fileno(stderr))) return;
  fmt::print(stderr,
             "generation {}/{}{}  tolerance {:.4g}  acceptance {:.3f}  simulations {}  ESS {:.0f}  "
             "elapsed {:.0f} s\n",
             g.generation, g.max_generations - 1, g.resumed ? " (checkpoint)" : "", g.tolerance,
             g.acceptance_rate, g.simulations, g.effective_sample_size, g.elapsed_seconds);
}

// The posterior in a few lines: weighted mean, sd and 90 % interval of each parameter.
void print_posterior(const childsim::calibration::AbcResult& res, const fs::path& out) {
  using childsim::calibration::weighted_quantile;
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

// Fail before running if the output cannot be written, so that no time is wasted and no
// file is touched.
void check_output_path(const fs::path& out) {
  const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (!fs::is_directory(dir))
    throw std::runtime_error(fmt::format("output directory '{}' does not exist", dir.string()));
  if (access(dir.c_str(), W_OK) != 0)
    throw std::runtime_error(fmt::format("output directory '{}' is not writable", dir.string()));
  if (fs::is_directory(out))
    throw std::runtime_error(fmt::format("output path '{}' is a directory", out.string()));
}

// --- compare: the briefing page is made by the Python analysis package -------------------

// Python runs this instead of `-m childsim.briefing` so that a missing package is one clear
// line (with -m, Python prints a traceback-like message) and the exit code passes through.
constexpr const char* kBriefingBootstrap = R"(import sys
try:
    import childsim.briefing as briefing
except ImportError as error:
    sys.stderr.write("error: compare needs the childsim Python package (analysis/childsim) and "
                     "its Debian packages (python3-xarray, python3-h5netcdf, python3-matplotlib): "
                     "import failed: %s; run tools/install-python-path.sh BUILD_DIR or set "
                     "CHILDSIM_ANALYSIS_DIR to the checkout's analysis/ directory\n" % error)
    sys.exit(1)
sys.exit(briefing.main(sys.argv[1:]))
)";

bool has_briefing(const fs::path& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(dir / "childsim" / "briefing.py", ec);
}

// The `analysis/` directory holding the Python package: $CHILDSIM_ANALYSIS_DIR, else the
// first `analysis/` above the executable (a build tree inside the checkout), else the
// checkout this program was built from; empty when none has it (then Python's own path,
// e.g. the .pth file of tools/install-python-path.sh, must provide the package).
fs::path find_analysis_dir() {
  if (const char* env = std::getenv("CHILDSIM_ANALYSIS_DIR"); env && *env) return fs::path(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path())
      if (has_briefing(dir / "analysis")) return dir / "analysis";
#ifdef CHILDSIM_SOURCE_DIR
  if (has_briefing(fs::path(CHILDSIM_SOURCE_DIR) / "analysis"))
    return fs::path(CHILDSIM_SOURCE_DIR) / "analysis";
#endif
  return {};
}

// Run the briefing in Debian's Python ($CHILDSIM_PYTHON overrides /usr/bin/python3); its
// stdout and stderr are ours, its exit code is returned.
int run_briefing(const std::vector<std::string>& args) {
  const char* env_python = std::getenv("CHILDSIM_PYTHON");
  const std::string python = env_python && *env_python ? env_python : "/usr/bin/python3";
  if (access(python.c_str(), X_OK) != 0) {
    fmt::print(stderr,
               "error: compare needs Python 3 at {} (Debian's python3 package; "
               "tools/install-deps.sh installs it)\n",
               python);
    return 1;
  }
  const fs::path analysis = find_analysis_dir();
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    if (entry.rfind("PYTHONPATH=", 0) == 0 || entry.rfind("MPLBACKEND=", 0) == 0) continue;
    env_strings.push_back(entry);
  }
  std::string pythonpath = analysis.string();
  if (const char* old = std::getenv("PYTHONPATH"); old && *old)
    pythonpath += (pythonpath.empty() ? "" : ":") + std::string(old);
  if (!pythonpath.empty()) env_strings.push_back("PYTHONPATH=" + pythonpath);
  env_strings.push_back("MPLBACKEND=Agg");  // no display: figures are rendered to PNG

  std::vector<std::string> argv_strings = {python, "-c", kBriefingBootstrap};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> child_argv, child_env;
  for (auto& a : argv_strings) child_argv.push_back(a.data());
  child_argv.push_back(nullptr);
  for (auto& e : env_strings) child_env.push_back(e.data());
  child_env.push_back(nullptr);

  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    fmt::print(stderr, "error: cannot start {}\n", python);
    return 1;
  }
  if (pid == 0) {
    execve(python.c_str(), child_argv.data(), child_env.data());
    fmt::print(stderr, "error: cannot run {}\n", python);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  fmt::print(stderr, "error: {} was stopped by signal {}\n", python, WTERMSIG(status));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "childsim: an agent-based model of child-service demand in Changning District, "
      "Shanghai, month by month to 2035."};
  app.set_version_flag(
      "--version", fmt::format("childsim {} (commit {})", childsim::version, childsim::git_commit));
  app.require_subcommand(1);

  auto* run = app.add_subcommand("run", "Run a scenario and write its outputs (HDF5)");
  std::string scenario_path, out_path;
  int replicates = 0, threads = 0;
  std::int64_t seed = -1;
  bool quiet = false;
  run->add_option("scenario", scenario_path, "Scenario file (YAML)")->required();
  run->add_option("-o,--output", out_path, "Output file (.h5)")->required();
  run->add_option("--replicates", replicates, "Override the scenario's number of replicates")
      ->check(CLI::Range(1, 10000));
  run->add_option("--seed", seed, "Override the scenario's seed")->check(CLI::NonNegativeNumber);
  run->add_option("--threads", threads, "OpenMP threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  run->add_flag("-q,--quiet", quiet, "Do not print the summary");

  auto* validate = app.add_subcommand("validate", "Check a scenario file without running it");
  std::string validate_path;
  validate->add_option("scenario", validate_path, "Scenario file (YAML)")->required();

  auto* calibrate = app.add_subcommand(
      "calibrate", "Fit uncertain parameters to observed figures by ABC-SMC; write the posterior");
  std::string calibration_path, posterior_path;
  int cal_threads = 0, generations = 0, particles = 0;
  bool fresh = false;
  calibrate->add_option("calibration", calibration_path, "Calibration file (YAML)")->required();
  calibrate->add_option("-o,--output", posterior_path, "Posterior file (.h5)")->required();
  calibrate->add_option("--threads", cal_threads, "OpenMP threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  calibrate->add_option("--generations", generations, "Override abc.max_generations")
      ->check(CLI::Range(1, 1000));
  calibrate->add_option("--particles", particles, "Override abc.particles")
      ->check(CLI::Range(2, 100000));
  calibrate->add_flag("--fresh", fresh,
                      "Ignore and replace an existing checkpoint (<output>.checkpoint)");

  auto* compare = app.add_subcommand(
      "compare", "Compare runs in a self-contained HTML briefing page (the first is the baseline)");
  std::vector<std::string> compare_files;
  std::string compare_out, compare_title, compare_names;
  compare->add_option("files", compare_files, "Result files (.h5): the baseline, then what-ifs")
      ->required()
      ->expected(2, 1000);
  compare->add_option("-o,--output", compare_out, "The HTML page to write")->required();
  compare->add_option("--title", compare_title, "Title of the page");
  compare->add_option("--names", compare_names,
                      "Comma-separated scenario labels, one per file (default: scenario names)");

  auto* outputs = app.add_subcommand("outputs", "List the output variables");
  bool markdown = false;
  outputs->add_flag("--markdown", markdown, "As Markdown tables (for docs/output-format.md)");

  auto* params = app.add_subcommand(
      "parameters", "List the named parameters of a place (value, unit, range, source)");
  std::string params_dir = "scenarios/changning";
  bool params_markdown = false;
  params->add_option("place", params_dir, "Base data directory (default scenarios/changning)");
  params->add_flag("--markdown", params_markdown, "As a Markdown table (for docs/parameters.md)");

  CLI11_PARSE(app, argc, argv);

  if (*compare) {
    std::vector<std::string> args = compare_files;
    args.insert(args.end(), {"-o", compare_out});
    if (!compare_title.empty()) args.insert(args.end(), {"--title", compare_title});
    if (!compare_names.empty()) args.insert(args.end(), {"--names", compare_names});
    return run_briefing(args);
  }
  try {
    if (*validate) {
      const auto sc = childsim::load_scenario(validate_path);
      fmt::print(
          "{}: valid — scenario '{}', {} to {} ({} months), {} replicate(s), seed {}, "
          "{} streets\n",
          validate_path, sc.name, sc.start.to_string(), sc.end.to_string(), sc.n_months(),
          sc.replicates, sc.seed, sc.base.n_streets());
      return 0;
    }
    if (*params) {
      const auto base = childsim::load_base_data(params_dir);
      if (params_markdown) {
        fmt::print(
            "| parameter | value | unit | range | description | source or assumption |\n"
            "|---|---|---|---|---|---|\n");
        for (const auto& p : base.parameters.rows())
          fmt::print("| `{}` | {:g} | {} | {:g} – {:g} | {} | {}{} |\n", p.name, p.value, p.unit,
                     p.lo, p.hi, p.description, p.assumed ? "**assumed:** " : "", p.source);
      } else {
        for (const auto& p : base.parameters.rows())
          fmt::print("{:<40} {:>12g} {:<18} [{:g}, {:g}]{}\n", p.name, p.value, p.unit, p.lo, p.hi,
                     p.assumed ? "  (assumed)" : "");
      }
      return 0;
    }
    if (*calibrate) {
      // load → validate → calibrate (checkpointing) → write.
      namespace cal = childsim::calibration;
      const auto spec = cal::load_calibration(calibration_path);
      check_output_path(posterior_path);
      cal::CalibrateOptions options;
      options.threads = cal_threads;
      options.generations = generations;
      options.particles = particles;
      options.resume = !fresh;
      options.progress = print_generation;
      options.message = [](const std::string& m) { fmt::print(stderr, "{}\n", m); };
      const auto res = cal::calibrate(spec, options, cal::checkpoint_path(posterior_path));
      childsim::io::write_dataset(cal::posterior_dataset(spec, res), posterior_path);
      print_posterior(res, posterior_path);
      return 0;
    }
    if (*outputs) {
      if (markdown) {
        fmt::print("{}", childsim::io::output_catalog_markdown());
      } else {
        for (const auto& o : childsim::io::output_catalog()) {
          std::string dims;
          for (const auto& d : o.dims) dims += (dims.empty() ? "" : ", ") + d;
          fmt::print("{:<34} ({}) [{}]\n    {}\n", o.name, dims, o.units, o.long_name);
        }
      }
      return 0;
    }
    // run: load → validate → build → run → write.
    auto sc = childsim::load_scenario(scenario_path);
    childsim::override_run(sc, replicates, seed);
    check_output_path(out_path);
    childsim::RunOptions options;
    options.threads = threads;
    Progress progress;
    options.progress = [&](int r, int m, int rs, int ms) { progress(r, m, rs, ms); };
    const auto ds = childsim::run_scenario(sc, options);
    childsim::io::write_dataset(ds, out_path);
    if (!quiet) childsim::print_summary(ds, out_path);
    return 0;
  } catch (const childsim::config::ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
