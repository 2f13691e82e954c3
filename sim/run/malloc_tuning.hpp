// malloc_tuning: keep the memory of the monthly step's buffers in the process between months.
//
// Why: the monthly step allocates and frees the same large vectors every month (scratch rows,
// queues, compaction copies; issue #14). With glibc's defaults, blocks of more than 128 kB
// start out as their own mmap() and freed memory at the top of the heap is returned to the
// kernel (trimmed) once it exceeds twice that threshold, so each month takes fresh pages and
// pays a page fault for each 4 kB of them: about 24,000 minor faults and 0.1-0.2 s of system
// time per Changning baseline replicate, ~4 % of its time at 1 thread (docs/performance.md).
// Serving blocks up to 32 MiB from the heap and keeping up to 64 MiB of freed heap lets each
// month reuse the pages of the month before (11,000 faults, most of them the first month's).
//
// The bounds keep memory flat: blocks above 32 MiB (the whole-Shanghai pack's agent columns)
// stay separate mappings, which grow in place (mremap) and go back to the kernel when freed,
// as before; at most 64 MiB of free heap is kept, and it is what the next month reuses.
// Results never depend on it. Only for programs (childsim, childsim_bench): the Python module
// is a library inside someone else's process and leaves that process's malloc alone.
#pragma once

namespace childsim::run {

/// Sets glibc's M_MMAP_THRESHOLD (32 MiB) and M_TRIM_THRESHOLD (64 MiB), unless the user
/// tuned malloc through GLIBC_TUNABLES (glibc.malloc.*) or MALLOC_*_ environment variables
/// (then nothing is changed). Call first thing in main(), before threads exist. A no-op without
/// glibc.
void tune_malloc_for_monthly_buffers();

}  // namespace childsim::run
