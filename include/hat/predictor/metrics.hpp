// SPDX-License-Identifier: MIT
// Accuracy of a latency predictor: RMSE, MAPE, share within +-10 %, Kendall's tau.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include <hat/config.hpp>

namespace hat {

struct predictor_metrics {
  double rmse_ms = 0;      // root mean squared error, ms
  double mape = 0;         // mean |predicted - measured| / measured (a fraction, not %)
  double within10 = 0;     // share of rows predicted within +-10 % of the measurement
  double kendall_tau = 0;  // rank agreement (tau-b), what a search that compares candidates needs
  std::size_t rows = 0;
};

/// Kendall's tau-b: concordant minus discordant pairs over the geometric mean of the pairs not
/// tied in each variable. O(n^2): a few thousand rows take milliseconds.
inline double kendall_tau_b(std::span<const double> x, std::span<const double> y) {
  HAT_ASSERT(x.size() == y.size(), "kendall_tau_b: the two samples differ in length");
  double concordant = 0, discordant = 0, tied_x = 0, tied_y = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = i + 1; j < x.size(); ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 && dy == 0) continue;
      if (dx == 0) tied_x += 1;
      else if (dy == 0) tied_y += 1;
      else if ((dx > 0) == (dy > 0)) concordant += 1;
      else discordant += 1;
    }
  const double denom = std::sqrt((concordant + discordant + tied_x) * (concordant + discordant + tied_y));
  return denom == 0 ? 0.0 : (concordant - discordant) / denom;
}

/// Metrics of `predicted` against `measured` (both in ms).
inline predictor_metrics evaluate_predictions(std::span<const double> measured, std::span<const double> predicted) {
  HAT_ASSERT(measured.size() == predicted.size(), "evaluate_predictions: sizes differ");
  predictor_metrics m;
  m.rows = measured.size();
  if (m.rows == 0) return m;
  double se = 0, ape = 0, within = 0;
  for (std::size_t i = 0; i < m.rows; ++i) {
    const double e = predicted[i] - measured[i];
    se += e * e;
    const double rel = std::abs(e) / measured[i];
    ape += rel;
    within += rel <= 0.1 ? 1 : 0;
  }
  const auto n = static_cast<double>(m.rows);
  m.rmse_ms = std::sqrt(se / n);
  m.mape = ape / n;
  m.within10 = within / n;
  m.kendall_tau = kendall_tau_b(measured, predicted);
  return m;
}

}  // namespace hat
