// Process resources: figures for progress reports and benchmarks, and giving memory back.
#pragma once

#include <malloc.h>
#include <sys/resource.h>

#include "ckks/buffer.h"

namespace cryptounet::henn {

// Peak resident set size of this process so far, in MiB (Linux ru_maxrss is in KiB).
inline double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Gives the memory an inference leaves behind back to the system: the engine's buffer pool, and the free heap that
// glibc would otherwise keep (GiBs after a U-Net job). For a server going idle.
inline void release_memory() {
  ckks::pool_release();
  ::malloc_trim(0);
}

}  // namespace cryptounet::henn
