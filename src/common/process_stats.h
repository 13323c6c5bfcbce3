// What this process has used so far, from /proc and the kernel's clocks: peak resident set
// size, CPU time of the calling thread, and the machine's 1-minute load average. Any thread.
#pragma once

namespace gl {

// Peak resident set size (VmHWM) in kB, or -1 if /proc is unavailable.
long PeakRssKb();

// CPU seconds the calling thread has run (CLOCK_THREAD_CPUTIME_ID).
double ThreadCpuSeconds();

// The 1-minute load average (/proc/loadavg), or -1 if unavailable.
double LoadAverage1();

}  // namespace gl
