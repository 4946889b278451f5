// SPDX-License-Identifier: MIT
// Seeded train/valid/test split of a dataset's row indices (HAT: 80/10/10, floor).
#pragma once

#include <cstddef>
#include <numeric>
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/space/random.hpp>

namespace hat {

struct data_split {
  std::vector<std::size_t> train, valid, test;
};

/// 0..n-1 shuffled with `seed` (Fisher-Yates on hat::rng).
inline std::vector<std::size_t> shuffled_rows(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  rng g(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[static_cast<std::size_t>(g.below(i))]);
  return idx;
}

/// Shuffles 0..n-1 with `seed` (shuffled_rows), then cuts floor(train * n) and floor(valid * n)
/// rows; the test split takes the rest. HAT's shuffle was unseeded.
inline data_split split_rows(std::size_t n, std::uint64_t seed, double train = 0.8, double valid = 0.1) {
  HAT_ASSERT(train >= 0 && valid >= 0 && train + valid <= 1.0, "split_rows: fractions must be in [0, 1]");
  const auto idx = shuffled_rows(n, seed);
  const auto n_train = static_cast<std::size_t>(train * static_cast<double>(n));
  const auto n_valid = static_cast<std::size_t>(valid * static_cast<double>(n));
  data_split s;
  s.train.assign(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n_train));
  s.valid.assign(idx.begin() + static_cast<std::ptrdiff_t>(n_train),
                 idx.begin() + static_cast<std::ptrdiff_t>(n_train + n_valid));
  s.test.assign(idx.begin() + static_cast<std::ptrdiff_t>(n_train + n_valid), idx.end());
  return s;
}

}  // namespace hat
