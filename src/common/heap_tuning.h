// Process-wide allocator settings for a process that moves model-sized buffers (~300 KB)
// several times a second: encoded frames, received bodies, parameter copies.
//
// With glibc's defaults such a buffer is mmapped, or the heap top it leaves free is trimmed
// back to the kernel, on almost every exchange; the next one then page-faults ~300 KB of
// fresh zeroed pages in. Measured on the exchange bench (75k floats, loopback, idle VM):
// median round trip 1.45 ms with the defaults, 0.41 ms with model-sized buffers kept in the
// heap. Costs at most a few MB of freed heap kept for reuse.
#pragma once

namespace gl {

// Call once at the start of main(), before threads start. No-op off glibc.
void KeepModelBuffersInHeap();

}  // namespace gl
