// replicate_spool: the finished replicates of a run, on disk — what lets an ensemble stream
// (memory does not grow with the number of replicates) and resume after an interruption.
//
// `childsim run -o OUT.h5` appends each replicate's outputs, as soon as it is simulated, to
// the partial file `OUT.h5.partial`, then drops them from memory; when every replicate is
// there, the HDF5 file is assembled from it replicate by replicate (sim/run/stream.hpp) and
// the partial file is removed. A run that was interrupted (Ctrl-C, SIGKILL, a power cut)
// leaves the partial file, and `childsim run … --resume` continues after the replicates it
// holds.
//
// Layout. A text header, then one record per finished replicate, in the order they finished:
//
//   childsim partial run 2\n          (format and version)
//   <key> <value>\n ...               (what the run must match to resume: seed, replicates,
//   end\n                              scenario hash, program, output layout)
//   record: "REPL" u32 replicate, u32 blocks, u64 payload bytes,
//           payload: per output variable of the catalog, u64 raw bytes, u64 stored bytes,
//                    the values byte-shuffled (every value's first byte, then every
//                    value's second byte, …: HDF5's shuffle filter) and deflated (zlib,
//                    level 1) — 0 bytes for a variable without a
//                    `replicate` dimension in every replicate but 0,
//           u32 CRC-32 of the header and payload, "END\n".
//
// Integers are in the machine's byte order: a partial file is resumed on the machine that
// wrote it. Each record is written with one write(2) run and fdatasync'ed before the next
// replicate starts, so an interruption loses at most the replicate being simulated; a record
// cut short (killed during its write) fails its length or CRC and is cut off on resume. The
// file is locked (flock) while a run uses it: a second run to the same output is refused
// instead of corrupting it, and the lock disappears with the process that held it.
#pragma once

#include "sim/io/recorder.hpp"  // Recorder

#include <cstdint>     // std::uint64_t
#include <filesystem>  // std::filesystem::path
#include <map>         // std::map
#include <memory>      // std::unique_ptr
#include <stdexcept>   // std::runtime_error
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

namespace childsim::io {

/// A partial file that cannot be resumed by this run (another scenario, seed, replicates or
/// program, or damaged). The message says what differs and what to do.
class ResumeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a partial file must match to be resumed, field by field, in order: (name, value).
using SpoolIdentity = std::vector<std::pair<std::string, std::string>>;

/// The partial file of the run writing `output` (its real path: a symlink's target).
std::filesystem::path partial_path(const std::filesystem::path& output);

class ReplicateSpool {
 public:
  /// Start a new partial file at `path` for a run identified by `identity`, whose replicates
  /// fill recorders like `one` (a one-replicate Recorder, its arrays allocated or not: its
  /// layout gives the record's).
  /// A partial file left by an interrupted run is replaced. Throws OutputError when the file
  /// cannot be made, ResumeError when another running process holds it.
  static std::unique_ptr<ReplicateSpool> create(const std::filesystem::path& path,
                                                const SpoolIdentity& identity, const Recorder& one);
  /// Open the partial file at `path` to continue it. Throws ResumeError naming the first field
  /// that differs from `identity` (or the damage), and saying how to start afresh.
  static std::unique_ptr<ReplicateSpool> resume(const std::filesystem::path& path,
                                                const SpoolIdentity& identity, const Recorder& one);

  ~ReplicateSpool();  // closes the file and keeps it (remove() deletes it)
  ReplicateSpool(const ReplicateSpool&) = delete;
  ReplicateSpool& operator=(const ReplicateSpool&) = delete;

  /// Whether replicate `r` is stored.
  [[nodiscard]] bool has(int r) const { return index_.count(r) != 0; }
  /// Number of replicates stored.
  [[nodiscard]] int count() const { return static_cast<int>(index_.size()); }
  /// Append the outputs of replicate `r` (held by `rec`, a recorder of that replicate alone)
  /// and flush them to disk. Throws OutputError on a full disk. `keep` (for the last replicate
  /// of a run, which is read back at once): also keep a copy of its arrays in memory, which
  /// read() then gives instead of inflating the record (a copy costs a tenth of that).
  void append(int r, Recorder& rec, bool keep = false);
  /// The values of output `name` for replicate `r` (for a variable without a `replicate`
  /// dimension, r = 0: all of it) into `out`, which holds the variable's per-replicate bytes.
  void read(int r, const std::string& name, void* out) const;
  /// Delete the partial file (its replicates are in the committed output).
  void remove();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  struct Block {
    std::uint64_t offset = 0, raw = 0, stored = 0;
  };
  struct Variable {
    std::string name;
    bool real = false;
    bool per_replicate = false;
    std::uint64_t bytes = 0;  ///< raw bytes of one replicate (of all, if not per replicate)
  };
  ReplicateSpool(const std::filesystem::path& path, const Recorder& one);
  void scan(std::uint64_t after_header);
  [[nodiscard]] std::string layout_text() const;

  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<Variable> variables_;
  std::map<std::string, std::size_t> variable_index_;
  std::map<int, std::vector<Block>> index_;            ///< replicate → one block per variable
  int kept_ = -1;                                      ///< replicate whose arrays are in kept_data_
  std::vector<std::vector<unsigned char>> kept_data_;  ///< per variable (append's `keep`)
  std::uint64_t end_ = 0;                              ///< where the next record goes
};

}  // namespace childsim::io
