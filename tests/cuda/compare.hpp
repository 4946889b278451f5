// SPDX-License-Identifier: MIT
// compare: a backend's scenario results against the CPU's, output by output, within a tolerance.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "scenarios.hpp"

namespace hat_test {

/// Every output of `got` matches the same-named output of `want`: same length, and each
/// element within rtol |want| + atol max|want| (atol relative to the output's scale, so tiny
/// gradients next to large ones are not held to a relative bound they cannot meet).
inline void compare(const results& got, const results& want, double rtol, double atol) {
  REQUIRE(!want.empty());
  REQUIRE(got.size() == want.size());
  for (std::size_t o = 0; o < want.size(); ++o) {
    INFO("output " << want[o].name);
    REQUIRE(got[o].name == want[o].name);
    REQUIRE(got[o].values.size() == want[o].values.size());
    double scale = 0;
    for (const double w : want[o].values) scale = std::max(scale, std::abs(w));
    std::size_t worst = 0;
    double worst_excess = -1;
    for (std::size_t i = 0; i < want[o].values.size(); ++i) {
      const double w = want[o].values[i], g = got[o].values[i];
      const double excess = std::abs(g - w) - (rtol * std::abs(w) + atol * scale);
      if (excess > worst_excess || std::isnan(g)) {
        worst_excess = std::isnan(g) ? INFINITY : excess;
        worst = i;
      }
    }
    INFO("worst element " << worst << ": got " << got[o].values[worst] << ", want " << want[o].values[worst]);
    CHECK(worst_excess <= 0);
  }
}

}  // namespace hat_test

namespace hat_test {

// Tolerances of a GPU backend against the CPU, per scenario: float primitives differ by
// summation order only; the model and training add depth (and Adam's division by small
// second moments); double primitives must agree to rounding.
struct tolerance {
  double rtol, atol;
};
inline tolerance tolerance_of(scenario_id s) {
  switch (s) {
    case scenario_id::primitives_float: return {2e-5, 2e-6};
    case scenario_id::primitives_double: return {1e-11, 1e-13};
    case scenario_id::model:
    case scenario_id::training: return {1e-3, 2e-5};
  }
  return {0, 0};
}

/// Scenario s on backend results `got` against the CPU's, within tolerance_of(s).
inline void compare_with_cpu(const results& got, scenario_id s) {
  const tolerance t = tolerance_of(s);
  compare(got, cpu_scenario(s), t.rtol, t.atol);
}

}  // namespace hat_test
