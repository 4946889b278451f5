// SPDX-License-Identifier: MIT
// latency_predictor: learns a known latency law, saves and loads exactly, rejects damaged files.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <hat/backend/cpu.hpp>
#include <hat/io/checksum.hpp>
#include <hat/io/read_file.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/metrics.hpp>
#include <hat/space/hat_spaces.hpp>
#include "test_spaces.hpp"

namespace {
using small_predictor = hat::latency_predictor<hat::cpu, 32, 1>;

// A synthetic device: decoder cost grows with layers x width, plus an encoder term.
hat::latency_table synthetic(std::size_t n, std::uint64_t seed) {
  hat::rng g(seed);
  hat::latency_table t;
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = hat::arch<hat::hat_latency_space>::sample(g);
    hat::latency_row r;
    r.features = hat::hat_features(a);
    const auto& f = r.features;
    r.encoder_ms = 2 + f[0] * f[2] / 2e5;
    r.decoder_ms = f[5] * (f[4] * 0.02 + f[6] * 0.004 + 3 * f[9]);
    t.rows.push_back(r);
  }
  return t;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("hat_pred_" + std::to_string(::getpid()) + "_" + name);
}
}  // namespace

TEST_CASE("latency predictor: the MLP learns a nonlinear latency law the linear model cannot", "[predictor]") {
  hat::cpu be;
  const auto data = synthetic(600, 1);
  const auto split = hat::split_rows(data.rows.size(), 2);
  std::vector<std::array<double, 10>> test_x;
  std::vector<double> test_y;
  for (auto i : split.test) {
    test_x.push_back(data.rows[i].features);
    test_y.push_back(data.rows[i].total_ms());
  }
  small_predictor mlp(be, 100);
  hat::predictor_train_options o;
  o.steps = 1500;
  o.batch = 64;
  o.lr = 3e-3;
  mlp.fit(data, split.train, o);
  small_predictor lin(be, 100, hat::predictor_model::linear);
  lin.fit(data, split.train, o);
  const auto m = hat::evaluate_predictions(test_y, mlp.predict_ms(test_x));
  const auto l = hat::evaluate_predictions(test_y, lin.predict_ms(test_x));
  CHECK(m.mape < 0.05);
  CHECK(m.kendall_tau > 0.95);
  CHECK(m.rmse_ms < l.rmse_ms / 2);  // the law has products of features
  // The law is a sum of pairwise products: the quadratic model is exact up to rounding.
  small_predictor quad(be, 100, hat::predictor_model::quadratic);
  quad.fit(data, split.train, o);
  const auto q = hat::evaluate_predictions(test_y, quad.predict_ms(test_x));
  CHECK(q.rmse_ms < 1e-4 * l.rmse_ms);
}

TEST_CASE("latency predictor: same seed, same predictions; progress is reported", "[predictor]") {
  hat::cpu be;
  const auto data = synthetic(200, 3);
  const auto split = hat::split_rows(data.rows.size(), 4);
  hat::predictor_train_options o;
  o.steps = 50;
  o.ensemble = 2;
  std::size_t calls = 0, last_total = 0;
  small_predictor a(be, 100), b(be, 100);
  a.fit(data, split.train, o, [&](std::size_t, std::size_t total, double loss) {
    ++calls;
    last_total = total;
    CHECK(std::isfinite(loss));
  });
  b.fit(data, split.train, o);
  CHECK(calls == 100);
  CHECK(last_total == 100);
  const std::array<double, 10> f = data.rows[0].features;
  CHECK(a.predict_ms(f) == b.predict_ms(f));
  CHECK(a.ensemble_size() == 2);
}

TEST_CASE("latency predictor: save and load give identical predictions (MLP and linear)", "[predictor][io]") {
  hat::cpu be;
  const auto data = synthetic(100, 5);  // enough rows for 66 quadratic coefficients
  const auto split = hat::split_rows(data.rows.size(), 6);
  hat::predictor_train_options o;
  o.steps = 20;
  o.log_target = true;
  for (auto kind : {hat::predictor_model::mlp, hat::predictor_model::linear, hat::predictor_model::quadratic}) {
    small_predictor p(be, 300, kind);
    p.fit(data, split.train, o);
    const auto path = temp_file("kind" + std::to_string(static_cast<int>(kind)) + ".bin");
    p.save(path);
    auto q = small_predictor::load(be, path);
    CHECK(q.model() == kind);
    CHECK(q.lat_norm() == 300);
    for (const auto& r : data.rows) CHECK(q.predict_ms(r.features) == p.predict_ms(r.features));
    std::filesystem::remove(path);
  }
}

TEST_CASE("latency predictor: records its dataset's precision; version-1 files load as fp32", "[predictor][io]") {
  hat::cpu be;
  auto data = synthetic(40, 11);
  data.weights = hat::precision::int8;
  const auto split = hat::split_rows(data.rows.size(), 12);
  hat::predictor_train_options o;
  o.steps = 5;
  small_predictor p(be, 200, hat::predictor_model::linear);
  CHECK(p.measured_at() == hat::precision::fp32);
  p.fit(data, split.train, o);
  CHECK(p.measured_at() == hat::precision::int8);
  const auto path = temp_file("int8.bin");
  p.save(path);
  auto q = small_predictor::load(be, path);
  CHECK(q.measured_at() == hat::precision::int8);
  CHECK(q.predict_ms(data.rows[0].features) == p.predict_ms(data.rows[0].features));

  // The same predictor as version 1 wrote it (no precision field after the input count): fp32.
  const std::string v2 = hat::read_file(path);
  const std::size_t at = 8 + 6 * 4;  // magic, version, model, hidden, layers, log target, inputs
  std::uint32_t code = 0;
  std::memcpy(&code, v2.data() + at, 4);
  CHECK(code == 2);  // int8's number
  std::string v1 = v2.substr(0, at) + v2.substr(at + 4, v2.size() - 8 - at - 4);
  const std::uint32_t one = 1;
  std::memcpy(v1.data() + 8, &one, 4);
  const std::uint64_t sum = hat::fnv1a(v1);
  v1.append(reinterpret_cast<const char*>(&sum), 8);
  auto old = small_predictor::from_bytes(be, v1, "v1.bin");
  CHECK(old.measured_at() == hat::precision::fp32);
  CHECK(old.predict_ms(data.rows[3].features) == p.predict_ms(data.rows[3].features));

  // An unknown precision code, and a version from the future: refused by name.
  const auto resealed = [](std::string bytes, std::size_t offset, std::uint32_t value) {
    bytes.resize(bytes.size() - 8);
    std::memcpy(bytes.data() + offset, &value, 4);
    const std::uint64_t h = hat::fnv1a(bytes);
    return bytes.append(reinterpret_cast<const char*>(&h), 8);
  };
  CHECK_THROWS_WITH(small_predictor::from_bytes(be, resealed(v2, at, 9), "code.bin"), Catch::Contains("code.bin: unknown precision code 9"));
  CHECK_THROWS_WITH(small_predictor::from_bytes(be, resealed(v2, 8, 3), "v3.bin"),
                    Catch::Contains("v3.bin: predictor format version 3, this build reads 1 to 2"));
  CHECK_THROWS_WITH(hat::require_latencies_at(q.measured_at(), hat::precision::fp32, "int8.bin", "the search's precision"),
                    Catch::Contains("int8.bin: int8 latencies; the search's precision is fp32"));
  CHECK_NOTHROW(hat::require_latencies_at(q.measured_at(), hat::precision::int8, "int8.bin", "the search's precision"));
  std::filesystem::remove(path);
}

TEST_CASE("latency predictor: damaged or foreign files give clear errors", "[predictor][io][bad]") {
  hat::cpu be;
  const auto data = synthetic(50, 7);
  const auto split = hat::split_rows(data.rows.size(), 8);
  hat::predictor_train_options o;
  o.steps = 5;
  small_predictor p(be, 200);
  p.fit(data, split.train, o);
  const auto path = temp_file("good.bin");
  p.save(path);
  const std::string good = hat::read_file(path);
  const auto write = [&](const std::string& bytes) {
    const auto bad = temp_file("bad.bin");
    std::ofstream(bad, std::ios::binary) << bytes;
    return bad;
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  CHECK_THROWS_WITH(small_predictor::load(be, write(flipped)), Catch::Contains("checksum mismatch"));
  CHECK_THROWS_WITH(small_predictor::load(be, write(good.substr(0, good.size() - 100))), Catch::Contains("checksum"));
  CHECK_THROWS_WITH(small_predictor::load(be, write("not a predictor at all")), Catch::Contains("bad magic"));
  CHECK_THROWS_WITH(small_predictor::load(be, write("")), Catch::Contains("bad magic"));
  CHECK_THROWS_WITH((hat::latency_predictor<hat::cpu, 16, 1>::load(be, path)),
                    Catch::Contains("10 -> 32 x 2 -> 1") && Catch::Contains("expects 10 -> 16 x 2 -> 1"));
  CHECK_THROWS_WITH(small_predictor::load(be, temp_file("missing.bin")), Catch::Contains("cannot open"));
  std::filesystem::remove(path);
  std::filesystem::remove(temp_file("bad.bin"));
}

TEST_CASE("latency predictor: numbers that are not finite are never fitted, saved or loaded", "[predictor][io][bad]") {
  hat::cpu be;
  const auto data = synthetic(50, 7);
  const auto split = hat::split_rows(data.rows.size(), 8);
  hat::predictor_train_options o;
  o.steps = 5;
  // A latency divisor that makes every target infinite: the MLP's loss is not finite at once.
  small_predictor tiny(be, 1e-300);
  CHECK_THROWS_AS(tiny.fit(data, split.train, o), hat::predictor_diverged);
  CHECK_THROWS_WITH(tiny.fit(data, split.train, o), Catch::Contains("not a finite number at step 1") &&
                                                        Catch::Contains("lat_norm") && Catch::Contains("nothing was saved"));
  small_predictor tiny_linear(be, 1e-310, hat::predictor_model::linear);  // targets overflow to inf in double too
  CHECK_THROWS_AS(tiny_linear.fit(data, split.train, o), hat::predictor_diverged);
  CHECK_THROWS_WITH(small_predictor(be, std::nan("")), Catch::Contains("lat_norm must be a positive number"));
  CHECK_THROWS_WITH(small_predictor(be, -1), Catch::Contains("lat_norm must be a positive number"));

  // A file whose checksum holds but whose weight is NaN (written by something else) is refused.
  small_predictor lin(be, 200, hat::predictor_model::linear);
  lin.fit(data, split.train, o);
  const auto path = temp_file("nan.bin");
  lin.save(path);
  std::string bytes = hat::read_file(path);
  const double nan = std::nan("");
  std::memcpy(bytes.data() + 8 + 7 * 4 + 8 + 10 * 8, &nan, sizeof nan);  // magic, 6 sizes, precision, lat_norm, norms: weight 0
  bytes.resize(bytes.size() - 8);
  const std::uint64_t sum = hat::fnv1a(bytes);
  bytes.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  CHECK_THROWS_WITH(small_predictor::load(be, path), Catch::Contains("nan.bin: a weight is not a finite number"));
  std::filesystem::remove(path);
}

TEST_CASE("latency predictor: predicts an architecture directly through HAT's features", "[predictor]") {
  hat::cpu be;
  const auto data = synthetic(80, 9);
  const auto split = hat::split_rows(data.rows.size(), 1);
  small_predictor lin(be, 100, hat::predictor_model::linear);
  lin.fit(data, split.train, {});
  const auto a = hat::arch<hat::hat_wmt_space>::largest();
  CHECK(lin(a) == lin.predict_ms(hat::hat_features(a)));
}

TEST_CASE("latency predictor: generic over any space through gene features (a CNN)", "[predictor][generic]") {
  using C = hat_test::cnn_space;
  using P = hat::latency_predictor<hat::cpu, 32, 1, C::gene_count>;
  hat::cpu be;
  hat::rng g(11);
  const auto cost = [](const hat::arch<C>& a) {  // a made-up device: stages cost kernel^2 * width
    double ms = a.get<"resolution">() / 50.0;
    for (std::size_t l = 0; l < a.active_layers<"kernel">(); ++l)
      ms += a.get<"kernel">(l) * a.get<"kernel">(l) * a.get<"width">(l) / 100.0;
    return ms;
  };
  std::vector<P::features> x;
  std::vector<double> y;
  for (int i = 0; i < 400; ++i) {
    const auto a = hat::arch<C>::sample(g);
    x.push_back(hat::gene_features(a));
    y.push_back(cost(a));
  }
  P quad(be, 10, hat::predictor_model::quadratic);
  quad.fit(std::span<const P::features>(x), std::span<const double>(y), {});
  std::vector<double> measured, predicted;
  for (int i = 0; i < 100; ++i) {
    const auto a = hat::arch<C>::sample(g);
    measured.push_back(cost(a));
    predicted.push_back(quad(a));  // operator() encodes with gene_features
  }
  const auto m = hat::evaluate_predictions(measured, predicted);
  CHECK(m.kendall_tau > 0.9);
  CHECK(m.mape < 0.15);
  const auto path = temp_file("cnn.bin");
  quad.save(path);
  CHECK(P::load(be, path).predict_ms(x[0]) == quad.predict_ms(x[0]));
  CHECK_THROWS_WITH(small_predictor::load(be, path), Catch::Contains("reads 12 features, this program 10"));
  std::filesystem::remove(path);
}

TEST_CASE("latency predictor: fit_best_predictor keeps the model that wins on the valid split", "[predictor]") {
  hat::cpu be;
  const auto data = synthetic(300, 13);  // a sum of pairwise products: the quadratic model is exact
  const auto split = hat::split_rows(data.rows.size(), 14);
  hat::predictor_train_options o;
  o.steps = 30;
  hat::predictor_model chosen = hat::predictor_model::mlp;
  auto p = hat::fit_best_predictor<hat::cpu, 32, 1>(be, 100, data, split, o, &chosen);
  CHECK(chosen == hat::predictor_model::quadratic);
  CHECK(p.model() == hat::predictor_model::quadratic);
}
