// hdf5_writer.cpp: the netCDF-4-compatible HDF5 writer (HDF5 C API + H5DS dimension scales).
//
// Layout follows what netCDF-C and h5netcdf write, so both (and xarray on top of h5netcdf)
// read our files as netCDF-4:
//   * link and attribute creation order tracked and indexed on the file and every dataset
//     (netCDF-C refuses or misorders files without it) and 1.8-compatible file format;
//   * `_NCProperties` on the root group, which netCDF-C uses to recognise a netCDF-4 file;
//   * every dimension is a 1-D dataset marked with H5DSset_scale(ds, name) plus an int32
//     `_Netcdf4Dimid` (netCDF-C's dimension id, numbered in creation order);
//   * every data variable has one scale attached per axis (DIMENSION_LIST), which is how
//     h5netcdf and netCDF-C learn the dimension names;
//   * text is variable-length UTF-8 (h5py returns it as Python str, not bytes).
//
// The HDF5 library prints its error stack to stderr by default; we switch that off for the
// duration of each call and fold the innermost HDF5 message into our std::runtime_error (the
// whole stack is printed only after set_hdf5_error_stack(true), the CLI's --verbose).
//
// The file is built in memory (HDF5's core driver without a backing store) and written to disk
// by commit() with plain write(2) calls. HDF5 therefore never sees a disk error: a full disk
// or a file-size limit is one errno that we report and clean up after. (When HDF5 itself met
// ENOSPC while closing a file, the file stayed open inside the library, and its exit handler
// H5_term_library then crashed the process, and a Python interpreter with it: issue #15.)
#include "sim/io/hdf5_writer.hpp"

#include "sim/io/output_error.hpp"   // OutputError
#include "sim/io/output_target.hpp"  // resolve_output_target, remove_stale_temporaries

#include <hdf5.h>
// H5DSpublic.h uses hdf5.h types without including it, so it must come second.
#include <H5DSpublic.h>

#include <fcntl.h>         // open, O_*
#include <signal.h>        // sigaction, raise
#include <sys/mman.h>      // memfd_create
#include <sys/resource.h>  // getrlimit, RLIMIT_FSIZE
#include <sys/stat.h>      // fchmod
#include <unistd.h>        // getpid, write, fsync, close, fchown, geteuid

#include <atomic>   // std::atomic<bool>
#include <cerrno>   // errno
#include <cstdio>   // stderr
#include <cstdlib>  // std::strtol
#include <cstring>  // std::strerror, std::memcpy

#include <algorithm>     // std::max
#include <limits>        // std::numeric_limits
#include <set>           // std::set
#include <stdexcept>     // std::runtime_error
#include <system_error>  // std::error_code
#include <utility>       // std::exchange

#include "childsim/version.hpp"

namespace childsim::io {

namespace {
// The temporary being written, for the signal handler: a fixed buffer and a lock-free flag,
// because a handler may only call async-signal-safe functions (unlink, sigaction, raise).
char signal_temporary[4096];
std::atomic<bool> signal_temporary_set{false};

void note_temporary(const std::filesystem::path& path) {
  const std::string& text = path.native();
  if (text.size() >= sizeof signal_temporary) return;  // too long to note: left stale
  signal_temporary_set = false;
  std::memcpy(signal_temporary, text.c_str(), text.size() + 1);
  signal_temporary_set = true;
}

char signal_note[4096];
std::atomic<std::size_t> signal_note_size{0};

extern "C" void remove_temporary_and_die(int sig) {
  if (signal_temporary_set) ::unlink(signal_temporary);
  if (const std::size_t n = signal_note_size; n > 0) {
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, signal_note, n);
  }
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  ::sigaction(sig, &fallback, nullptr);
  ::raise(sig);  // die of the same signal, so the parent sees what happened
}
}  // namespace
namespace {

// Attributes that HDF5 dimension scales and netCDF-4 manage themselves; a user value under
// one of these names would corrupt the file's dimension bookkeeping.
const std::set<std::string>& reserved_attribute_names() {
  static const std::set<std::string> names{
      "CLASS",         "NAME",          "DIMENSION_LIST",      "REFERENCE_LIST",
      "_NCProperties", "_Netcdf4Dimid", "_Netcdf4Coordinates", "_nc3_strict",
      "_FillValue"  // would need the variable's own type; netCDF readers check this
  };
  return names;
}

// Target size of one chunk. 1 MiB is the netCDF/HDF5 default chunk cache size, so a chunk
// always fits the cache and a reader of a single time step or replicate touches few chunks.
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
constexpr unsigned kDeflateLevel = 4;

// Owns one HDF5 identifier and closes it with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { close(); }
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  /// Returns the close status so that commit() can notice a failed close.
  herr_t close() {
    herr_t status = 0;
    if (id_ >= 0 && closer_ != nullptr) status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Silences HDF5's automatic stderr error printing for one public call, restoring the previous
// handler afterwards (the application may have its own).
class QuietHdf5Errors {
 public:
  QuietHdf5Errors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    H5Eclear2(H5E_DEFAULT);
  }
  ~QuietHdf5Errors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietHdf5Errors(const QuietHdf5Errors&) = delete;
  QuietHdf5Errors& operator=(const QuietHdf5Errors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// Whether a failed HDF5 call prints the library's whole error stack (--verbose).
std::atomic<bool> print_error_stack{false};

// The most specific message on the HDF5 error stack (e.g. "unable to open file: ... errno =
// 13, error message = 'Permission denied'"), which is what a user can act on.
std::string hdf5_error_detail() {
  if (print_error_stack) H5Eprint2(H5E_DEFAULT, stderr);
  std::string detail;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* out) -> herr_t {
        if (n == 0 && err != nullptr && err->desc != nullptr) {
          *static_cast<std::string*>(out) = err->desc;
        }
        return 0;
      },
      &detail);
  H5Eclear2(H5E_DEFAULT);
  return detail.empty() ? std::string("unknown HDF5 error") : detail;
}

// Variable-length UTF-8 string type, used for text attributes and string datasets alike.
Handle make_utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (type.get() < 0 || H5Tset_size(type.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLTERM) < 0) {
    return Handle();
  }
  return type;
}

// Strict UTF-8 check: invalid bytes would make h5py's str decoding fail in Python, far from
// the code that wrote them, so we reject them here.
bool is_valid_utf8(const std::string& s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;  // HDF5 C strings end at NUL: the rest would be lost silently
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    // Overlong encodings, UTF-16 surrogates and values beyond U+10FFFF are not UTF-8.
    const std::uint32_t min_cp = len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u;
    if (cp < min_cp || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) return false;
    i += len;
  }
  return true;
}

// "No space left on device (the file needs 1.4 MB; free space or choose another place)".
std::string disk_error_message(int code, std::size_t bytes, bool at_least = false) {
  const double mb = static_cast<double>(bytes) / 1e6;
  char size[32];
  if (mb >= 0.1) {
    std::snprintf(size, sizeof size, "%.1f MB", mb);
  } else {
    std::snprintf(size, sizeof size, "%.0f kB", mb * 1e3);
  }
  std::string hint;
  if ((code == ENOSPC || code == EDQUOT || code == EFBIG) && at_least && bytes == 0) {
    hint = " (free space or choose another place)";
  } else if (code == ENOSPC || code == EDQUOT || code == EFBIG) {
    hint = " (the file needs " + std::string(at_least ? "more than " : "") + size +
           "; free space or choose another place)";
  }
  return std::strerror(code) + hint;
}

bool is_valid_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && is_valid_utf8(name);
}

// Element type of a data variable: the HDF5 file type (explicit little-endian, so files are
// identical across machines) and the matching in-memory type.
struct ElementType {
  hid_t file_type;
  hid_t memory_type;
  std::size_t size;
};

template <typename T>
ElementType element_type();
template <>
ElementType element_type<std::int32_t>() {
  return {H5T_STD_I32LE, H5T_NATIVE_INT32, sizeof(std::int32_t)};
}
template <>
ElementType element_type<std::int64_t>() {
  return {H5T_STD_I64LE, H5T_NATIVE_INT64, sizeof(std::int64_t)};
}
template <>
ElementType element_type<float>() {
  return {H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, sizeof(float)};
}
template <>
ElementType element_type<double>() {
  return {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sizeof(double)};
}

}  // namespace

struct Hdf5Writer::Impl {
  std::filesystem::path final_path;
  std::filesystem::path temporary_path;
  Handle file;
  Handle link_create;     // UTF-8 link names, as netCDF-C writes them
  Handle attr_create;     // UTF-8 attribute names
  int temporary_fd = -1;  // the reserved temporary file, written by commit()
  WriterStorage storage = WriterStorage::memory;
  bool redirected = false;          // disk: HDF5's descriptor now points at a memory file
  bool temporary_reserved = false;  // the destructor removes it unless committed
  OutputTarget target;
  bool committed = false;
  // First HDF5 failure after which the file may be half-written; commit() refuses then.
  std::string failure;
  std::map<std::string, hsize_t> dimension_sizes;
  std::set<std::string> names;  // every dataset in the file (dimensions and variables)
  int next_dimension_id = 0;

  // "hdf5_writer: <path>: <what>", the prefix every error carries.
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("hdf5_writer: " + final_path.string() + ": " + what);
  }
  // The file system refused (path, space, permissions): an OutputError.
  [[noreturn]] void fail_output(const std::string& what) const {
    throw OutputError("cannot write " + final_path.string() + ": " + what);
  }
  // An HDF5 call failed: record it (the file may now be inconsistent) and throw.
  [[noreturn]] void fail_hdf5(const std::string& what) {
    const std::string detail = hdf5_error_detail();
    const std::string message = what + ": " + detail;
    if (failure.empty()) failure = message;
    if (storage == WriterStorage::disk) close_into_memory();
    // On disk, HDF5 reports the file system's refusal as "... errno = 28, error message = ...":
    // that is an output error (full disk, file size limit), said in the same words as commit's.
    if (storage == WriterStorage::disk) {
      const auto at = detail.find("errno = ");
      if (at != std::string::npos) {
        const int code = static_cast<int>(std::strtol(detail.c_str() + at + 8, nullptr, 10));
        if (code == ENOSPC || code == EDQUOT || code == EFBIG) {
          struct stat st {};
          const std::size_t reached =
              ::stat(temporary_path.c_str(), &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
          failure = disk_error_message(code, reached, true);
          fail_output(failure);
        }
      }
    }
    fail(message);
  }
  void check(herr_t status, const std::string& what) {
    if (status < 0) fail_hdf5(what);
  }
  Handle checked(hid_t id, Handle::Closer closer, const std::string& what) {
    if (id < 0) fail_hdf5(what);
    return Handle(id, closer);
  }

  // A disk-backed file about to be thrown away: point HDF5's descriptor at an anonymous memory
  // file first, so that closing it (which flushes) cannot meet a full disk. HDF5 keeps a file
  // whose close failed open, and its exit handler H5_term_library then crashed (issue #15).
  // Done at the first failure, so that the handles closed while the exception unwinds flush
  // into memory too; the destructor then closes whatever a failed close left open.
  void close_into_memory() {
    if (file.get() < 0 || redirected) return;
    void* handle = nullptr;
    if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) < 0 || handle == nullptr) return;
    const int memory = ::memfd_create("childsim-discarded", MFD_CLOEXEC);
    if (memory < 0) return;
    ::dup2(memory, *static_cast<int*>(handle));  // the sec2 driver's descriptor
    ::close(memory);
    redirected = true;
  }

  // Objects of the file still open (a dataset whose close failed stays open in HDF5, and
  // keeps the file open with it): closed, now that their writes go to memory.
  void close_open_objects() {
    if (file.get() < 0) return;
    const unsigned types = H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR;
    const ssize_t n = H5Fget_obj_count(file.get(), types);
    if (n <= 0) return;
    std::vector<hid_t> ids(static_cast<std::size_t>(n));
    const ssize_t got = H5Fget_obj_ids(file.get(), types, ids.size(), ids.data());
    for (ssize_t k = 0; k < got; ++k) H5Idec_ref(ids[static_cast<std::size_t>(k)]);
  }

  // Keep the old file's permissions; its owner too when we may (root). A failed chown leaves
  // the file ours, which is what any editor does.
  void keep_permissions() const {
    if (!target.exists) return;
    ::fchmod(temporary_fd, target.mode);
    if (::geteuid() == 0) {
      if (::fchown(temporary_fd, target.owner, target.group) != 0) {
        ::fchmod(temporary_fd, target.mode & 0777);
      }
    }
  }

  // The last step of both commits: the temporary, written and closed, takes the final name.
  void rename_onto_target() {
    std::error_code error;
    std::filesystem::rename(temporary_path, target.real, error);
    if (error) {
      fail_output("cannot rename " + temporary_path.string() +
                  " onto the final name: " + error.message());
    }
    committed = true;
    temporary_reserved = false;
    signal_temporary_set = false;
  }

  void require_open(const std::string& what) const {
    if (committed) fail(what + ": the writer was already committed");
    if (file.get() < 0) fail(what + ": the file is closed after an earlier error");
  }

  void require_new_name(const std::string& kind, const std::string& name) const {
    if (!is_valid_name(name)) {
      fail(kind + " '" + name + "': invalid name (empty, '/', '.' or not UTF-8)");
    }
    if (names.count(name) != 0) fail(kind + " '" + name + "': name already used");
  }

  void validate_attributes(const std::string& owner, const Attributes& attrs) const {
    for (const auto& [name, value] : attrs) {
      if (name.empty() || !is_valid_utf8(name)) fail(owner + ": invalid attribute name");
      if (reserved_attribute_names().count(name) != 0) {
        fail(owner + ": attribute '" + name + "' is reserved for HDF5/netCDF bookkeeping");
      }
      if (const auto* text = std::get_if<std::string>(&value); text && !is_valid_utf8(*text)) {
        fail(owner + ": attribute '" + name + "' is not valid UTF-8 (or contains NUL)");
      }
    }
  }

  // Write (or replace) one attribute on `object`.
  void write_attribute(hid_t object, const std::string& owner, const std::string& name,
                       const AttributeValue& value) {
    const std::string what = owner + ": attribute '" + name + "'";
    const htri_t exists = H5Aexists(object, name.c_str());
    check(exists, what + ": cannot query");
    if (exists > 0) check(H5Adelete(object, name.c_str()), what + ": cannot replace");

    if (const auto* text = std::get_if<std::string>(&value)) {
      Handle type = make_utf8_string_type();
      if (type.get() < 0) fail_hdf5(what + ": cannot make string type");
      Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, what + ": cannot make dataspace");
      Handle attr = checked(
          H5Acreate2(object, name.c_str(), type.get(), space.get(), attr_create.get(), H5P_DEFAULT),
          H5Aclose, what + ": cannot create");
      const char* data = text->c_str();
      check(H5Awrite(attr.get(), type.get(), &data), what + ": cannot write");
    } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
      Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, what + ": cannot make dataspace");
      Handle attr = checked(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(),
                                       attr_create.get(), H5P_DEFAULT),
                            H5Aclose, what + ": cannot create");
      check(H5Awrite(attr.get(), H5T_NATIVE_INT64, integer), what + ": cannot write");
    } else if (const auto* real = std::get_if<double>(&value)) {
      Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, what + ": cannot make dataspace");
      Handle attr = checked(H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space.get(),
                                       attr_create.get(), H5P_DEFAULT),
                            H5Aclose, what + ": cannot create");
      check(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, real), what + ": cannot write");
    } else {
      const auto& reals = std::get<std::vector<double>>(value);
      const hsize_t extent = reals.size();
      Handle space = checked(H5Screate_simple(1, &extent, nullptr), H5Sclose,
                             what + ": cannot make dataspace");
      Handle attr = checked(H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space.get(),
                                       attr_create.get(), H5P_DEFAULT),
                            H5Aclose, what + ": cannot create");
      // HDF5 rejects a null buffer even for zero elements, and an empty vector may give one.
      if (!reals.empty()) {
        check(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, reals.data()), what + ": cannot write");
      }
    }
  }

  void write_attributes(hid_t object, const std::string& owner, const Attributes& attrs) {
    for (const auto& [name, value] : attrs) write_attribute(object, owner, name, value);
  }

  // Chunk shape: the full extent on trailing dimensions (a reader usually wants whole
  // time series / street vectors), 1 along the leading ensemble dimensions — `sample` (a
  // sweep), `scenario`, `replicate` — (they are analysed one at a time and written
  // independently, and a lazy reader of one of them reads nothing of the others), then
  // leading dimensions shrunk until one chunk holds at most kChunkBytes.
  static std::vector<hsize_t> chunk_shape(const std::vector<std::string>& dims,
                                          const std::vector<hsize_t>& extent,
                                          std::size_t element_size) {
    std::vector<hsize_t> chunk = extent;
    for (std::size_t axis = 0; axis + 1 < chunk.size(); ++axis) {
      const std::string& d = dims[axis];
      if (d != "sample" && d != "scenario" && d != "replicate") break;
      chunk[axis] = 1;
    }
    const hsize_t cap = std::max<hsize_t>(1, kChunkBytes / element_size);
    for (std::size_t axis = 0; axis < chunk.size(); ++axis) {
      hsize_t rest = 1;  // elements in the trailing part of the chunk
      for (std::size_t k = axis + 1; k < chunk.size(); ++k) rest *= chunk[k];
      if (rest >= cap) {
        chunk[axis] = 1;
      } else if (chunk[axis] * rest > cap) {
        chunk[axis] = std::max<hsize_t>(1, cap / rest);
      }
    }
    return chunk;
  }

  // Create a dataset over `dims` (already validated) and write `buffer` into it.
  // `element_size` is 0 for variable-length strings, which are never filtered (deflate
  // would only compress heap pointers).
  // `slabs`, when given, supplies the values one slab along the first dimension at a time
  // instead of `buffer` (numeric variables only).
  Handle create_dataset(const std::string& what, const std::string& name,
                        const std::vector<std::string>& dims, const std::vector<hsize_t>& extent,
                        hid_t file_type, hid_t memory_type, std::size_t element_size,
                        const void* buffer, const SlabSource* slabs = nullptr) {
    Handle space;
    if (extent.empty()) {
      space = checked(H5Screate(H5S_SCALAR), H5Sclose, what + ": cannot make dataspace");
    } else {
      space = checked(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr),
                      H5Sclose, what + ": cannot make dataspace");
    }
    Handle create =
        checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what + ": cannot make property list");
    check(H5Pset_attr_creation_order(create.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          what + ": cannot track attribute order");
    // No modification times in object headers: the same run must give the same bytes.
    check(H5Pset_obj_track_times(create.get(), 0), what + ": cannot switch off times");
    bool any_empty = false;
    hsize_t elements = 1;
    for (const hsize_t n : extent) {
      any_empty = any_empty || n == 0;
      elements *= n;
    }
    // Chunking needs every dimension > 0; scalars cannot be chunked.
    bool by_replicate = false;
    if (element_size > 0 && !extent.empty() && !any_empty) {
      const std::vector<hsize_t> chunk = chunk_shape(dims, extent, element_size);
      by_replicate = dims.front() == "replicate" && chunk.front() == 1;
      check(H5Pset_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data()),
            what + ": cannot set chunking");
      check(H5Pset_shuffle(create.get()), what + ": cannot set shuffle filter");
      check(H5Pset_deflate(create.get(), kDeflateLevel), what + ": cannot set deflate filter");
    }
    Handle dataset = checked(H5Dcreate2(file.get(), name.c_str(), file_type, space.get(),
                                        link_create.get(), create.get(), H5P_DEFAULT),
                             H5Dclose, what + ": cannot create dataset");
    names.insert(name);
    if (elements == 0) return dataset;
    if (by_replicate) {
      write_by_replicate(what, dataset.get(), extent, memory_type, element_size, buffer, slabs);
    } else if (slabs != nullptr) {
      // Not chunked by replicate: gather the slabs and write once, as for a whole array.
      const hsize_t rest = elements / extent.front();
      std::vector<char> all(static_cast<std::size_t>(elements) * element_size);
      for (hsize_t i = 0; i < extent.front(); ++i)
        (*slabs)(static_cast<std::size_t>(i), all.data() + i * rest * element_size);
      check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()),
            what + ": cannot write data");
    } else {
      check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer),
            what + ": cannot write data");
    }
    return dataset;
  }

  // One H5Dwrite per replicate (a chunk-deep slab), from `buffer` or from `slabs`: the same
  // calls, and so the same bytes, whether the ensemble is in memory or streamed from disk.
  void write_by_replicate(const std::string& what, hid_t dataset,
                          const std::vector<hsize_t>& extent, hid_t memory_type,
                          std::size_t element_size, const void* buffer, const SlabSource* slabs) {
    std::vector<hsize_t> start(extent.size(), 0), count = extent;
    count.front() = 1;
    hsize_t rest = 1;
    for (std::size_t axis = 1; axis < extent.size(); ++axis) rest *= extent[axis];
    Handle memory = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
                            H5Sclose, what + ": cannot make dataspace");
    Handle space =
        checked(H5Dget_space(dataset), H5Sclose, what + ": cannot get the file dataspace");
    std::vector<char> slab(slabs != nullptr ? static_cast<std::size_t>(rest) * element_size : 0);
    for (hsize_t i = 0; i < extent.front(); ++i) {
      start.front() = i;
      check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                nullptr),
            what + ": cannot select replicate " + std::to_string(i));
      const void* data = nullptr;
      if (slabs != nullptr) {
        (*slabs)(static_cast<std::size_t>(i), slab.data());
        data = slab.data();
      } else {
        data = static_cast<const char*>(buffer) + i * rest * element_size;
      }
      check(H5Dwrite(dataset, memory_type, memory.get(), space.get(), H5P_DEFAULT, data),
            what + ": cannot write replicate " + std::to_string(i));
    }
  }

  // Elements the dims span, for a variable given slab by slab (0 if a dimension is unknown:
  // extent_of then names it).
  std::size_t elements_of(const std::vector<std::string>& dims) const {
    std::size_t n = 1;
    for (const std::string& dim : dims) {
      const auto it = dimension_sizes.find(dim);
      if (it == dimension_sizes.end()) return 0;
      n *= static_cast<std::size_t>(it->second);
    }
    return n;
  }

  // Number of elements the dims span, or fail naming the unknown dimension.
  std::vector<hsize_t> extent_of(const std::string& what, const std::vector<std::string>& dims,
                                 std::size_t data_size) const {
    std::vector<hsize_t> extent;
    hsize_t elements = 1;
    bool overflow = false;
    std::string dim_list;
    for (const std::string& dim : dims) {
      const auto it = dimension_sizes.find(dim);
      if (it == dimension_sizes.end()) fail(what + ": unknown dimension '" + dim + "'");
      extent.push_back(it->second);
      if (it->second != 0 && elements > std::numeric_limits<hsize_t>::max() / it->second) {
        overflow = true;
      }
      elements *= it->second;
      dim_list += (dim_list.empty() ? "" : ", ") + dim + "=" + std::to_string(it->second);
    }
    if (overflow || elements != data_size) {
      fail(what + ": data has " + std::to_string(data_size) + " values but dimensions (" +
           dim_list + ") need " + (overflow ? std::string("more") : std::to_string(elements)));
    }
    return extent;
  }

  template <typename T>
  void add_numeric_dimension(const std::string& name, const std::vector<T>& values,
                             const Attributes& attrs) {
    const ElementType type = element_type<T>();
    add_dimension_dataset(name, values.size(), type.file_type, type.memory_type, type.size,
                          values.data(), attrs);
  }

  void add_dimension_dataset(const std::string& name, std::size_t size, hid_t file_type,
                             hid_t memory_type, std::size_t element_size, const void* buffer,
                             const Attributes& attrs) {
    const std::string what = "dimension '" + name + "'";
    require_open(what);
    require_new_name("dimension", name);
    validate_attributes(what, attrs);
    const std::vector<hsize_t> extent{static_cast<hsize_t>(size)};
    Handle dataset =
        create_dataset(what, name, {name}, extent, file_type, memory_type, element_size, buffer);
    // The scale's NAME equal to the dataset name makes it a netCDF coordinate variable.
    check(H5DSset_scale(dataset.get(), name.c_str()), what + ": cannot make dimension scale");
    const int dimension_id = next_dimension_id;
    Handle space = checked(H5Screate(H5S_SCALAR), H5Sclose, what + ": cannot make dataspace");
    Handle attr = checked(H5Acreate2(dataset.get(), "_Netcdf4Dimid", H5T_STD_I32LE, space.get(),
                                     attr_create.get(), H5P_DEFAULT),
                          H5Aclose, what + ": cannot create _Netcdf4Dimid");
    check(H5Awrite(attr.get(), H5T_NATIVE_INT, &dimension_id),
          what + ": cannot write _Netcdf4Dimid");
    write_attributes(dataset.get(), what, attrs);
    // On disk, closing writes the cached chunks: a full disk shows here, not in a destructor.
    check(dataset.close(), what + ": cannot close");
    dimension_sizes[name] = size;
    ++next_dimension_id;
  }

  template <typename T>
  void add_numeric_variable(const std::string& name, const std::vector<std::string>& dims,
                            const std::vector<T>& data, const Attributes& attrs) {
    const ElementType type = element_type<T>();
    add_variable_dataset(name, dims, data.size(), type.file_type, type.memory_type, type.size,
                         data.data(), attrs);
  }

  void add_variable_dataset(const std::string& name, const std::vector<std::string>& dims,
                            std::size_t data_size, hid_t file_type, hid_t memory_type,
                            std::size_t element_size, const void* buffer, const Attributes& attrs,
                            const SlabSource* slabs = nullptr) {
    const std::string what = "variable '" + name + "'";
    require_open(what);
    require_new_name("variable", name);
    if (slabs != nullptr) data_size = elements_of(dims);
    const std::vector<hsize_t> extent = extent_of(what, dims, data_size);
    validate_attributes(what, attrs);
    Handle dataset = create_dataset(what, name, dims, extent, file_type, memory_type, element_size,
                                    buffer, slabs);
    write_attributes(dataset.get(), what, attrs);
    for (std::size_t axis = 0; axis < dims.size(); ++axis) {
      Handle scale = checked(H5Dopen2(file.get(), dims[axis].c_str(), H5P_DEFAULT), H5Dclose,
                             what + ": cannot open dimension '" + dims[axis] + "'");
      check(H5DSattach_scale(dataset.get(), scale.get(), static_cast<unsigned>(axis)),
            what + ": cannot attach dimension '" + dims[axis] + "'");
    }
    check(dataset.close(), what + ": cannot close");
  }

  void validate_strings(const std::string& what, const std::vector<std::string>& values) const {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!is_valid_utf8(values[i])) {
        fail(what + ": value " + std::to_string(i) + " is not valid UTF-8 (or contains NUL)");
      }
    }
  }

  static std::vector<const char*> c_strings(const std::vector<std::string>& values) {
    std::vector<const char*> pointers;
    pointers.reserve(values.size());
    for (const std::string& v : values) pointers.push_back(v.c_str());
    return pointers;
  }
};

void Hdf5Writer::discard(Impl& im) {
  QuietHdf5Errors quiet;
  im.link_create.close();
  im.attr_create.close();
  if (im.storage == WriterStorage::disk) {
    im.close_into_memory();
    im.close_open_objects();
  }
  im.file.close();  // in memory: nothing to flush, so this cannot fail on a full disk
  if (im.temporary_fd >= 0) ::close(std::exchange(im.temporary_fd, -1));
  if (im.temporary_reserved) {
    signal_temporary_set = false;
    im.temporary_reserved = false;
    std::error_code ignored;  // nothing useful to do about a failure in a destructor
    std::filesystem::remove(im.temporary_path, ignored);
  }
}

Hdf5Writer::Hdf5Writer(const std::filesystem::path& final_path, WriterStorage storage)
    : impl_(std::make_unique<Impl>()) {
  QuietHdf5Errors quiet;
  Impl& im = *impl_;
  im.final_path = final_path;
  // A file-size limit (ulimit -f) applies to the memory file that a failed disk-backed write
  // closes into as well, so that rescue would fail and leave HDF5 with a file it cannot
  // close: under such a limit the file is built in memory, as by default.
  rlimit size_limit{};
  if (::getrlimit(RLIMIT_FSIZE, &size_limit) == 0 && size_limit.rlim_cur != RLIM_INFINITY) {
    storage = WriterStorage::memory;
  }
  im.storage = storage;
  try {
    im.target = resolve_output_target(final_path);
  } catch (const std::runtime_error& e) {
    im.fail_output(e.what());
  }
  remove_stale_temporaries(im.target.real);
  // Same directory as the real target (a symlink's target), so that commit()'s rename is
  // atomic and replaces the target, not the link.
  im.temporary_path = im.target.real;
  im.temporary_path += ".tmp-" + std::to_string(static_cast<long long>(::getpid()));
  // EXCL: never clobber a file we did not create (e.g. a second writer to the same target).
  // Reserving the name now makes an unwritable place fail before any work.
  // Noted before it exists, so that a signal as it is created still removes it (the name
  // carries our pid: no other process's file can have it).
  note_temporary(im.temporary_path);
  im.temporary_fd = ::open(im.temporary_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                           0666);  // the umask applies, as for any new file
  if (im.temporary_fd < 0) {
    signal_temporary_set = false;
    im.fail_output("cannot create temporary file " + im.temporary_path.string() + ": " +
                   std::strerror(errno));
  }
  im.temporary_reserved = true;
  try {
    open_file();
  } catch (...) {
    discard(im);
    throw;
  }
}

void Hdf5Writer::open_file() {
  Impl& im = *impl_;
  // On disk, HDF5 reopens the temporary for writing: a read-only mode is given at commit.
  if (im.storage == WriterStorage::memory) im.keep_permissions();

  Handle file_create =
      im.checked(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "cannot make file creation list");
  const unsigned order = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  im.check(H5Pset_link_creation_order(file_create.get(), order), "cannot track link order");
  im.check(H5Pset_attr_creation_order(file_create.get(), order), "cannot track attribute order");
  im.check(H5Pset_obj_track_times(file_create.get(), 0), "cannot switch off times");
  Handle file_access =
      im.checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot make file access list");
  // Same bounds as netCDF-C: creation-order indexes need the 1.8 format, and capping at 1.8
  // keeps the file readable by every netCDF-4 reader still in use.
  im.check(H5Pset_libver_bounds(file_access.get(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18),
           "cannot set library version bounds");
  // SEMI: closing the file fails while any object is still open, instead of silently
  // leaving it open (and unflushed) behind a successful commit().
  im.check(H5Pset_fclose_degree(file_access.get(), H5F_CLOSE_SEMI), "cannot set close degree");
  if (im.storage == WriterStorage::memory) {
    // In memory, grown 1 MiB at a time, never written by HDF5 itself (see the file comment).
    im.check(H5Pset_fapl_core(file_access.get(), std::size_t{1} << 20, 0),
             "cannot select the in-memory driver");
  } else {
    // On disk as it grows (POSIX I/O on the reserved temporary, which H5F_ACC_TRUNC reopens).
    im.check(H5Pset_fapl_sec2(file_access.get()), "cannot select the POSIX file driver");
  }

  im.link_create =
      im.checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot make link creation list");
  im.check(H5Pset_char_encoding(im.link_create.get(), H5T_CSET_UTF8),
           "cannot set link name encoding");
  im.attr_create =
      im.checked(H5Pcreate(H5P_ATTRIBUTE_CREATE), H5Pclose, "cannot make attribute creation list");
  im.check(H5Pset_char_encoding(im.attr_create.get(), H5T_CSET_UTF8),
           "cannot set attribute name encoding");

  if (im.storage == WriterStorage::disk) {
    // HDF5 cannot recover from a disk error inside H5Fcreate (no file id is returned to close
    // into memory, and the library then loops at exit): show first, with our own write(2),
    // that there is room for its first blocks. H5F_ACC_TRUNC below frees them again.
    const std::vector<char> zeros(std::size_t{1} << 16, '\0');
    std::size_t written = 0;
    while (written < zeros.size()) {
      const ssize_t n = ::write(im.temporary_fd, zeros.data() + written, zeros.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) errno = EIO;
        im.fail_output(disk_error_message(errno, zeros.size(), true));
      }
      written += static_cast<std::size_t>(n);
    }
  }
  // The name only identifies the in-memory file inside HDF5 (unique: we hold it EXCL).
  const hid_t file =
      H5Fcreate(im.temporary_path.c_str(), H5F_ACC_TRUNC, file_create.get(), file_access.get());
  if (file < 0) {
    im.fail("cannot create temporary file " + im.temporary_path.string() + ": " +
            hdf5_error_detail());
  }
  im.file = Handle(file, H5Fclose);

  // Provenance in netCDF-C's format; h5netcdf writes the same with its own name.
  unsigned major_version = 0, minor_version = 0, release = 0;
  H5get_libversion(&major_version, &minor_version, &release);
  const std::string properties = "version=2,childsim=" + std::string(childsim::version) +
                                 ",hdf5=" + std::to_string(major_version) + "." +
                                 std::to_string(minor_version) + "." + std::to_string(release);
  // netCDF-C stores _NCProperties as a fixed-length ASCII string, and checks that type.
  Handle type = im.checked(H5Tcopy(H5T_C_S1), H5Tclose, "_NCProperties: cannot make type");
  im.check(H5Tset_size(type.get(), properties.size()), "_NCProperties: cannot size type");
  im.check(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "_NCProperties: cannot pad type");
  Handle space =
      im.checked(H5Screate(H5S_SCALAR), H5Sclose, "_NCProperties: cannot make dataspace");
  Handle attr = im.checked(
      H5Acreate2(im.file.get(), "_NCProperties", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, "_NCProperties: cannot create");
  im.check(H5Awrite(attr.get(), type.get(), properties.c_str()), "_NCProperties: cannot write");
}

Hdf5Writer::~Hdf5Writer() {
  if (!impl_ || impl_->committed) return;
  discard(*impl_);
}

std::string output_error_text(int code, std::size_t bytes) {
  return disk_error_message(code, bytes);
}

void set_interrupt_note(const std::string& note) {
  signal_note_size = 0;
  const std::string line = note.empty() ? note : "\n" + note + "\n";
  if (line.size() > sizeof signal_note) return;
  std::memcpy(signal_note, line.data(), line.size());
  signal_note_size = line.size();
}

void set_hdf5_error_stack(bool print) {
  print_error_stack = print;
}

void remove_temporary_on_signals() {
  struct sigaction action {};
  action.sa_handler = remove_temporary_and_die;
  sigemptyset(&action.sa_mask);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

void Hdf5Writer::set_attribute(const std::string& name, const AttributeValue& value) {
  QuietHdf5Errors quiet;
  impl_->require_open("global attribute '" + name + "'");
  impl_->validate_attributes("global attributes", {{name, value}});
  impl_->write_attribute(impl_->file.get(), "global attributes", name, value);
}

void Hdf5Writer::add_dimension(const std::string& name, const std::vector<std::int64_t>& values,
                               const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->add_numeric_dimension(name, values, attrs);
}

void Hdf5Writer::add_dimension(const std::string& name, const std::vector<double>& values,
                               const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->add_numeric_dimension(name, values, attrs);
}

void Hdf5Writer::add_dimension(const std::string& name, const std::vector<std::string>& values,
                               const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->validate_strings("dimension '" + name + "'", values);
  Handle type = make_utf8_string_type();
  if (type.get() < 0) impl_->fail_hdf5("dimension '" + name + "': cannot make string type");
  const std::vector<const char*> pointers = Impl::c_strings(values);
  impl_->add_dimension_dataset(name, values.size(), type.get(), type.get(), 0, pointers.data(),
                               attrs);
}

void Hdf5Writer::add_variable(const std::string& name, const std::vector<std::string>& dims,
                              const std::vector<std::int32_t>& data, const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->add_numeric_variable(name, dims, data, attrs);
}

void Hdf5Writer::add_variable(const std::string& name, const std::vector<std::string>& dims,
                              const std::vector<std::int64_t>& data, const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->add_numeric_variable(name, dims, data, attrs);
}

void Hdf5Writer::add_variable(const std::string& name, const std::vector<std::string>& dims,
                              const std::vector<double>& data, const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->add_numeric_variable(name, dims, data, attrs);
}

void Hdf5Writer::add_variable(const std::string& name, const std::vector<std::string>& dims,
                              const std::vector<float>& data, const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->add_numeric_variable(name, dims, data, attrs);
}

void Hdf5Writer::add_variable(const std::string& name, const std::vector<std::string>& dims,
                              const std::vector<std::string>& data, const Attributes& attrs) {
  QuietHdf5Errors quiet;
  impl_->validate_strings("variable '" + name + "'", data);
  Handle type = make_utf8_string_type();
  if (type.get() < 0) impl_->fail_hdf5("variable '" + name + "': cannot make string type");
  const std::vector<const char*> pointers = Impl::c_strings(data);
  impl_->add_variable_dataset(name, dims, data.size(), type.get(), type.get(), 0, pointers.data(),
                              attrs);
}

void Hdf5Writer::commit() {
  QuietHdf5Errors quiet;
  Impl& im = *impl_;
  im.require_open("commit");
  if (!im.failure.empty()) im.fail("commit refused after an earlier error: " + im.failure);
  im.link_create.close();
  im.attr_create.close();
  if (im.storage == WriterStorage::disk) {
    commit_on_disk();
    return;
  }
  im.check(H5Fflush(im.file.get(), H5F_SCOPE_GLOBAL), "cannot flush the in-memory file");
  const ssize_t size = H5Fget_file_image(im.file.get(), nullptr, 0);
  if (size < 0) im.fail_hdf5("cannot size the file image");
  std::vector<char> image(static_cast<std::size_t>(size));
  if (H5Fget_file_image(im.file.get(), image.data(), image.size()) != size) {
    im.fail_hdf5("cannot copy the file image");
  }
  if (im.file.close() < 0) im.fail_hdf5("cannot close the in-memory file");
  // From here on only the disk can fail; the destructor removes the temporary, since
  // committed stays false, and the file under the final name is untouched.
  const auto disk_error = [&] {
    const std::string message = disk_error_message(errno, image.size());
    im.failure = message;
    im.fail_output(message);
  };
  std::size_t written = 0;
  while (written < image.size()) {
    const ssize_t n = ::write(im.temporary_fd, image.data() + written, image.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      disk_error();
    }
    written += static_cast<std::size_t>(n);
  }
  // A full disk may only show when the data reach it (NFS, delayed allocation).
  if (::fsync(im.temporary_fd) != 0 && errno != EINVAL) disk_error();
  if (::close(std::exchange(im.temporary_fd, -1)) != 0) disk_error();
  im.rename_onto_target();
}

void Hdf5Writer::commit_on_disk() {
  Impl& im = *impl_;
  // A full disk shows here at the latest (the metadata and the chunks still cached): an
  // OutputError, and the destructor closes the file into memory and removes the temporary.
  im.check(H5Fflush(im.file.get(), H5F_SCOPE_GLOBAL), "cannot flush the file");
  if (im.file.close() < 0) im.fail_hdf5("cannot close the file");
  const auto disk_error = [&] {
    const std::string message = disk_error_message(errno, 0, true);
    im.failure = message;
    im.fail_output(message);
  };
  // fsync of our descriptor flushes the file HDF5 wrote through its own (same inode).
  if (::fsync(im.temporary_fd) != 0 && errno != EINVAL) disk_error();
  im.keep_permissions();
  if (::close(std::exchange(im.temporary_fd, -1)) != 0) disk_error();
  im.rename_onto_target();
}

void Hdf5Writer::add_variable_slabs(const std::string& name, const std::vector<std::string>& dims,
                                    ElementKind kind, const SlabSource& source,
                                    const Attributes& attrs) {
  QuietHdf5Errors quiet;
  ElementType type{};
  switch (kind) {
    case ElementKind::int32:
      type = element_type<std::int32_t>();
      break;
    case ElementKind::int64:
      type = element_type<std::int64_t>();
      break;
    case ElementKind::float64:
      type = element_type<double>();
      break;
  }
  impl_->add_variable_dataset(name, dims, 0, type.file_type, type.memory_type, type.size, nullptr,
                              attrs, &source);
}

const std::filesystem::path& Hdf5Writer::temporary_path() const {
  return impl_->temporary_path;
}

}  // namespace childsim::io
