// SPDX-License-Identifier: MIT
// ridge_loo: ridge regression whose penalty is chosen by leave-one-out error, for fits on a few
// rows (a latency predictor adapted to a new device from 10-50 measurements).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include <hat/config.hpp>
#include <hat/predictor/cholesky.hpp>

namespace hat {

/// The penalties ridge_loo tries by default: 1e-4 ... 1e4 (columns standardised, so a penalty of
/// 1 weighs a coefficient like one row of unit residual).
inline constexpr std::array<double, 9> ridge_penalties{1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4};

struct ridge_fit {
  std::vector<double> w;                // [cols] the coefficients
  double penalty = 0;                   // the one chosen
  std::vector<double> loo_predictions;  // [n] each row's prediction by the fit without it
  double loo_mse = 0;                   // mean squared leave-one-out error of that penalty
};

/// Minimises |x w - y|^2 + penalty * |w[free:]|^2 for x [n, cols] row-major and y [n]: the
/// first `free` columns (an intercept, a prior prediction) are not penalised. Each penalty in
/// `penalties` is scored by its exact leave-one-out error, e_i / (1 - h_ii) with h the hat
/// matrix's diagonal (no refits), and the lowest wins (ties: the larger penalty, the smoother
/// model). Throws config_error when n <= free or the rows do not determine the free columns.
inline ridge_fit ridge_loo(std::span<const double> x, std::span<const double> y, std::size_t cols, std::size_t free,
                           std::span<const double> penalties = ridge_penalties) {
  const std::size_t n = y.size();
  HAT_ASSERT(x.size() == n * cols && free <= cols && !penalties.empty(), "ridge_loo: x must be [n, cols], free <= cols");
  if (n <= free)
    throw config_error("least squares: " + std::to_string(n) + " rows cannot fit " + std::to_string(free) +
                       " unpenalised coefficients");
  std::vector<double> gram(cols * cols, 0.0), xty(cols, 0.0);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t i = 0; i < cols; ++i) {
      xty[i] += x[r * cols + i] * y[r];
      for (std::size_t j = 0; j < cols; ++j) gram[i * cols + j] += x[r * cols + i] * x[r * cols + j];
    }
  double scale = 0;  // a jitter relative to the Gram matrix keeps exactly collinear free columns solvable
  for (std::size_t i = 0; i < cols; ++i) scale = std::max(scale, gram[i * cols + i]);
  ridge_fit best;
  best.loo_mse = std::numeric_limits<double>::infinity();
  std::vector<double> a(cols * cols), w(cols), v(cols), loo(n);
  for (std::size_t p = penalties.size(); p-- > 0;) {
    std::copy(gram.begin(), gram.end(), a.begin());
    for (std::size_t i = 0; i < cols; ++i) a[i * cols + i] += (i >= free ? penalties[p] : 0.0) + 1e-12 * scale;
    cholesky_factor(a, cols);
    std::copy(xty.begin(), xty.end(), w.begin());
    cholesky_solve(a, w, cols);
    double mse = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const auto row = x.subspan(r * cols, cols);
      std::copy(row.begin(), row.end(), v.begin());
      cholesky_solve(a, v, cols);
      double h = 0, fit = 0;
      for (std::size_t i = 0; i < cols; ++i) h += row[i] * v[i], fit += row[i] * w[i];
      const double e = (y[r] - fit) / std::max(1.0 - h, 1e-9);
      loo[r] = y[r] - e;
      mse += e * e;
    }
    mse /= static_cast<double>(n);
    if (mse < best.loo_mse) best = {w, penalties[p], loo, mse};
  }
  if (best.w.empty()) throw config_error("least squares: the leave-one-out error is not a finite number");
  return best;
}

}  // namespace hat
