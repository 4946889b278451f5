// SPDX-License-Identifier: MIT
// Predictor metrics, the seeded split and the linear reference model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <vector>

#include <hat/predictor/linear_model.hpp>
#include <hat/predictor/metrics.hpp>
#include <hat/predictor/split.hpp>

TEST_CASE("metrics: RMSE, MAPE, within-10% and Kendall's tau by hand", "[predictor][metrics]") {
  const std::vector<double> measured{100, 200, 300, 400};
  const std::vector<double> predicted{110, 190, 360, 400};  // errors 10, -10, 60, 0
  const auto m = hat::evaluate_predictions(measured, predicted);
  CHECK(m.rmse_ms == Approx(std::sqrt((100 + 100 + 3600 + 0) / 4.0)));
  CHECK(m.mape == Approx((0.1 + 0.05 + 0.2 + 0) / 4));
  CHECK(m.within10 == Approx(0.75));  // 10 % exactly counts as within
  CHECK(m.kendall_tau == Approx(1.0));  // same order
  const std::vector<double> reversed{4, 3, 2, 1};
  CHECK(hat::kendall_tau_b(measured, reversed) == Approx(-1.0));
  // tau-b with ties: x = (1, 1, 2), y = (1, 2, 3): 2 concordant, 1 tied in x only.
  const std::vector<double> x{1, 1, 2}, y{1, 2, 3};
  CHECK(hat::kendall_tau_b(x, y) == Approx(2.0 / std::sqrt(2.0 * 3.0)));
}

TEST_CASE("split: 80/10/10 floor, disjoint, complete, deterministic by seed", "[predictor][split]") {
  const auto s = hat::split_rows(2000, 7);
  CHECK(s.train.size() == 1600);
  CHECK(s.valid.size() == 200);
  CHECK(s.test.size() == 200);
  std::set<std::size_t> all(s.train.begin(), s.train.end());
  all.insert(s.valid.begin(), s.valid.end());
  all.insert(s.test.begin(), s.test.end());
  CHECK(all.size() == 2000);
  CHECK(hat::split_rows(2000, 7).test == s.test);
  CHECK(hat::split_rows(2000, 8).test != s.test);
  const auto odd = hat::split_rows(11, 1);
  CHECK(odd.train.size() == 8);
  CHECK(odd.valid.size() == 1);
  CHECK(odd.test.size() == 2);
}

TEST_CASE("linear model: recovers exact coefficients; survives a constant feature", "[predictor][linear]") {
  std::vector<double> rows, y;
  for (int i = 0; i < 50; ++i) {
    const double a = i * 0.1, b = (i * 7 % 13) * 0.5, c = 1.0;  // c is constant: collinear with the intercept
    rows.insert(rows.end(), {a, b, c});
    y.push_back(3 * a - 2 * b + 5);
  }
  hat::linear_model<3> m;
  m.fit(rows, y);
  const std::vector<double> probe{2.0, 1.0, 1.0};
  CHECK(m.predict(probe) == Approx(3 * 2.0 - 2 * 1.0 + 5).margin(1e-6));
  CHECK(m.coefficients()[0] == Approx(3).margin(1e-6));
  CHECK(m.coefficients()[1] == Approx(-2).margin(1e-6));
}
