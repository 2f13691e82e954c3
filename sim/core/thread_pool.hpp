// thread_pool: the threads that share the loops of one replicate (sim/core/parallel.hpp).
//
// A loop is split into units (blocks or chunks of rows), and the units into one share per
// thread: the caller's share is the last units (the newest rows, which the serial code between
// loops touches most), the helper's the share before, and so on, so that each thread works on
// the same rows in every loop of a month and finds them in its own core's cache. The calling
// thread publishes the loop and starts on its share at once; the pool's other threads join
// when they wake. A thread done with its share takes the units nobody has taken yet from the
// others' shares. The caller then waits only for the units already taken, never for a thread
// that has not started: on a busy machine, where the kernel may not run a helper thread for
// milliseconds, the caller simply does the units itself (a loop costs at most what it costs on
// one thread, plus the wait for a unit in progress). On a quiet machine the helpers are awake:
// after a loop each keeps looking for the next one for a short while (`spin_microseconds`,
// about the gap between two loops of a month) and only then sleeps, so the ~20 loops of a
// month do not each pay a wake-up (tens of microseconds on a virtual machine, where waking a
// sleeping core goes through the hypervisor).
//
// Why not OpenMP's own teams: an OpenMP parallel region ends at a barrier that waits for every
// thread of the team, started or not, and its idle threads either spin (which starves the
// thread with work on a shared machine: a 2-thread run took 3.7 times as long as a 1-thread
// run, issue #14) or sleep (and each of the ~4,000 regions of a replicate then waits for a
// wake-up: 2 threads were 1.3 times faster than 1 instead of 2). Results never depend on which
// thread runs a unit: parallel.hpp's rule (per-unit scratch merged in unit order).
//
// Besides loops, the pool runs one job at a time beside the caller (start_job, finish_job;
// par::Beside): a whole step that shares no data with the caller's next steps, taken by the
// first pool thread that looks for work and run there serially while the caller goes on with
// its own steps, whose loops then have one thread fewer until the job is done. A job nobody has
// taken when the caller needs it is run by the caller.
#pragma once

#include <cstddef>  // std::size_t

namespace childsim::par {

/// The signature of one unit of work: `participant` is the index of the thread running it
/// (0 = the caller; distinct among the threads running the same loop, < `participants`), `unit`
/// the unit's index.
using UnitFn = void (*)(void* context, std::size_t participant, std::size_t unit);

/// Runs call(context, participant, unit) once for every unit in [0, units), with the caller and
/// at most `participants` − 1 pool threads. Participant p runs its share [units·q/P,
/// units·(q+1)/P) first, in order (P = `participants`, q = P − 1 − p: the caller's share is
/// the last), then what the others have not yet taken of theirs, from their ends. Returns
/// when every unit has run. Must not be called from inside a unit (see
/// in_pool_loop: loops nested in a unit run serially).
void run_units(std::size_t units, std::size_t participants, UnitFn call, void* context);

/// Posts call(context, 0, 0) as a job for the first pool thread that looks for work, which runs
/// it while the caller goes on with other loops (those then run without that thread until it
/// is done, and it joins them as a helper that woke late). False, and nothing posted, inside
/// a unit of a pool loop, while the pool runs the loops on the caller alone (a busy machine), or
/// while another job is out: the caller then runs it itself. Every posted job must be finished
/// (finish_job) by the thread that posted it, before it posts another.
bool start_job(UnitFn call, void* context);

/// Returns once the job posted by start_job has run: runs it on the caller if no pool thread
/// has taken it yet, else waits for the thread that did. Rethrows what the job threw.
void finish_job();

/// Whether a machine with `cores` usable cores, on which `runnable` threads of all processes
/// are runnable now (/proc/loadavg), `ours` of them this process's, leaves a core for a pool
/// thread beside the caller. The pool asks before it ends a period in which the caller ran
/// the loops alone (helpers that kept it waiting: a busy machine); true when unknown
/// (runnable < 0). Results never depend on it.
bool core_free_for_helper(int runnable, int ours, int cores);

/// The share of a core below which the caller counts as preempted (caller_preempted).
inline constexpr double min_caller_share = 0.9;

/// Whether the caller, which got `cpu_seconds` of CPU time in `wall_seconds` while the pool's
/// helpers were in use, was kept off its core by the kernel (less than min_caller_share of
/// the wall time): the machine has no core for a helper, which then only takes turns with the
/// caller. The pool then runs the loops on the caller alone for a period (as after stalls).
/// False when unknown (negative CPU time). Results never depend on it.
bool caller_preempted(double cpu_seconds, double wall_seconds);

/// The share of the wall time (threads' waiting seconds per second, summed over the caller
/// and the helpers) below which this process's threads count as not kept waiting for a core
/// (waited_for_cores).
inline constexpr double max_quiet_wait_share = 0.1;

/// Whether this process's threads, which waited `waited_seconds` in all for a core (their
/// run_delay in /proc/<tid>/schedstat) during `wall_seconds`, were kept waiting: at least
/// max_quiet_wait_share of the wall time. With another CPU-bound process beside the caller and
/// a helper on two cores, three threads take turns on two cores and ours wait about 2/3 of
/// the time between them; on a quiet machine a system thread that runs for a moment costs
/// them a few per cent at most. True when unknown (negative): the other signs decide alone.
bool waited_for_cores(double waited_seconds, double wall_seconds);

/// Called between two months of a replicate, and before its first (no loop running), when
/// it runs on more than one thread. When the pool ran loops on the caller alone during the
/// month (stalls or a preempted caller: a busy machine), or /proc/loadavg shows no core free
/// for a helper now (another process running: core_free_for_helper) and this process's
/// threads were kept waiting for a core since the last call (waited_for_cores: a reading of
/// /proc/loadavg alone also catches a system thread that runs for a moment), the next month is run
/// alone as a whole: alone_this_month() is true, so par::n_threads() is 1 and
/// the month's loops are made as at 1 thread (one block, no per-block scratch or merges; with
/// the loops merely run alone, the caller still paid for those: 2 % more CPU than 1 thread
/// with one busy process alongside). After each such month the helpers are tried again when
/// /proc/loadavg shows a core free for one (core_free_for_helper). Results never depend on it
/// (tested: a replicate whose thread count changes every month gives the same bytes).
void note_month();

/// Whether the pool runs the current month on the caller alone (note_month).
bool alone_this_month();

/// Whether the pool may run loops on the caller alone when the machine looks busy (stalls, a
/// preempted caller, another process at a month's start): true unless switched off here or
/// by the environment variable CHILDSIM_POOL_ALONE=never (read once when the pool starts).
/// Results never depend on it. The tests of thread-count identity switch it off: on a busy
/// test machine (ctest running two tests at once) the pool would otherwise run most months
/// as at 1 thread, and the tests would compare 1 thread with 1 thread.
void allow_alone(bool allowed);

/// True on a thread that is running a unit of a pool loop (its own loops must run serially).
bool in_pool_loop();

/// How long (microseconds) an idle pool thread keeps looking for the next loop before it
/// sleeps. Default 100 µs; the environment variable CHILDSIM_SPIN_US (0–100000) overrides it,
/// read once when the pool starts. Results never depend on it.
long spin_microseconds();

}  // namespace childsim::par
