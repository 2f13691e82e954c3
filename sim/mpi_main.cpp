// mpi_main: `childsim-mpi` — one scenario's ensemble across MPI ranks (DESIGN.md, decision 6).
//
// Each rank takes whole replicates (the k-th missing replicate goes to rank k mod size),
// simulated exactly as in a single process (the random streams are keyed on the replicate,
// not on the rank), and streams them as `childsim run` does (sim/run/stream.hpp): rank 0
// holds the partial file OUT.h5.partial, appends its own replicates and those the other ranks
// send (one message per replicate, as each finishes), and assembles the output at the end.
// No rank holds more than a few replicates' outputs, whatever the ensemble size. The file is
// byte-identical to `childsim run` with the same scenario, seed and replicates, whatever the
// number of ranks, and `--resume` continues an interrupted run (of either program: the
// partial file is the same).
//
//   mpirun -np 4 childsim-mpi SCENARIO.yaml -o OUT.h5 [--replicates N] [--seed S] [--threads T]
//                             [--resume]
//
// `childsim-mpi calibrate CALIBRATION.yaml -o POSTERIOR.h5 [--particles N] [--generations G]
// [--threads T] [--fresh]` spreads each ABC-SMC generation's particles over the ranks
// (calibration::ParticleSharing: rank r runs the particles i with i mod size = r, then every
// rank receives all outcomes), so every rank continues with the whole generation and rank 0
// writes the checkpoint and the posterior, byte-identical to `childsim calibrate`.
//
// `childsim-mpi sweep DESIGN.yaml -o OUT.h5 [--threads T]` spreads a sweep's samples over the
// ranks instead. A sweep is the Python package's (childsim.sweeps: designs, parts, assembly
// with xarray), so this process becomes that Python (exec, same process id, before MPI
// exists) and mpi4py joins the job; docs/research.md says why it is not a C++ loop.
//
// `childsim-mpi site PROBLEM.yaml -o DIR [--threads T]` spreads a siting problem's proof runs
// (the base and each plan, docs/siting.md) over the ranks the same way (childsim._mpi_site):
// rank 0 writes every file, byte-identical to `childsim site`.
#include "sim/calibration/calibrate.hpp"  // load_calibration, calibrate, posterior_dataset
#include "sim/cli/calibrate_command.hpp"  // print_generation, print_posterior
#include "sim/cli/output_path.hpp"        // check_output_path
#include "sim/cli/python_launcher.hpp"    // exec_python_main
#include "sim/config/config_tree.hpp"     // ConfigError
#include "sim/io/recorder.hpp"            // Recorder
#include "sim/run/ensemble.hpp"           // run_replicates, provenance_attributes
#include "sim/run/footprint.hpp"          // check_footprint
#include "sim/run/malloc_tuning.hpp"      // tune_malloc_for_monthly_buffers
#include "sim/run/openmp_wait.hpp"        // ensure_passive_openmp_wait
#include "sim/run/stream.hpp"             // run_to_file, ReplicateSink
#include "sim/run/summary.hpp"            // print_summary
#include "sim/scenario/scenario.hpp"      // load_scenario, override_run

#include <fmt/format.h>  // fmt::print
#include <mpi.h>         // MPI_*
#include <CLI/CLI.hpp>   // CLI::App

#include <chrono>     // std::chrono::milliseconds
#include <cstdint>    // std::int64_t
#include <cstdio>     // std::fflush, stderr
#include <cstring>    // std::memcpy
#include <deque>      // std::deque
#include <limits>     // std::numeric_limits
#include <memory>     // std::unique_ptr
#include <stdexcept>  // std::runtime_error
#include <string>     // std::string
#include <thread>     // std::this_thread::sleep_for
#include <utility>    // std::pair
#include <vector>     // std::vector

namespace {

// A barrier during which a waiting rank sleeps: Open MPI's blocking calls poll at full speed,
// so a rank that finished its share early would take a core from one still working (this
// machine has two). Polled every 5 ms: negligible next to a simulation.
void wait_sleeping(MPI_Request& request) {
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void wait_for_all_ranks() {
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  wait_sleeping(request);
}

// An error that every rank meets alike before any work (bad arguments, an unwritable output),
// or that rank 0 met before any work and told the others of: rank 0 alone prints it.
struct SameOnEveryRank : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --- a streamed ensemble across ranks ---------------------------------------------------------

// A replicate's outputs travel from a rank to rank 0 in one message tagged replicate_tag + r
// (r ≤ 10,000, below the 32,767 that MPI guarantees for tags).
constexpr int replicate_tag = 100;

// Rank 0 tells the others which replicates are missing from the partial file (after resuming
// it), or −1 when it failed before any work (its error is printed; the others exit with 1).
std::vector<int> share_missing(std::vector<int> missing, bool failed) {
  std::int32_t n = failed ? -1 : static_cast<std::int32_t>(missing.size());
  MPI_Request request;
  MPI_Ibcast(&n, 1, MPI_INT32_T, 0, MPI_COMM_WORLD, &request);
  wait_sleeping(request);
  if (n <= 0) return n < 0 ? std::vector<int>{-1} : std::vector<int>{};
  missing.resize(static_cast<std::size_t>(n));
  MPI_Ibcast(missing.data(), n, MPI_INT, 0, MPI_COMM_WORLD, &request);
  wait_sleeping(request);
  return missing;
}

// The k-th missing replicate is run by rank k mod size.
std::vector<int> share_of(const std::vector<int>& missing, int rank, int size) {
  std::vector<int> mine;
  for (std::size_t k = static_cast<std::size_t>(rank); k < missing.size();
       k += static_cast<std::size_t>(size))
    mine.push_back(missing[k]);
  return mine;
}

// A replicate's message: every int32 array and then every float64 array of its one-replicate
// recorder, in the recorder's (name) order, back to back. Both ends build the recorder from
// the same scenario, so the layout needs no description.
std::vector<char> pack_replicate(childsim::io::Recorder& rec) {
  std::size_t bytes = 0;
  for (const auto& [name, v] : rec.int_arrays()) bytes += v.size() * sizeof(std::int32_t);
  for (const auto& [name, v] : rec.real_arrays()) bytes += v.size() * sizeof(double);
  std::vector<char> out(bytes);
  char* at = out.data();
  for (const auto& [name, v] : rec.int_arrays()) {
    std::memcpy(at, v.data(), v.size() * sizeof(std::int32_t));
    at += v.size() * sizeof(std::int32_t);
  }
  for (const auto& [name, v] : rec.real_arrays()) {
    std::memcpy(at, v.data(), v.size() * sizeof(double));
    at += v.size() * sizeof(double);
  }
  return out;
}

// The same layout as an MPI datatype over the arrays of `rec` (absolute addresses, to receive
// at MPI_BOTTOM): rank 0 receives a message straight into the recorder it stores, with no
// buffer in between. Returns the committed type and its size in bytes.
std::pair<MPI_Datatype, std::size_t> recorder_type(childsim::io::Recorder& rec) {
  std::vector<int> lengths;
  std::vector<MPI_Aint> addresses;
  std::size_t bytes = 0;
  auto add = [&](void* data, std::size_t n) {
    if (n == 0) return;
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw std::runtime_error("an output array is too large for one MPI message");
    MPI_Aint address = 0;
    MPI_Get_address(data, &address);
    lengths.push_back(static_cast<int>(n));
    addresses.push_back(address);
    bytes += n;
  };
  for (auto& [name, v] : rec.int_arrays()) add(v.data(), v.size() * sizeof(std::int32_t));
  for (auto& [name, v] : rec.real_arrays()) add(v.data(), v.size() * sizeof(double));
  MPI_Datatype type;
  MPI_Type_create_hindexed(static_cast<int>(lengths.size()), lengths.data(), addresses.data(),
                           MPI_BYTE, &type);
  MPI_Type_commit(&type);
  return {type, bytes};
}

// Rank 0's part: its own share of `missing`, and, between its replicates and after them, the
// replicates the other ranks send, each into the partial file as it arrives. Receives are
// non-blocking (matched probe, then MPI_Imrecv into the replicate's recorder) and the waits
// sleep, so rank 0 neither spins nor stops simulating while another rank is slow to send.
void simulate_on_rank_0(const childsim::Scenario& sc, const childsim::RunOptions& options,
                        const std::vector<int>& missing, const childsim::ReplicateSink& sink,
                        int size) {
  const std::vector<int> mine = share_of(missing, 0, size);
  std::size_t expected = missing.size() - mine.size(), received = 0;
  struct Incoming {
    int replicate;
    std::unique_ptr<childsim::io::Recorder> recorder;
    MPI_Request request;
  };
  std::deque<Incoming> incoming;
  auto drain = [&]() {
    bool progress = false;
    for (;;) {  // post a receive for every message that has arrived
      int found = 0;
      MPI_Message message;
      MPI_Status status;
      MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &found, &message, &status);
      if (!found) break;
      const int r = status.MPI_TAG - replicate_tag;
      if (r < 0 || r >= sc.replicates)
        throw std::runtime_error(
            fmt::format("a message from rank {} with tag {} is not a replicate", status.MPI_SOURCE,
                        status.MPI_TAG));
      Incoming in{r, std::make_unique<childsim::io::Recorder>(sc, 1, r), MPI_REQUEST_NULL};
      auto [type, bytes] = recorder_type(*in.recorder);
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      if (static_cast<std::size_t>(count) != bytes) {
        MPI_Type_free(&type);
        throw std::runtime_error(fmt::format("replicate {} from rank {}: {} bytes, expected {}", r,
                                             status.MPI_SOURCE, count, bytes));
      }
      MPI_Imrecv(MPI_BOTTOM, 1, type, &message, &in.request);
      MPI_Type_free(&type);  // the receive keeps what it needs
      incoming.push_back(std::move(in));
    }
    for (auto it = incoming.begin(); it != incoming.end();) {
      int done = 0;
      MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      if (!done) {
        ++it;
        continue;
      }
      sink(it->replicate, *it->recorder);
      it = incoming.erase(it);
      ++received;
      progress = true;
    }
    return progress;
  };
  childsim::run_each_replicate(sc, options, mine, [&](int r, childsim::io::Recorder& rec) {
    sink(r, rec);
    drain();
  });
  while (received < expected)
    if (!drain()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// Another rank's part: its share, each replicate sent to rank 0 as it finishes. One send at a
// time: before sending a replicate the rank waits (sleeping) until rank 0 has taken the one
// before, so it holds at most the replicate it simulates and one in flight.
void simulate_on_other_rank(const childsim::Scenario& sc, const childsim::RunOptions& options,
                            const std::vector<int>& missing, int rank, int size) {
  std::vector<char> in_flight;
  MPI_Request request = MPI_REQUEST_NULL;
  childsim::run_each_replicate(
      sc, options, share_of(missing, rank, size), [&](int r, childsim::io::Recorder& rec) {
        wait_sleeping(request);  // returns at once for MPI_REQUEST_NULL
        in_flight = pack_replicate(rec);
        MPI_Isend(in_flight.data(), static_cast<int>(in_flight.size()), MPI_BYTE, 0,
                  replicate_tag + r, MPI_COMM_WORLD, &request);
      });
  wait_sleeping(request);
}

int run(int argc, char** argv, int rank, int size) {
  CLI::App app{"childsim-mpi: run a scenario's replicates across MPI ranks"};
  app.footer(
      "Also: childsim-mpi sweep DESIGN.yaml -o OUT.h5 (a sweep's samples across ranks), "
      "childsim-mpi site PROBLEM.yaml -o DIR (a siting problem's proof runs across ranks) and "
      "childsim-mpi calibrate CALIBRATION.yaml -o POSTERIOR.h5 (calibration particles across "
      "ranks); --help after either lists its options.");
  std::string scenario_path, out_path;
  int replicates = 0, threads = 0;
  std::int64_t seed = -1;
  bool quiet = false;
  app.add_option("scenario", scenario_path, "Scenario file (YAML)")->required();
  app.add_option("-o,--output", out_path, "Output file (.h5), written by rank 0")->required();
  app.add_option("--replicates", replicates, "Override the number of replicates")
      ->check(CLI::Range(1, 10000));
  app.add_option("--seed", seed, "Override the seed")
      ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()));
  app.add_option("--threads", threads, "OpenMP threads per rank")->check(CLI::Range(1, 1024));
  app.add_flag("-q,--quiet", quiet, "Do not print the summary");
  bool resume = false;
  app.add_flag("--resume", resume,
               "Continue an interrupted run from <output>.partial (written by childsim-mpi or "
               "childsim run); the file is the same as an uninterrupted run's");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
  }
  // Every rank validates the same file, so all fail together, before any work.
  childsim::Scenario sc = childsim::load_scenario(scenario_path);
  childsim::override_run(sc, replicates, seed);
  childsim::RunOptions options;
  options.threads = threads;
  if (rank != 0) {
    const std::vector<int> missing = share_missing({}, false);
    if (!missing.empty() && missing.front() < 0) return 1;  // rank 0 failed and said why
    simulate_on_other_rank(sc, options, missing, rank, size);
    wait_for_all_ranks();
    return 0;
  }
  // Rank 0: the output's checks, the partial file (resumed or new), its share of the
  // replicates and the others' as they arrive, then the output, as `childsim run` does.
  bool shared = false;
  std::string summary;
  try {
    childsim::cli::check_output_path(out_path);
    childsim::check_footprint(sc, out_path, /*streamed=*/true);
    childsim::StreamOptions stream;
    stream.resume = resume;
    stream.note = [](const std::string& text) { fmt::print(stderr, "note: {}\n", text); };
    summary = childsim::run_to_file(
        sc, out_path, stream,
        [&](const std::vector<int>& missing, const childsim::ReplicateSink& sink) {
          share_missing(missing, false);
          shared = true;
          simulate_on_rank_0(sc, options, missing, sink, size);
        });
  } catch (const std::exception& e) {
    if (!shared) {  // the others wait for the list of replicates: tell them to stop
      share_missing({}, true);
      throw SameOnEveryRank(e.what());
    }
    // Failed while the others simulate or send (a full disk, say): stop them all. The partial
    // file keeps the replicates that were saved.
    fmt::print(stderr, "error: {}\n", e.what());
    std::fflush(stderr);
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
  wait_for_all_ranks();
  if (!quiet) fmt::print("{}Wrote {}\n", summary, out_path);
  return 0;
}

// Every rank's outcomes to every rank (ParticleSharing::share): each packs its own particles,
// the packs are gathered everywhere, each unpacks the others'.
void share_outcomes(std::vector<childsim::calibration::ParticleOutcome>& outcomes, int rank,
                    int size) {
  wait_for_all_ranks();
  const std::string mine = childsim::calibration::pack_outcomes(outcomes, rank, size);
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size)), offsets(lengths.size());
  MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int total = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    offsets[r] = total;
    total += lengths[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  MPI_Allgatherv(mine.data(), length, MPI_BYTE, all.data(), lengths.data(), offsets.data(),
                 MPI_BYTE, MPI_COMM_WORLD);
  for (std::size_t r = 0; r < lengths.size(); ++r)
    if (static_cast<int>(r) != rank)
      childsim::calibration::unpack_outcomes(
          all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])),
          outcomes);
}

// `childsim-mpi calibrate`: the options of `childsim calibrate`, the particles across ranks.
int run_calibrate(int argc, char** argv, int rank, int size) {
  namespace calibration = childsim::calibration;
  CLI::App app{"childsim-mpi calibrate: ABC-SMC with each generation's particles across MPI ranks"};
  app.name("childsim-mpi calibrate");
  std::string file, out;
  int threads = 0, generations = 0, particles = 0;
  bool fresh = false;
  app.add_option("calibration", file, "Calibration file (YAML)")->required();
  app.add_option("-o,--output", out, "Posterior file (.h5), written by rank 0")->required();
  app.add_option("--threads", threads, "OpenMP threads per rank")->check(CLI::Range(1, 1024));
  app.add_option("--generations", generations, "Override abc.max_generations")
      ->check(CLI::Range(1, 1000));
  app.add_option("--particles", particles, "Override abc.particles")->check(CLI::Range(2, 100000));
  app.add_flag("--fresh", fresh, "Ignore and replace an existing checkpoint (<output>.checkpoint)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : 2);
  }
  // Every rank validates the same file (ConfigError, printed by rank 0), before any work.
  const calibration::CalibrationSpec spec = calibration::load_calibration(file);
  try {
    childsim::cli::check_output_path(out);
  } catch (const std::exception& e) {
    throw SameOnEveryRank(e.what());
  }
  calibration::CalibrateOptions options;
  options.threads = threads;
  options.generations = generations;
  options.particles = particles;
  options.resume = !fresh;
  if (rank == 0) {
    options.progress = childsim::cli::print_generation;
    options.message = [](const std::string& m) { fmt::print(stderr, "{}\n", m); };
  }
  options.sharing = {rank, size, [rank, size](std::vector<calibration::ParticleOutcome>& o) {
                       share_outcomes(o, rank, size);
                     }};
  calibration::AbcResult res;
  try {
    res = calibration::calibrate(spec, options, calibration::checkpoint_path(out));
  } catch (const std::exception& e) {
    // Rank 0 may have failed alone (writing the checkpoint) while the others wait for it in
    // the next generation: stop them all. A particle's error reaches every rank alike.
    if (size == 1) throw SameOnEveryRank(e.what());
    if (rank == 0) fmt::print(stderr, "error: {}\n", e.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;  // not reached
  }
  if (rank == 0) {
    childsim::io::write_dataset(calibration::posterior_dataset(spec, res), out);
    childsim::cli::print_posterior(res, out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before MPI exists: idle OpenMP threads sleep unless the user chose (re-executes once).
  childsim::run::ensure_passive_openmp_wait(argv);
  // Each rank's monthly step reuses its buffers' pages (as childsim's; see the header).
  childsim::run::tune_malloc_for_monthly_buffers();
  // A sweep runs in Python (childsim.sweeps with mpi4py), which calls MPI_Init itself.
  if (argc > 1 && std::string(argv[1]) == "sweep")
    return childsim::cli::exec_python_main("_mpi_sweep",
                                           std::vector<std::string>(argv + 2, argv + argc));
  // So does siting (childsim.siting: demand, solvers and the proof's runs across the ranks).
  if (argc > 1 && std::string(argv[1]) == "site")
    return childsim::cli::exec_python_main("_mpi_site",
                                           std::vector<std::string>(argv + 2, argv + argc));
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = 0;
  try {
    code = argc > 1 && std::string(argv[1]) == "calibrate"
               ? run_calibrate(argc - 1, argv + 1, rank, size)
               : run(argc, argv, rank, size);
  } catch (const childsim::config::ConfigError& e) {
    if (rank == 0) fmt::print(stderr, "error: {}\n", e.what());
    code = 2;
  } catch (const SameOnEveryRank& e) {
    if (rank == 0) fmt::print(stderr, "error: {}\n", e.what());
    code = 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error (rank {}): {}\n", rank, e.what());
    code = 1;
  }
  MPI_Finalize();
  return code;
}
