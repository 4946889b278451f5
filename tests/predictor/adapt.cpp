// SPDX-License-Identifier: MIT
// Few-row predictors: ridge_loo's leave-one-out is exact, the cost model learns a cost-term law,
// adapt rescales a source predictor, files nest and refuse damage; on HAT's latency datasets an
// adapted predictor ranks a new device better than one fitted from scratch on the same rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/predictor/cost_terms.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/metrics.hpp>
#include <hat/predictor/ridge_loo.hpp>
#include <hat/predictor/split.hpp>
#include <hat/io/checksum.hpp>
#include <hat/io/read_file.hpp>
#include <hat/space/random.hpp>
#include <hat/space/hat_spaces.hpp>
#include "shared_data.hpp"

namespace {
using predictor = hat::latency_predictor<hat::cpu, 32, 1>;
using features = std::array<double, 10>;

std::vector<features> sample_features(std::size_t n, std::uint64_t seed) {
  hat::rng g(seed);
  std::vector<features> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(hat::hat_features(hat::arch<hat::hat_latency_space>::sample(g)));
  return out;
}

// A device whose latency is exactly linear in the cost terms.
double cost_law(const features& f) {
  const auto t = hat::cost_terms(f);
  return 3 + 0.4 * t[1] + 2e-6 * t[2] + 3e-6 * t[3] + 1e-4 * t[4] + 0.01 * t[5];
}

std::vector<double> linear_source_law(const std::vector<features>& x) {  // another device: linear in HAT's features
  std::vector<double> y;
  for (const auto& f : x) y.push_back(5 + 0.01 * f[0] + 0.03 * f[4] * f[5] / 6 + 2 * f[9]);
  return y;
}

predictor linear_source(hat::cpu& be, const std::vector<features>& x) {  // the source device's predictor
  predictor p(be, 100, hat::predictor_model::linear);
  p.fit(x, linear_source_law(x), {});
  return p;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("hat_adapt_" + std::to_string(::getpid()) + "_" + name);
}
}  // namespace

TEST_CASE("ridge_loo: the leave-one-out predictions are those of refits without each row", "[predictor][adapt]") {
  hat::rng g(3);
  const std::size_t n = 14, cols = 5;
  std::vector<double> x(n * cols), y(n);
  for (std::size_t r = 0; r < n; ++r) {
    x[r * cols] = 1;
    for (std::size_t c = 1; c < cols; ++c) x[r * cols + c] = g.uniform() * 2 - 1;
    y[r] = 1 + 2 * x[r * cols + 1] - x[r * cols + 3] + 0.3 * (g.uniform() - 0.5);
  }
  const auto fit = hat::ridge_loo(x, y, cols, 1);
  REQUIRE(fit.loo_predictions.size() == n);
  const double penalty[] = {fit.penalty};
  for (std::size_t out = 0; out < n; ++out) {
    std::vector<double> xs, ys;
    for (std::size_t r = 0; r < n; ++r)
      if (r != out) {
        xs.insert(xs.end(), x.begin() + static_cast<std::ptrdiff_t>(r * cols), x.begin() + static_cast<std::ptrdiff_t>((r + 1) * cols));
        ys.push_back(y[r]);
      }
    const auto refit = hat::ridge_loo(xs, ys, cols, 1, penalty);
    double pred = 0;
    for (std::size_t c = 0; c < cols; ++c) pred += refit.w[c] * x[out * cols + c];
    CHECK(fit.loo_predictions[out] == Approx(pred).epsilon(1e-7));
  }
  double mse = 0;
  for (std::size_t r = 0; r < n; ++r) mse += (y[r] - fit.loo_predictions[r]) * (y[r] - fit.loo_predictions[r]);
  CHECK(fit.loo_mse == Approx(mse / n).epsilon(1e-9));
}

TEST_CASE("ridge_loo: an exact law takes the smallest penalty, pure noise a larger one", "[predictor][adapt]") {
  hat::rng g(4);
  const std::size_t n = 20, cols = 4;
  std::vector<double> x(n * cols), exact(n), noise(n);
  for (std::size_t r = 0; r < n; ++r) {
    x[r * cols] = 1;
    for (std::size_t c = 1; c < cols; ++c) x[r * cols + c] = g.uniform() * 2 - 1;
    exact[r] = 2 + x[r * cols + 1] + 3 * x[r * cols + 2];
    noise[r] = g.uniform();
  }
  CHECK(hat::ridge_loo(x, exact, cols, 1).penalty == hat::ridge_penalties.front());
  CHECK(hat::ridge_loo(x, noise, cols, 1).penalty > hat::ridge_penalties.front());
  CHECK_THROWS_AS(hat::ridge_loo(std::span<const double>(x).first(cols), std::span<const double>(exact).first(1), cols, 1),
                  hat::config_error);
}

TEST_CASE("cost model: 12 rows of a cost-term law predict unseen architectures", "[predictor][adapt]") {
  hat::cpu be;
  const auto x = sample_features(12, 1), unseen = sample_features(200, 2);
  std::vector<double> y;
  for (const auto& f : x) y.push_back(cost_law(f));
  predictor p(be, 100, hat::predictor_model::cost);
  p.fit(x, y, {});
  CHECK(p.source() == nullptr);
  CHECK(p.source_weight() == 0);
  const auto pred = p.predict_ms(unseen);
  for (std::size_t i = 0; i < unseen.size(); ++i) CHECK(pred[i] == Approx(cost_law(unseen[i])).epsilon(1e-4));
  // The linear model on HAT's raw features cannot, from the same rows.
  predictor lin(be, 100, hat::predictor_model::linear);
  lin.fit(x, y, {});
  double cost_err = 0, lin_err = 0;
  const auto lp = lin.predict_ms(unseen);
  for (std::size_t i = 0; i < unseen.size(); ++i) {
    cost_err = std::max(cost_err, std::abs(pred[i] - cost_law(unseen[i])));
    lin_err = std::max(lin_err, std::abs(lp[i] - cost_law(unseen[i])));
  }
  CHECK(lin_err > 100 * cost_err);
}

TEST_CASE("adapt: a device that is the source rescaled is learnt from 10 rows; the file nests the source", "[predictor][adapt]") {
  hat::cpu be;
  auto source = linear_source(be, sample_features(300, 5));
  const auto few = sample_features(10, 6), unseen = sample_features(100, 7);
  auto few_y = source.predict_ms(few), truth = source.predict_ms(unseen);
  for (auto& v : few_y) v = 2.5 * v + 4;  // twice as slow and more, plus a fixed cost
  auto adapted = predictor::adapt(std::move(source), few, few_y);
  REQUIRE(adapted.source() != nullptr);
  CHECK(adapted.model() == hat::predictor_model::cost);
  CHECK(adapted.source_weight() == Approx(2.5).epsilon(1e-6));
  const auto pred = adapted.predict_ms(unseen);
  for (std::size_t i = 0; i < unseen.size(); ++i) CHECK(pred[i] == Approx(2.5 * truth[i] + 4).epsilon(1e-6));
  REQUIRE(adapted.leave_one_out_ms().size() == few.size());
  for (std::size_t i = 0; i < few.size(); ++i) CHECK(adapted.leave_one_out_ms()[i] == Approx(few_y[i]).epsilon(1e-6));

  const auto file = temp_file("adapted.pred");
  adapted.save(file);
  auto loaded = predictor::load(be, file);
  REQUIRE(loaded.source() != nullptr);
  CHECK(loaded.source()->model() == hat::predictor_model::linear);
  CHECK(loaded.predict_ms(unseen) == pred);  // bit for bit
  CHECK(loaded.source_weight() == adapted.source_weight());
  std::filesystem::remove(file);
}

TEST_CASE("adapt: refuses too few rows, a chain deeper than a file holds; load refuses damage", "[predictor][adapt]") {
  hat::cpu be;
  const auto x = sample_features(8, 9);
  const auto y = linear_source_law(x);
  auto source = linear_source(be, x);
  REQUIRE_THROWS_WITH(predictor::adapt(std::move(source), std::span(x).first(4), std::span(y).first(4)),
                      Catch::Contains("4 rows; adapting needs at least 5"));

  auto chain = linear_source(be, x);
  for (std::size_t i = 0; i < predictor::max_source_depth; ++i) chain = predictor::adapt(std::move(chain), x, y);
  const auto file = temp_file("chain.pred");
  chain.save(file);
  CHECK_NOTHROW(predictor::load(be, file));  // the deepest chain a file holds loads
  REQUIRE_THROWS_WITH(predictor::adapt(std::move(chain), x, y), Catch::Contains("adapt the original predictor instead"));

  // A cost model without a source whose file claims a weight on one.
  predictor scratch(be, 100, hat::predictor_model::cost);
  scratch.fit(x, y, {});
  scratch.save(file);
  std::string bytes = hat::read_file(file);
  // Layout: magic 8, six u32, the precision u32, lat_norm, 10 norms, has_source u32, 6 means,
  // 6 scales, then the intercept and the source weight.
  const std::size_t weight_at = 8 + 7 * 4 + 8 + 10 * 8 + 4 + 12 * 8 + 8;
  const double one = 1;
  std::memcpy(bytes.data() + weight_at, &one, 8);
  const std::uint64_t sum = hat::fnv1a(std::string_view(bytes).substr(0, bytes.size() - 8));
  std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
  CHECK_THROWS_WITH(predictor::from_bytes(be, bytes, "damaged.pred"), Catch::Contains("a source predictor the file does not hold"));
  std::filesystem::remove(file);

  hat::latency_predictor<hat::cpu, 8, 1, 3> genes(be, 100, hat::predictor_model::cost);
  const std::array<double, 3> f{0.1, 0.2, 0.3};
  const double ms[] = {1.0};
  CHECK_THROWS_WITH(genes.fit(std::span(&f, 1), ms, {}), Catch::Contains("the cost model reads HAT's 10 features"));
}

TEST_CASE("adapt: on HAT's datasets, 20 rows of the Xeon adapt a TITAN Xp predictor better than they fit one",
          "[predictor][adapt][shared]") {
  hat::cpu be;
  const auto dir = hat_test::shared_dir() / "reference" / "latency-datasets";
  const auto src = hat::read_latency_csv(dir / "wmt14ende_gpu_titanxp_all.csv");
  const auto dst = hat::read_latency_csv(dir / "wmt14ende_cpu_xeon_all.csv");
  std::vector<features> sx, dx;
  std::vector<double> sy, dy;
  for (const auto& r : src.rows) sx.push_back(r.features), sy.push_back(r.total_ms());
  for (const auto& r : dst.rows) dx.push_back(r.features), dy.push_back(r.total_ms());
  // Five seeded draws of 20 rows; each is scored on the 1,980 rows it did not see.
  std::vector<double> tau_adapted, tau_scratch, tau_source;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto order = hat::shuffled_rows(dx.size(), seed);
    std::vector<features> fx, tx;
    std::vector<double> fy, ty;
    for (std::size_t i = 0; i < order.size(); ++i)
      (i < 20 ? fx : tx).push_back(dx[order[i]]), (i < 20 ? fy : ty).push_back(dy[order[i]]);
    predictor source(be, 200, hat::predictor_model::linear);
    source.fit(sx, sy, {});
    tau_source.push_back(hat::evaluate_predictions(ty, source.predict_ms(tx)).kendall_tau);
    predictor scratch(be, 300, hat::predictor_model::linear);
    scratch.fit(fx, fy, {});
    tau_scratch.push_back(hat::evaluate_predictions(ty, scratch.predict_ms(tx)).kendall_tau);
    auto adapted = predictor::adapt(std::move(source), fx, fy);
    tau_adapted.push_back(hat::evaluate_predictions(ty, adapted.predict_ms(tx)).kendall_tau);
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  INFO("median Kendall tau: adapted " << median(tau_adapted) << ", scratch linear " << median(tau_scratch)
                                      << ", source alone " << median(tau_source));
  CHECK(median(tau_adapted) > median(tau_scratch) + 0.01);
  CHECK(median(tau_adapted) > median(tau_source) + 0.01);
}
