// Scheduling priority of the calling thread. On Linux every thread has its own nice value,
// and threads inherit their creator's, so a thread started before the call keeps its own.
// The node lowers its network (io) thread below its training thread: under a flood of frames
// on a shared core the io thread then gets the CPU time training leaves over, instead of half.
#pragma once

#include "common/status.h"

namespace gl {

// Adds `increment` (> 0 lowers the priority; capped at nice 19) to the calling thread's nice
// value. No-op for increment <= 0. An error says why (e.g. a sandbox that forbids it); the
// thread then keeps its priority.
Status LowerThisThreadPriority(int increment);

}  // namespace gl
