// SPDX-License-Identifier: MIT
// median: what the tables report of their repeated rounds (the upper median for an even count).
#pragma once

#include <algorithm>
#include <vector>

namespace hat_bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace hat_bench
