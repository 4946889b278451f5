// SPDX-License-Identifier: MIT
// linear_model: least-squares latency model, the reference a learned predictor must beat.
#pragma once

#include <algorithm>  // std::copy
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <hat/config.hpp>
#include <hat/predictor/cholesky.hpp>

namespace hat {

/// A least-squares solver: the x [cols] minimising |a x - y| for a [n, cols] row-major and
/// y [n], the minimum-norm one where a is rank-deficient. interop/xtensor.hpp gives one through
/// LAPACK (lapack_least_squares, xt::linalg::lstsq); null means linear_model's own normal
/// equations, which need no LAPACK.
using least_squares_solver = std::vector<double> (*)(std::span<const double> a, std::span<const double> y,
                                                     std::size_t cols);

/// y = w . x + b fitted by least squares on normalised features.
template <std::size_t In>
class linear_model {
 public:
  static constexpr std::size_t inputs = In;

  /// rows: [n, In] row-major; y: [n]. Without a solver: the normal equations in double with a
  /// tiny ridge term (collinear features such as HAT's constant encoder_layer_num make them
  /// singular without it); with one (say lapack_least_squares), its solution, and no ridge.
  void fit(std::span<const double> rows, std::span<const double> y, double ridge = 1e-8,
           least_squares_solver solve = nullptr) {
    HAT_ASSERT(rows.size() == y.size() * In, "linear_model::fit: rows must be [n, In]");
    constexpr std::size_t D = In + 1;
    if (solve) {
      std::vector<double> a(y.size() * D);  // the design matrix: the features, then 1 for the intercept
      for (std::size_t r = 0; r < y.size(); ++r) {
        for (std::size_t i = 0; i < In; ++i) a[r * D + i] = rows[r * In + i];
        a[r * D + In] = 1.0;
      }
      const std::vector<double> w = solve(a, y, D);
      HAT_ASSERT(w.size() == D, "linear_model::fit: the solver returned another number of coefficients");
      std::copy(w.begin(), w.end(), w_.begin());
      return;
    }
    // The normal equations, solved by Cholesky.
    std::vector<double> a(D * D, 0.0), x(D);
    std::array<double, D> rhs{};
    for (std::size_t r = 0; r < y.size(); ++r) {
      for (std::size_t i = 0; i < In; ++i) x[i] = rows[r * In + i];
      x[In] = 1.0;
      for (std::size_t i = 0; i < D; ++i) {
        rhs[i] += x[i] * y[r];
        for (std::size_t j = 0; j < D; ++j) a[i * D + j] += x[i] * x[j];
      }
    }
    for (std::size_t i = 0; i < In; ++i) a[i * D + i] += ridge * (1.0 + a[i * D + i]);
    cholesky_factor(a, D);
    cholesky_solve(a, rhs, D);
    w_ = rhs;
  }

  double predict(std::span<const double> x /*[In]*/) const noexcept {
    double y = w_[In];
    for (std::size_t i = 0; i < In; ++i) y += w_[i] * x[i];
    return y;
  }

  /// [In + 1]: the weights, then the intercept.
  std::span<const double> coefficients() const noexcept { return w_; }
  std::span<double> coefficients() noexcept { return w_; }

 private:
  std::array<double, In + 1> w_{};
};

}  // namespace hat
