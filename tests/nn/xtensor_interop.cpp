// SPDX-License-Identifier: MIT
// interop/xtensor.hpp: zero-copy views of CPU matrices and parameters, parameters set from xtensor, datasets as xtensor.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <hat/interop/xtensor.hpp>
#include <hat/space/hat_spaces.hpp>

#include "parity_fixture.hpp"

using namespace hat_test;

TEST_CASE("xtensor interop: a strided CPU matrix as a view, reads and writes in place", "[nn][cpu][xtensor]") {
  std::vector<float> buf(3 * 7);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<float>(i);
  const hat::matrix_ref<float> corner{buf.data() + 1, 3, 4, 7};  // a [3, 4] slice, row stride 7
  auto v = hat::as_xtensor(corner);
  REQUIRE(v.shape(0) == 3);
  REQUIRE(v.shape(1) == 4);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j) CHECK(v(i, j) == buf[i * 7 + 1 + j]);
  v(2, 3) = -1.0f;
  CHECK(buf[2 * 7 + 1 + 3] == -1.0f);
  const auto cv = hat::as_xtensor(hat::matrix_ref<const float>(corner));
  CHECK(xt::sum(cv)() == Approx(xt::sum(v)()));
}

TEST_CASE("xtensor interop: parameters as views, copies, and set from expressions", "[nn][cpu][xtensor]") {
  hat::cpu be;
  paneled_model_t model(be, {24, 24, hat::embedding_sharing::all});
  model.init_hat(be, 3);
  // A LayerNorm gamma is stored plainly: a view of the arena itself.
  const std::string gamma = "encoder.layers.0.final_layer_norm.weight";
  auto g = hat::parameter_xtensor(model, gamma);
  REQUIRE(g.dimension() == 1);
  CHECK(xt::all(xt::equal(g, 1.0f)));
  g(0) = 2.5f;
  CHECK(model.parameter_values(be, gamma)[0] == 2.5f);
  // A SuperTransformer weight is stored in column panels: no single view, but a copy in
  // PyTorch's layout equals what parameter_values reads.
  const std::string fc1 = "encoder.layers.0.fc1.weight";
  REQUIRE(!model.parameter(fc1).panels.empty());
  CHECK_THROWS_WITH(hat::parameter_xtensor(model, fc1), Catch::Contains("column panels") && Catch::Contains(fc1));
  const auto w = hat::parameter_xarray(be, model, fc1);
  const auto flat = model.parameter_values(be, fc1);
  REQUIRE(w.size() == flat.size());
  CHECK(std::equal(w.begin(), w.end(), flat.begin()));
  // Set from an expression of the right shape; another shape is refused, naming both.
  hat::set_parameter(be, model, fc1, w * 2.0f);
  const auto doubled = model.parameter_values(be, fc1);
  for (std::size_t i = 0; i < flat.size(); ++i) CHECK(doubled[i] == flat[i] * 2.0f);
  CHECK_THROWS_WITH(hat::set_parameter(be, model, fc1, xt::xtensor<float, 1>::from_shape({3})),
                    Catch::Contains(fc1) && Catch::Contains("not [3]"));
}

TEST_CASE("xtensor interop: latency datasets and predictor features as containers", "[nn][xtensor]") {
  hat::latency_table t;
  for (int r = 0; r < 3; ++r) {
    hat::latency_row row;
    for (std::size_t j = 0; j < 10; ++j) row.features[j] = r * 10.0 + static_cast<double>(j);
    row.encoder_ms = r;
    row.decoder_ms = 2.0 * r;
    t.rows.push_back(row);
  }
  const auto f = hat::latency_features(t);
  REQUIRE(f.shape(0) == 3);
  REQUIRE(f.shape(1) == 10);
  CHECK(f(2, 9) == 29.0);
  CHECK(hat::latency_totals(t)(2) == 6.0);
  const auto a = hat::arch<hat::hat_wmt_space>::largest();
  const auto x = hat::predictor_features(a);
  const auto expected = hat::hat_normalized_features(a);
  REQUIRE(x.size() == 10);
  for (std::size_t j = 0; j < 10; ++j) CHECK(x(j) == expected[j]);
}
