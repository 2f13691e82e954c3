// hdf5_writer: writes netCDF-4-compatible HDF5 files with named dimensions (H5DS).
//
// Every array childsim writes has named dimensions attached as HDF5 dimension scales, so
// that `xarray.open_dataset(path, engine="h5netcdf")` (and netCDF-C) open it with labelled
// coordinates. A dimension is a 1-D coordinate dataset of the same name marked as a
// dimension scale; data variables attach one scale per axis. Auxiliary coordinates (e.g. the
// Chinese `street_name` along `street`) are ordinary variables listed in the data variables'
// CF `coordinates` attribute. Data are chunked and deflate-compressed (with shuffle).
//
// Safety: the file is built in memory and written by `commit()` under a temporary name in the
// same directory ("<final>.tmp-<pid>", reserved by the constructor), then renamed onto the
// final name. If the writer is destroyed without `commit()` (an exception, an interrupted run,
// a full disk) the temporary is removed and any existing file under the final name is
// untouched. The final path must be a regular file or a new path; a symbolic link is followed
// and kept, and an existing file's permissions are kept (sim/io/output_target.hpp). A full
// disk is an ordinary error naming the file and the space it needs; HDF5 itself never writes
// to disk, so no HDF5 state is left behind by a failed write.
//
// Errors are std::runtime_error naming the final path and the dimension/variable. Invalid
// arguments (size mismatch, unknown dimension, duplicate name, text that is not UTF-8,
// attribute names HDF5/netCDF reserve such as CLASS or _FillValue) are rejected before the
// file is touched, so the writer stays usable; after a failed HDF5 call `commit()` refuses.
// Debian's HDF5 is not thread-safe: use writers from one thread at a time.
#pragma once

#include <cstdint>     // std::int32_t, std::int64_t
#include <filesystem>  // std::filesystem::path
#include <functional>  // std::function
#include <map>         // std::map
#include <memory>      // std::unique_ptr
#include <string>      // std::string
#include <variant>     // std::variant
#include <vector>      // std::vector

namespace childsim::io {

/// An attribute value: text (stored as a UTF-8 variable-length string), integer or real
/// (scalar or 1-D array).
using AttributeValue = std::variant<std::string, std::int64_t, double, std::vector<double>>;
using Attributes = std::map<std::string, AttributeValue>;

/// Print HDF5's whole error stack to stderr when an HDF5 call fails (the CLI's --verbose);
/// by default only its innermost message goes into the exception.
void set_hdf5_error_stack(bool print);

/// On SIGINT, SIGTERM or SIGHUP, remove the temporary file being written (if any), then die of
/// the signal as before: an interrupted write leaves no `<out>.tmp-<pid>` behind (the CLI
/// installs this; Python keeps its own SIGINT handling, and the writer's destructor cleans up
/// after KeyboardInterrupt). SIGKILL cannot be caught: its temporary is removed by the next
/// write to the same target (remove_stale_temporaries).
void remove_temporary_on_signals();

/// A line that the handler of remove_temporary_on_signals prints on stderr before the program
/// dies (where an interrupted run's finished replicates are kept, sim/run/stream.hpp); empty:
/// none. Longer than 4 kB: not printed.
void set_interrupt_note(const std::string& note);

/// Where a writer builds the file before commit() renames it onto the final name.
enum class WriterStorage {
  /// In memory, written to the temporary by commit() with plain write(2): HDF5 never sees a
  /// disk error. Memory holds the whole (compressed) file.
  memory,
  /// On disk, in the temporary, as data are added: memory does not grow with the file (a
  /// streamed ensemble, sim/run/stream.hpp). A disk error inside HDF5 is caught, and the file
  /// is closed into memory (a memfd) so that the library keeps no broken file open.
  disk,
};

/// Element type of a variable written slab by slab (add_variable_slabs).
enum class ElementKind { int32, int64, float64 };

/// Fills `out` with the values at position `index` of a variable's first dimension (the
/// product of the other dimensions' sizes, row-major, in the variable's element type).
using SlabSource = std::function<void(std::size_t index, void* out)>;

class Hdf5Writer {
 public:
  /// Create the temporary file next to `final_path`. Throws std::runtime_error naming the
  /// path if it cannot be created.
  explicit Hdf5Writer(const std::filesystem::path& final_path,
                      WriterStorage storage = WriterStorage::memory);
  ~Hdf5Writer();  // removes the temporary unless committed
  Hdf5Writer(const Hdf5Writer&) = delete;
  Hdf5Writer& operator=(const Hdf5Writer&) = delete;

  /// Global (file) attribute.
  void set_attribute(const std::string& name, const AttributeValue& value);

  /// A dimension with its coordinate values (becomes a dimension scale named `name`).
  void add_dimension(const std::string& name, const std::vector<std::int64_t>& values,
                     const Attributes& attrs = {});
  void add_dimension(const std::string& name, const std::vector<double>& values,
                     const Attributes& attrs = {});
  void add_dimension(const std::string& name, const std::vector<std::string>& values,
                     const Attributes& attrs = {});

  /// A data variable over previously added dimensions (row-major, last dimension fastest).
  /// `data.size()` must equal the product of the dimension sizes. `coordinates` lists the
  /// auxiliary coordinate variables to name in the CF `coordinates` attribute.
  void add_variable(const std::string& name, const std::vector<std::string>& dims,
                    const std::vector<std::int32_t>& data, const Attributes& attrs = {});
  void add_variable(const std::string& name, const std::vector<std::string>& dims,
                    const std::vector<std::int64_t>& data, const Attributes& attrs = {});
  void add_variable(const std::string& name, const std::vector<std::string>& dims,
                    const std::vector<double>& data, const Attributes& attrs = {});
  void add_variable(const std::string& name, const std::vector<std::string>& dims,
                    const std::vector<float>& data, const Attributes& attrs = {});
  /// A string variable (e.g. an auxiliary coordinate such as `street_name`).
  void add_variable(const std::string& name, const std::vector<std::string>& dims,
                    const std::vector<std::string>& data, const Attributes& attrs = {});

  /// A numeric data variable whose values arrive one slab along its first dimension at a time
  /// (`source(i, buffer)` for i = 0, 1, …), so that the whole array is never in memory. The
  /// file is byte-identical to add_variable with the whole array: a variable whose first
  /// dimension is `replicate` is always written one replicate at a time (its chunks are one
  /// replicate deep), whichever way its values are given.
  void add_variable_slabs(const std::string& name, const std::vector<std::string>& dims,
                          ElementKind kind, const SlabSource& source, const Attributes& attrs = {});

  /// Close the file and atomically rename it onto the final name.
  void commit();

  const std::filesystem::path& temporary_path() const;

 private:
  struct Impl;
  void open_file();
  void commit_on_disk();
  /// Close an uncommitted file and remove its temporary (the destructor, and a constructor
  /// that fails after reserving the temporary, when no destructor runs).
  static void discard(Impl& im);
  std::unique_ptr<Impl> impl_;
};

}  // namespace childsim::io
