#include "common/memory.h"

#include <malloc.h>

#include <cstdlib>
#include <string>

namespace stilts {

namespace {
bool retaining = false;
}  // namespace

bool retain_freed_memory() {
  const char* opt = std::getenv("STILTS_RETAIN_MEMORY");
  if (opt != nullptr && std::string(opt) == "0") return false;
  // M_MMAP_MAX 0: every block comes from the heap, whose freed chunks are reused. M_TRIM_THRESHOLD at
  // its largest: the heap is never shrunk behind the process's back (release_freed_memory does it
  // on request).
  retaining = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 0x7fffffff) == 1;
  return retaining;
}

bool retaining_freed_memory() { return retaining; }

void release_freed_memory() { malloc_trim(0); }

}  // namespace stilts
