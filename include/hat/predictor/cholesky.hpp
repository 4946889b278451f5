// SPDX-License-Identifier: MIT
// cholesky: solves a small symmetric positive definite system, the least-squares models' core.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include <hat/config.hpp>

namespace hat {

/// Factors a [d, d] (row-major, symmetric positive definite) in place into L (its lower
/// triangle; the upper one is left as it was). Throws config_error when a pivot is not positive:
/// the rows do not determine the model (too few of them, or columns that repeat one another).
inline void cholesky_factor(std::span<double> a, std::size_t d) {
  HAT_ASSERT(a.size() == d * d, "cholesky_factor: a must be [d, d]");
  for (std::size_t j = 0; j < d; ++j) {
    double p = a[j * d + j];
    for (std::size_t k = 0; k < j; ++k) p -= a[j * d + k] * a[j * d + k];
    if (!(p > 0)) throw config_error("least squares: the rows do not determine the model (too few, or degenerate)");
    a[j * d + j] = std::sqrt(p);
    for (std::size_t i = j + 1; i < d; ++i) {
      double s = a[i * d + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * d + k] * a[j * d + k];
      a[i * d + j] = s / a[j * d + j];
    }
  }
}

/// Solves L L^T x = b in place (b [d] becomes x) with L from cholesky_factor.
inline void cholesky_solve(std::span<const double> l, std::span<double> b, std::size_t d) {
  HAT_ASSERT(l.size() == d * d && b.size() == d, "cholesky_solve: l must be [d, d] and b [d]");
  for (std::size_t i = 0; i < d; ++i) {
    double s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= l[i * d + k] * b[k];
    b[i] = s / l[i * d + i];
  }
  for (std::size_t i = d; i-- > 0;) {
    double s = b[i];
    for (std::size_t k = i + 1; k < d; ++k) s -= l[k * d + i] * b[k];
    b[i] = s / l[i * d + i];
  }
}

}  // namespace hat
