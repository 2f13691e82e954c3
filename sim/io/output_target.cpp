// output_target: resolving and checking an output path (symbolic links, special files, stale
// temporaries).
#include "sim/io/output_target.hpp"

#include <fmt/format.h>  // fmt::format

#include <signal.h>    // kill
#include <sys/stat.h>  // lstat, stat, S_IS*
#include <unistd.h>    // access, getpid

#include <cerrno>        // errno, ESRCH
#include <cstring>       // std::strerror
#include <stdexcept>     // std::runtime_error
#include <system_error>  // std::error_code

namespace childsim::io {

namespace fs = std::filesystem;

namespace {

// The kernel's own limit on symbolic links in one lookup (MAXSYMLINKS on Linux).
constexpr int kMaxSymlinks = 40;

}  // namespace

std::string describe_file_type(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

OutputTarget resolve_output_target(const fs::path& requested) {
  if (requested.empty()) {
    throw std::runtime_error("the output path is empty: give a file name such as 'results.h5'");
  }
  OutputTarget target;
  target.requested = requested;
  fs::path path = requested;
  struct stat st {};
  for (int links = 0;; ++links) {
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        throw std::runtime_error(
            fmt::format("output path '{}': {}", path.string(), std::strerror(errno)));
      }
      break;  // a new file
    }
    if (!S_ISLNK(st.st_mode)) {
      target.exists = true;
      break;
    }
    if (links == kMaxSymlinks) {
      throw std::runtime_error(
          fmt::format("output path '{}': more than {} symbolic links (a loop?)", requested.string(),
                      kMaxSymlinks));
    }
    std::error_code error;
    const fs::path next = fs::read_symlink(path, error);
    if (error) {
      throw std::runtime_error(
          fmt::format("output path '{}': cannot read link: {}", path.string(), error.message()));
    }
    path = next.is_absolute() ? next : path.parent_path() / next;
  }
  target.real = path;
  if (target.exists) {
    if (!S_ISREG(st.st_mode)) {
      const std::string via = path == requested
                                  ? std::string()
                                  : fmt::format(" (the target of '{}')", requested.string());
      throw std::runtime_error(fmt::format(
          "output path '{}'{} is {}, not a regular file: childsim writes only regular files "
          "(give a file name)",
          path.string(), via, describe_file_type(st.st_mode)));
    }
    target.mode = st.st_mode & 07777;
    target.owner = st.st_uid;
    target.group = st.st_gid;
  }
  if (!path.has_filename()) {
    throw std::runtime_error(
        fmt::format("output path '{}' names a directory, not a file", requested.string()));
  }
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw std::runtime_error(fmt::format("output directory '{}' does not exist", dir.string()));
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw std::runtime_error(fmt::format("output directory '{}' is not writable: {}", dir.string(),
                                         std::strerror(errno)));
  }
  return target;
}

std::vector<fs::path> remove_stale_temporaries(const fs::path& real) {
  std::vector<fs::path> removed;
  const fs::path dir = real.parent_path().empty() ? fs::path(".") : real.parent_path();
  const std::string prefix = real.filename().string() + ".tmp-";
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error) return removed;  // nothing to clean if the directory cannot be listed
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(digits);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    // Only a process that no longer exists is known not to be writing it.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    if (!entry.is_regular_file(error)) continue;
    if (fs::remove(entry.path(), error)) removed.push_back(entry.path());
  }
  return removed;
}

}  // namespace childsim::io
