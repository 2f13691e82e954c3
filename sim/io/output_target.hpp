// output_target: where an output file really goes, and whether childsim may replace it.
//
// An output path is accepted only if it names a regular file or a path that does not exist
// yet; a directory, a device (`/dev/null`), a FIFO or a socket is refused with a message, so
// that `-o` never turns a special file into a plain one. A symbolic link is followed (up to
// 40 links, like the kernel): the file is written beside the link's real target and renamed
// onto it, so the link itself is kept and keeps pointing at the new results. The existing
// file's permission bits (and, when we may, its owner) are given to the new file.
//
// Temporary files are named "<real target>.tmp-<pid>". One left behind by a process that no
// longer exists (killed during the write) is removed the next time the same target is written.
#pragma once

#include <sys/types.h>  // mode_t, uid_t, gid_t

#include <filesystem>  // std::filesystem::path
#include <optional>    // std::optional
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim::io {

/// The file an output path resolves to, and the attributes the new file should keep.
struct OutputTarget {
  std::filesystem::path requested;  ///< the path as given
  std::filesystem::path real;       ///< after following symbolic links: the file replaced
  bool exists = false;              ///< `real` is an existing regular file
  mode_t mode = 0;                  ///< permission bits of the existing file (if it exists)
  uid_t owner = 0;                  ///< owner and group of the existing file
  gid_t group = 0;
};

/// Resolve `requested` and check that it can be written: not empty, its directory exists and
/// is writable, and it is a regular file or does not exist. Throws std::runtime_error with a
/// message naming the path and what it is (e.g. "is a character device, not a regular file").
OutputTarget resolve_output_target(const std::filesystem::path& requested);

/// Remove "<real>.tmp-<pid>" files whose process no longer runs; returns what was removed.
std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& real);

/// "a directory", "a character device", "a FIFO (named pipe)", … for a file-type mode.
std::string describe_file_type(mode_t mode);

}  // namespace childsim::io
