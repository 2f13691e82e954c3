// python_launcher: run a command of the Python analysis package (`childsim.<module>.main`) in
// Debian's Python, for the subcommands whose work is analysis rather than simulation
// (`compare` writes the briefing page with matplotlib).
#pragma once

#include <string>  // std::string
#include <vector>  // std::vector

namespace childsim::cli {

/// Run `childsim.<module>.main(args)` in /usr/bin/python3 ($CHILDSIM_PYTHON overrides) with the
/// checkout's `analysis/` directory on the path; its stdout and stderr are ours and its exit
/// code is returned. A missing Python or package is one clear line and exit code 1.
int run_python_main(const std::string& module, const std::vector<std::string>& args);

/// As run_python_main, but Python replaces the running process (same process id) instead of
/// running as its child; returns (1, after printing why) only when that fails. For
/// `childsim-mpi sweep`: the process that mpirun started becomes the Python that joins the
/// MPI job (mpi4py), which a forked child could not do.
int exec_python_main(const std::string& module, const std::vector<std::string>& args);

}  // namespace childsim::cli
