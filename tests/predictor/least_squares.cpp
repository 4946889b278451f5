// SPDX-License-Identifier: MIT
// The predictor's least-squares fits through LAPACK (xt::linalg::lstsq) against the built-in
// normal equations, and the predictor fed xtensor containers.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <hat/interop/xtensor.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/linear_model.hpp>
#include <hat/space/random.hpp>

TEST_CASE("least squares: LAPACK's fit equals the normal equations where both are well posed", "[predictor][linear]") {
  hat::rng g(11);
  std::vector<double> rows, y;
  for (int i = 0; i < 200; ++i) {
    const double a = g.uniform(), b = g.uniform(), c = g.uniform();
    rows.insert(rows.end(), {a, b, c});
    y.push_back(1.5 * a - 0.25 * b + 4 * c + 0.5 + 0.01 * (g.uniform() - 0.5));  // noisy: a residual remains
  }
  hat::linear_model<3> normal, lapack;
  normal.fit(rows, y, 0.0);
  lapack.fit(rows, y, 0.0, hat::lapack_least_squares);
  for (std::size_t i = 0; i < 4; ++i) CHECK(lapack.coefficients()[i] == Approx(normal.coefficients()[i]).margin(1e-9));
  CHECK(lapack.coefficients()[0] == Approx(1.5).margin(0.01));
}

TEST_CASE("least squares: LAPACK needs no ridge for a constant feature and recovers the target exactly",
          "[predictor][linear]") {
  // HAT's encoder_layer_num is constant across a space with one encoder depth: the design matrix
  // is rank-deficient. The minimum-norm solution predicts exactly; the normal equations need a
  // ridge term to be solvable at all.
  std::vector<double> rows, y;
  for (int i = 0; i < 50; ++i) {
    const double a = i * 0.1, b = (i * 7 % 13) * 0.5, c = 6.0;
    rows.insert(rows.end(), {a, b, c});
    y.push_back(3 * a - 2 * b + 5);
  }
  hat::linear_model<3> m;
  m.fit(rows, y, 0.0, hat::lapack_least_squares);
  const std::vector<double> probe{2.0, 1.0, 6.0};
  CHECK(m.predict(probe) == Approx(3 * 2.0 - 2 * 1.0 + 5).margin(1e-9));
  CHECK(m.coefficients()[0] == Approx(3).margin(1e-9));
  CHECK(m.coefficients()[1] == Approx(-2).margin(1e-9));
  // Minimum norm: the constant's weight and the intercept share 5 as w c + b = 5 with the least
  // w^2 + b^2, i.e. (w, b) proportional to (c, 1).
  CHECK(m.coefficients()[2] == Approx(5.0 * 6.0 / 37.0).margin(1e-9));
  CHECK(m.coefficients()[3] == Approx(5.0 / 37.0).margin(1e-9));

  hat::linear_model<3> singular;
  CHECK_THROWS_WITH(singular.fit(rows, y, 0.0), Catch::Contains("degenerate"));
}

TEST_CASE("least squares: LAPACK's fit refuses too few rows and shapes that do not match", "[predictor][linear]") {
  const std::vector<double> rows{1, 2, 3}, y{1};
  CHECK_THROWS_WITH(hat::lapack_least_squares(rows, y, 4), Catch::Contains("[n, cols]"));
  const std::vector<double> bad{1.0, std::nan("")}, yy{1.0, 2.0};
  CHECK_THROWS_WITH(hat::lapack_least_squares(bad, yy, 1), Catch::Contains("not finite"));
}

TEST_CASE("latency predictor: a linear or quadratic model fitted through LAPACK, from xtensor features",
          "[predictor][linear]") {
  hat::cpu be;
  hat::rng g(5);
  constexpr std::size_t In = 4;
  xt::xtensor<double, 2> x = xt::zeros<double>({std::size_t(120), In});
  xt::xtensor<double, 1> ms = xt::zeros<double>({std::size_t(120)});
  for (std::size_t r = 0; r < 120; ++r) {
    for (std::size_t i = 0; i < In; ++i) x(r, i) = 1 + 10 * g.uniform();
    ms(r) = 2 + 0.5 * x(r, 0) + 0.25 * x(r, 1) * x(r, 2);
  }
  for (auto model : {hat::predictor_model::linear, hat::predictor_model::quadratic}) {
    const std::array<double, In> norm{10, 10, 10, 10};
    hat::latency_predictor<hat::cpu, 16, 1, In> normal(be, 50, model, norm), lapack(be, 50, model, norm);
    hat::predictor_train_options o;
    hat::fit_predictor(normal, x, ms, o);
    o.least_squares = hat::lapack_least_squares;
    hat::fit_predictor(lapack, x, ms, o);
    const xt::xtensor<double, 1> a = hat::predict_latencies(normal, x), b = hat::predict_latencies(lapack, x);
    // The normal equations carry a 1e-8 ridge: near-zero predictions differ by ~1e-6 ms.
    for (std::size_t r = 0; r < 120; ++r) CHECK(b(r) == Approx(a(r)).epsilon(1e-6).margin(1e-5));
    if (model == hat::predictor_model::quadratic)  // the target is quadratic: an exact fit
      for (std::size_t r = 0; r < 120; ++r) CHECK(b(r) == Approx(ms(r)).epsilon(1e-9));
  }
  SECTION("shapes are checked") {
    hat::latency_predictor<hat::cpu, 16, 1, In> p(be, 50, hat::predictor_model::linear);
    const xt::xtensor<double, 2> wide = xt::zeros<double>({std::size_t(3), In + 1});
    const xt::xtensor<double, 1> three = xt::zeros<double>({std::size_t(3)}), two = xt::zeros<double>({std::size_t(2)});
    CHECK_THROWS_WITH(hat::fit_predictor(p, wide, three, {}), Catch::Contains("[3, 5]"));
    CHECK_THROWS_WITH(hat::fit_predictor(p, xt::xtensor<double, 2>(xt::zeros<double>({std::size_t(3), In})), two, {}),
                      Catch::Contains("2 latencies"));
    CHECK_THROWS_WITH(hat::predict_latencies(p, wide), Catch::Contains("[3, 5]"));
  }
}
