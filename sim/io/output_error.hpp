// output_error: the error for an output file that could not be written (a full disk, a
// special file, a missing directory), as opposed to a bad value handed to the writer.
//
// Front ends map it to their own type: the CLI prints it as one line (exit 1), Python raises
// `childsim.OutputError` (an OSError). Whoever throws it has left the file under the final
// name untouched and no temporary behind.
#pragma once

#include <cstddef>    // std::size_t
#include <stdexcept>  // std::runtime_error
#include <string>     // std::string

namespace childsim::io {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a failed write says: strerror(code), and for a full disk or a file-size limit "(the
/// file needs 1.4 MB; free space or choose another place)" with `bytes` (hdf5_writer.cpp).
std::string output_error_text(int code, std::size_t bytes);

}  // namespace childsim::io
