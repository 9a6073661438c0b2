// Process resource figures for progress reports and benchmarks.
#pragma once

#include <sys/resource.h>

namespace cryptounet::henn {

// Peak resident set size of this process so far, in MiB (Linux ru_maxrss is in KiB).
inline double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace cryptounet::henn
