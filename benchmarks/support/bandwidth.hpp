// SPDX-License-Identifier: MIT
// measure_bandwidth: this machine's memory bandwidth right now, the floor memory-bound kernels are held to.
#pragma once

#include <xmmintrin.h>  // _mm_prefetch

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace hat_bench {

// This machine's memory bandwidth, measured next to each round (it is shared, and what it
// gives moves by 2x): STREAM's triad a = b + s c over arrays far larger than the caches,
// bytes = 3 x 4 per element (STREAM's convention, which does not count the write-allocate
// read), and a read-only stream (a sum over one array: what decoding does). Best of `reps`,
// as STREAM reports.
struct bandwidth {
  double triad_gbs, read_gbs;
};
inline bandwidth measure_bandwidth() {
  const std::size_t n = std::size_t{1} << 25;  // 128 MB per array
  static std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
  double triad = 1e30, read = 1e30;
  float sum = 0;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0f * c[i];
    triad = std::min(triad, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (const bool l2 : {false, true}) {
      t0 = std::chrono::steady_clock::now();
      float acc[16] = {};
      for (std::size_t i = 0; i < n; i += 16) {
        // prefetched 2 kB ahead, into L1 or L2 as the few-row kernels do (which one pays depends
        // on the CPU: hat::detail::prefetch_to_l2): the floor is the best software gets
        const char* ahead = reinterpret_cast<const char*>(b.data() + std::min(i + 512, n - 16));
        if (l2)
          _mm_prefetch(ahead, _MM_HINT_T1);
        else
          _mm_prefetch(ahead, _MM_HINT_T0);
        for (std::size_t u = 0; u < 16; ++u) acc[u] += b[i + u];
      }
      sum += acc[0] + acc[15];
      read = std::min(read, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  volatile float sink = a[n / 2] + sum;
  (void)sink;
  return {3.0 * 4.0 * static_cast<double>(n) / triad / 1e9, 4.0 * static_cast<double>(n) / read / 1e9};
}

}  // namespace hat_bench
