// output_error: the error for an output file that could not be written (a full disk, a
// special file, a missing directory), as opposed to a bad value handed to the writer.
//
// Front ends map it to their own type: the CLI prints it as one line (exit 1), Python raises
// `childsim.OutputError` (an OSError). Whoever throws it has left the file under the final
// name untouched and no temporary behind.
#pragma once

#include <stdexcept>  // std::runtime_error

namespace childsim::io {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace childsim::io
