// SPDX-License-Identifier: MIT
// Elastic layers on the CPU backend: corner slices of the super weights, never copies.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/elastic_layernorm.hpp>
#include <hat/nn/elastic_linear.hpp>
#include <hat/space/random.hpp>
#include <hat/tensor/arena.hpp>

namespace {
constexpr float poison = std::numeric_limits<float>::quiet_NaN();

std::vector<float> random_values(std::size_t n, hat::rng& g) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(2 * g.uniform() - 1);
  return v;
}
}  // namespace

TEST_CASE("elastic_linear: a sub-layer equals a dense layer built from the corner block", "[nn][cpu]") {
  using layer_t = hat::elastic_linear<32, 48, hat::cpu>;
  hat::cpu be;
  hat::rng g(3);
  hat::arena<hat::cpu> params(layer_t::param_count);
  const layer_t layer(params.take(layer_t::param_count));
  const auto init = random_values(layer_t::param_count, g);
  std::copy(init.begin(), init.end(), params.data());

  for (auto [in, out] : {std::pair<std::size_t, std::size_t>{32, 48}, {16, 24}, {20, 7}, {1, 1}, {32, 1}}) {
    INFO("in " << in << ", out " << out);
    // Poison everything outside the active block: a read of it would turn the output into NaN.
    std::copy(init.begin(), init.end(), params.data());
    for (std::size_t o = 0; o < 48; ++o)
      for (std::size_t i = 0; i < 32; ++i)
        if (o >= out || i >= in) params.data()[o * 32 + i] = poison;
    for (std::size_t o = out; o < 48; ++o) layer.bias()[o] = poison;

    const std::size_t n = 5;
    const auto x = random_values(n * in, g);
    std::vector<float> y(n * out, 0.0f);
    layer.forward(be, hat::dense(x.data(), n, in), hat::dense(y.data(), n, out));

    const auto w = layer.weight(in, out);  // the view handed to GEMM: the super weight itself
    CHECK(w.data == params.data());
    CHECK(w.ld == 32);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t o = 0; o < out; ++o) {
        double ref = init[48 * 32 + o];
        for (std::size_t i = 0; i < in; ++i) ref += static_cast<double>(x[r * in + i]) * init[o * 32 + i];
        REQUIRE(std::isfinite(y[r * out + o]));
        CHECK(y[r * out + o] == Approx(ref).margin(1e-5));
      }
  }
  CHECK_THROWS_AS(layer.weight(33, 1), std::logic_error);
}

TEST_CASE("elastic_layernorm: normalises the first d features with gamma[:d], beta[:d]", "[nn][cpu]") {
  using norm_t = hat::elastic_layernorm<16, hat::cpu>;
  hat::cpu be;
  hat::rng g(4);
  hat::arena<hat::cpu> params(norm_t::param_count);
  const norm_t norm(params.take(norm_t::param_count));
  const auto gb = random_values(32, g);
  std::copy(gb.begin(), gb.end(), params.data());
  const std::size_t d = 10, n = 3;
  for (std::size_t j = d; j < 16; ++j) norm.gamma()[j] = norm.beta()[j] = poison;
  const auto x = random_values(n * d, g);
  std::vector<float> y(n * d);
  norm.forward(be, hat::dense(x.data(), n, d), hat::dense(y.data(), n, d));
  for (std::size_t r = 0; r < n; ++r) {
    double mean = 0, var = 0;
    for (std::size_t j = 0; j < d; ++j) mean += x[r * d + j];
    mean /= d;
    for (std::size_t j = 0; j < d; ++j) var += (x[r * d + j] - mean) * (x[r * d + j] - mean);
    var /= d;
    for (std::size_t j = 0; j < d; ++j) {
      const double ref = (x[r * d + j] - mean) / std::sqrt(var + 1e-5) * gb[j] + gb[16 + j];
      CHECK(y[r * d + j] == Approx(ref).margin(1e-5));
    }
  }
  // In place (y aliases x), as the post-norm blocks use it.
  std::vector<float> z = x;
  norm.forward(be, hat::dense(static_cast<const float*>(z.data()), n, d), hat::dense(z.data(), n, d));
  CHECK(z == y);
}

TEST_CASE("arena: one allocation, consecutive pieces, overflow is an error", "[nn][arena]") {
  hat::arena<hat::cpu> a(10);
  float* p = a.take(4);
  float* q = a.take(6);
  CHECK(q == p + 4);
  CHECK(a.used() == 10);
  CHECK_THROWS_WITH(a.take(1), Catch::Contains("more parameters taken than were allocated"));
}
