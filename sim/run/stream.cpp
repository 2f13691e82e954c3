// stream: the partial file, the run of the missing replicates and the assembly of the output.
#include "sim/run/stream.hpp"

#include "childsim/version.hpp"           // version, git_commit
#include "sim/calibration/abc_smc.hpp"    // fnv1a64
#include "sim/calibration/posterior.hpp"  // Posterior
#include "sim/io/dataset.hpp"             // write_dataset
#include "sim/io/hdf5_writer.hpp"         // set_interrupt_note
#include "sim/io/output_error.hpp"        // OutputError
#include "sim/io/output_target.hpp"       // resolve_output_target
#include "sim/io/recorder.hpp"            // Recorder
#include "sim/run/summary.hpp"            // summary_text

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::sort
#include <fstream>    // std::ifstream
#include <iterator>   // std::istreambuf_iterator
#include <memory>     // std::unique_ptr
#include <optional>   // std::optional
#include <vector>     // std::vector

namespace childsim {

namespace fs = std::filesystem;

namespace {

std::string file_hash(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return fmt::format("{:016x}",
                     calibration::fnv1a64(std::string(std::istreambuf_iterator<char>(in), {})));
}

// Clears the interrupt note however the run ends.
struct InterruptNote {
  explicit InterruptNote(const std::string& note) { io::set_interrupt_note(note); }
  ~InterruptNote() { io::set_interrupt_note(""); }
  InterruptNote(const InterruptNote&) = delete;
  InterruptNote& operator=(const InterruptNote&) = delete;
};

}  // namespace

io::SpoolIdentity run_identity(const Scenario& sc) {
  std::string key = sc.resolved_yaml;
  std::vector<fs::path> files;
  std::error_code error;
  if (fs::is_directory(sc.base.dir, error))
    for (const auto& e : fs::directory_iterator(sc.base.dir, error))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) key += "\nbase " + f.filename().string() + " " + file_hash(f);
  if (sc.posterior) key += "\nposterior " + file_hash(sc.posterior->file);
  // Compared in this order: the seed and the replicates first, since the resolved text holds
  // them too and the message should name them.
  return {{"program", fmt::format("{}-{}", version, git_commit)},
          {"seed", std::to_string(sc.seed)},
          {"replicates", std::to_string(sc.replicates)},
          {"scenario", fmt::format("{:016x}", calibration::fnv1a64(key))}};
}

std::string run_to_file(const Scenario& sc, const RunOptions& options, const fs::path& output,
                        const StreamOptions& stream) {
  return run_to_file(sc, output, stream,
                     [&](const std::vector<int>& missing, const ReplicateSink& sink) {
                       run_each_replicate(sc, options, missing, sink);
                     });
}

std::string run_to_file(const Scenario& sc, const fs::path& output, const StreamOptions& stream,
                        const SimulateReplicates& simulate) {
  auto note = [&](const std::string& text) {
    if (stream.note) stream.note(text);
  };
  const io::OutputTarget target = io::resolve_output_target(output);
  const fs::path partial = io::partial_path(target.real);
  const io::SpoolIdentity identity = run_identity(sc);
  std::unique_ptr<io::ReplicateSpool> spool;
  // The layout of a replicate's record: a one-replicate recorder without arrays (allocating
  // them only to learn their lengths cleared a replicate's worth of pages: 4 MB for Changning,
  // ~110 MB for the whole of Shanghai).
  auto one = std::make_unique<const io::Recorder>(sc, 1, 0, false);
  if (stream.resume) {
    spool = io::ReplicateSpool::resume(partial, identity, *one);
    if (!spool) {
      note(fmt::format("no partial file {}: starting from the first replicate", partial.string()));
    } else {
      note(fmt::format("resuming from {}: {} of {} replicate(s) already done", partial.string(),
                       spool->count(), sc.replicates));
    }
  }
  if (!spool) {
    std::error_code error;
    const bool left = !stream.resume && fs::exists(partial, error);
    spool = io::ReplicateSpool::create(partial, identity, *one);  // refused while another runs
    if (left) {
      note(fmt::format("replacing {}, left by an interrupted run (--resume continues such a run)",
                       partial.string()));
    }
  }
  one.reset();

  std::vector<int> missing;
  for (int r = 0; r < sc.replicates; ++r)
    if (!spool->has(r)) missing.push_back(r);
  // From here until the output is complete, an interruption keeps the partial file: say so.
  std::optional<InterruptNote> interrupted;
  interrupted.emplace(fmt::format(
      "childsim: interrupted; the finished replicates are kept in {}: the same command with "
      "--resume continues the run",
      partial.string()));
  {
    try {
      // The replicate that completes the set is read back at once: the spool keeps it.
      simulate(missing, [&](int r, io::Recorder& rec) {
        spool->append(r, rec, spool->count() + 1 == sc.replicates);
      });
    } catch (const io::OutputError& e) {
      if (spool->count() == 0) {
        spool->remove();
        throw;
      }
      throw io::OutputError(
          fmt::format("{}; the {} finished replicate(s) are kept in {}: "
                      "--resume continues once there is room",
                      e.what(), spool->count(), partial.string()));
    } catch (...) {
      if (spool->count() == 0) spool->remove();
      throw;
    }
  }

  // Assemble: the layout of the whole ensemble, its values read back replicate by replicate.
  const io::Recorder layout_recorder(sc, sc.replicates, 0, false);
  const io::Dataset layout = layout_recorder.to_dataset(provenance_attributes(sc));
  const io::ReplicateReader read = [&](const io::Variable& v, std::size_t r, void* out) {
    spool->read(static_cast<int>(r), v.name, out);
  };
  try {
    io::write_dataset(layout, output, read);
  } catch (const io::OutputError& e) {
    throw io::OutputError(
        fmt::format("{}; the {} replicate(s) are kept in {}: --resume writes "
                    "the file once there is room",
                    e.what(), spool->count(), partial.string()));
  }
  std::string summary = summary_text(layout, read);
  interrupted.reset();
  spool->remove();
  return summary;
}

}  // namespace childsim
