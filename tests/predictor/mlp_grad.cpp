// SPDX-License-Identifier: MIT
// mlp on the CPU backend: gradients against central finite differences (double), and learning.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/predictor/mlp.hpp>

TEST_CASE("mlp: HAT's shape has 486,001 parameters", "[predictor][mlp]") {
  STATIC_REQUIRE(hat::mlp<hat::cpu>::param_count == 486001);
  STATIC_REQUIRE(hat::mlp<hat::cpu, 3, 5, 1>::param_count == (5 * 3 + 5) + (5 * 5 + 5) + (5 + 1));
}

TEST_CASE("mlp: every parameter's gradient matches central finite differences", "[predictor][mlp][grad]") {
  hat::cpu be;
  using net_t = hat::mlp<hat::cpu, 3, 6, 2, double>;
  net_t net(be);
  hat::rng g(5);
  net.init(g);
  const std::size_t n = 7;
  std::vector<double> x(n * 3), y(n);
  for (auto& v : x) v = 2 * g.uniform() - 1;
  for (auto& v : y) v = g.uniform();
  net.loss_and_gradient(x, y);
  const auto grad = net.gradient();
  auto p = net.parameters();
  const double h = 1e-6;
  double worst = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double keep = p[i];
    p[i] = keep + h;
    net.set_parameters(p);
    const double up = net.loss_and_gradient(x, y);
    p[i] = keep - h;
    net.set_parameters(p);
    const double down = net.loss_and_gradient(x, y);
    p[i] = keep;
    const double fd = (up - down) / (2 * h);
    worst = std::max(worst, std::abs(fd - grad[i]) / std::max(1e-6, std::abs(fd) + std::abs(grad[i])));
  }
  net.set_parameters(p);
  CHECK(worst < 1e-5);
}

TEST_CASE("mlp: Adam fits a smooth function; the same seed gives the same weights", "[predictor][mlp]") {
  hat::cpu be;
  const auto train = [&](std::uint64_t seed) {
    hat::mlp<hat::cpu, 2, 32, 1> net(be);
    hat::rng g(seed);
    net.init(g);
    std::vector<float> x(64 * 2), y(64);
    for (std::size_t i = 0; i < 64; ++i) {
      x[2 * i] = static_cast<float>(i % 8) / 8.0f;
      x[2 * i + 1] = static_cast<float>(i / 8) / 8.0f;
      y[i] = 0.5f + x[2 * i] * x[2 * i + 1] + 0.3f * x[2 * i];
    }
    double first = 0, last = 0;
    for (int s = 0; s < 800; ++s) {
      const double l = net.train_batch(x, y, {.lr = 3e-3});
      if (s == 0) first = l;
      last = l;
    }
    CHECK(last < first / 50);
    return net.parameters();
  };
  CHECK(train(3) == train(3));
}
