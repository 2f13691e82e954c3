// openmp_wait: make idle OpenMP threads sleep instead of spinning, unless the user chose.
//
// Why: libgomp's default lets a thread that waits at a barrier spin for a while before it
// sleeps. On a machine whose cores are shared with other work (a planner's laptop, CI running
// two tests at once) the spinning thread holds a core that the thread with work needs, and a
// 2-thread run of the baseline took 3.7x the wall time of a 1-thread run (issue #14). Passive
// waiting costs about 13 % on an idle machine (docs/performance.md) and never multiplies.
//
// libgomp reads OMP_WAIT_POLICY (and GOMP_SPINCOUNT) once, when the library is loaded, before
// main() runs, so setting the variable inside the process is too late. The programs therefore
// set it and re-execute themselves once, at the top of main(), before any other work. A user
// who sets OMP_WAIT_POLICY or GOMP_SPINCOUNT keeps their choice. Results never depend on it.
#pragma once

namespace childsim::run {

/// The variable set when the environment chose nothing (the program's own default).
inline constexpr const char* kDefaultWaitPolicy = "passive";

/// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, set OMP_WAIT_POLICY=passive and
/// re-execute the running program with the same arguments (so the OpenMP runtime reads it).
/// Returns normally when nothing needs doing or when re-execution is impossible (the run then
/// proceeds with the runtime's default: slower on a busy machine, same results).
/// Call first thing in main(), before threads or MPI exist.
void ensure_passive_openmp_wait(char** argv);

}  // namespace childsim::run
