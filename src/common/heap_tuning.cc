#include "common/heap_tuning.h"

#include <cstdlib>  // defines __GLIBC__ on glibc, so it must come before the test below

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace gl {

void KeepModelBuffersInHeap() {
#if defined(__GLIBC__)
  // Allocations below 4 MB come from the heap (a model frame is ~300 KB), and up to 16 MB of
  // free heap top is kept rather than trimmed. Setting either fixes both (glibc otherwise
  // adapts them at run time, which is what let the trim hit every exchange).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

}  // namespace gl
