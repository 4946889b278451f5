// SPDX-License-Identifier: MIT
// cpu::set_decode_precision: products x W^T over a model's weights read its bf16 copy (the same
// bits as the bf16 kernel on the converted weights, slices included, any number of rows);
// everything else stays fp32; a PyTorch-trained model's logits move by a bounded amount.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/decode/beam_search.hpp>
#include <hat/space/random.hpp>

#include "parity_fixture.hpp"

namespace {

// Anything with data() and size() over fp32 parameters (as a super_transformer has).
struct arena {
  const float* p;
  std::size_t n;
  const float* data() const noexcept { return p; }
  std::size_t size() const noexcept { return n; }
};

std::vector<float> product(const hat::cpu& be, std::size_t m, std::size_t n, std::size_t k, const float* x, std::size_t ldx,
                           const float* w, std::size_t ldw) {
  std::vector<float> y(m * n, 0.25f);
  be.gemm(hat::matrix_ref<const float>{x, m, k, ldx}, hat::op::none, hat::matrix_ref<const float>{w, n, k, ldw},
          hat::op::transpose, hat::matrix_ref<float>{y.data(), m, n, n}, 0.5f, 0.75f);
  return y;
}

}  // namespace

TEST_CASE("decode precision bf16: products over the model's weights read its bf16 copy", "[nn][cpu][precision]") {
  hat::rng g(21);
  // A 96 x 80 "super weight" in an arena, and a 40 x 24 slice of it at row 8, column 16.
  const std::size_t rows = 96, ld = 80;
  std::vector<float> storage(rows * ld + 7 + 2 * ld);  // the arena, then memory past its end
  for (auto& v : storage) v = static_cast<float>(g.uniform() * 2 - 1);
  const arena a{storage.data(), rows * ld + 7};
  std::vector<hat::bf16> converted(a.n);
  for (std::size_t i = 0; i < a.n; ++i) converted[i] = hat::to_bf16(storage[i]);
  std::vector<float> x(16 * ld), outside(rows * ld);
  for (auto& v : x) v = static_cast<float>(g.uniform() * 2 - 1);
  for (auto& v : outside) v = static_cast<float>(g.uniform() * 2 - 1);

  hat::cpu fp32, bf;
  REQUIRE(bf.decode_precision() == hat::precision::fp32);
  bf.set_decode_precision(hat::precision::bf16, a);
  REQUIRE(bf.decode_precision() == hat::precision::bf16);
  const hat::cpu copy = bf;  // copies share the conversion
  REQUIRE(copy.decode == bf.decode);

  const auto lowp = hat::detail::best_lowp_path();
  for (std::size_t m : {1u, 5u, 16u}) {
    INFO("m " << m);
    const std::size_t off = 8 * ld + 16, n = 40, k = 24;
    std::vector<float> want(m * n, 0.25f);
    hat::detail::few_rows_gemm_bf16(lowp, m, n, k, 0.5f, x.data(), ld, converted.data() + off, ld, 0.75f, want.data(), n);
    CHECK(product(bf, m, n, k, x.data(), ld, storage.data() + off, ld) == want);  // the slice: its bf16 twin
    CHECK(product(copy, m, n, k, x.data(), ld, storage.data() + off, ld) == want);
    CHECK(product(bf, m, n, k, x.data(), ld, storage.data() + off, ld) != product(fp32, m, n, k, x.data(), ld, storage.data() + off, ld));
    // Weights outside the arena, or running past its end: fp32, as without the copy.
    CHECK(product(bf, m, rows, ld, x.data(), ld, outside.data(), ld) ==
          product(fp32, m, rows, ld, x.data(), ld, outside.data(), ld));
    const float* tail = storage.data() + (rows - 2) * ld;  // 3 rows of 80 from here pass the end by 73
    CHECK(product(bf, m, 3, ld, x.data(), ld, tail, ld) == product(fp32, m, 3, ld, x.data(), ld, tail, ld));
  }
  // More rows than the few-row kernel takes in fp32 (a batch of beams, an encoder): bf16 too, so
  // that the precision asked is the one that runs.
  for (std::size_t m : {17u, 40u}) {
    std::vector<float> xm(m * ld);
    for (auto& v : xm) v = static_cast<float>(g.uniform());
    std::vector<float> want(m * 40, 0.25f);
    hat::detail::few_rows_gemm_bf16(lowp, m, 40, 24, 0.5f, xm.data(), ld, converted.data(), ld, 0.75f, want.data(), 40);
    CHECK(product(bf, m, 40, 24, xm.data(), ld, storage.data(), ld) == want);
    CHECK(product(fp32, m, 40, 24, xm.data(), ld, storage.data(), ld) != want);
  }

  bf.set_decode_precision(hat::precision::fp32, a);
  REQUIRE(bf.decode == nullptr);
  CHECK(product(bf, 5, 40, 24, x.data(), ld, storage.data(), ld) == product(fp32, 5, 40, 24, x.data(), ld, storage.data(), ld));
}

TEST_CASE("decode precision bf16: a PyTorch-trained model's logits within a stated bound of fp32", "[nn][cpu][precision]") {
  using namespace hat_test;
  hat::cpu be;
  const fixture fx = load("parity_shared.txt");
  model_t model(be, fx.vocab);
  fill(be, model, fx);
  const std::vector<int> src = {5, 9, 7, 11, 6, hat::special_tokens::eos};
  const std::vector<int> tgt = {8, 4, 12, 9, hat::special_tokens::eos};
  const std::size_t V = model.vocabulary().target;
  const auto logits = [&](const hat::cpu& b, const hat::transformer_config& c) {
    hat::cpu run = b;
    hat::model_workspace<hat::cpu> ws;
    hat::encoder_output<hat::cpu> enc;
    model.encode(run, c, hat::token_batch::pad({src}, true), enc, ws);
    const auto t = hat::token_batch::pad({tgt}, false);
    std::vector<float> out(t.rows * t.cols * V);
    model.decode(run, c, enc, t.shifted_right(), hat::dense(out.data(), t.rows * t.cols, V), ws);
    return out;
  };
  hat::cpu bf = be;
  bf.set_decode_precision(hat::precision::bf16, model);
  for (const auto& pc : fx.cases) {
    const auto f = logits(be, pc.config), b = logits(bf, pc.config);
    double max_diff = 0, max_abs = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      REQUIRE(std::isfinite(b[i]));
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(b[i]) - f[i]));
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(f[i])));
    }
    INFO("max |logit| " << max_abs << ", max |bf16 - fp32| " << max_diff);
    CHECK(max_diff > 0);  // the copy is read
    // bf16 keeps 8 significant bits (relative error <= 2^-9 per weight): 2 % of the largest logit
    // bounds what that does through this model's layers with room to spare.
    CHECK(max_diff <= 0.02 * std::max(1.0, max_abs));
  }
  // Back to fp32: the same bits as never converted.
  bf.set_decode_precision(hat::precision::fp32, model);
  CHECK(logits(bf, fx.cases.at(0).config) == logits(be, fx.cases.at(0).config));
}

TEST_CASE("with_decode_precision: fp32 runs on the backend itself; a backend without bf16 refuses it by name",
          "[nn][cpu][precision]") {
  struct fp32_only {};  // as hat::cuda: no set_decode_precision
  fp32_only gpu;
  const arena none{nullptr, 0};
  CHECK(hat::with_decode_precision(gpu, none, hat::precision::fp32, [&](fp32_only& b) { return &b == &gpu; }));
  CHECK_THROWS_WITH(hat::with_decode_precision(gpu, none, hat::precision::bf16, [](fp32_only&) { return 0; }),
                    "precision bf16: this backend decodes in fp32 only");
  hat::cpu be;
  std::vector<float> w(64, 0.5f);
  const arena a{w.data(), w.size()};
  CHECK(hat::with_decode_precision(be, a, hat::precision::fp32, [&](hat::cpu& b) { return &b == &be && !b.decode; }));
  CHECK(hat::with_decode_precision(be, a, hat::precision::bf16, [&](hat::cpu& b) { return &b != &be && b.decode; }));
  CHECK(be.decode == nullptr);  // the caller's backend is left as it was
  hat::cpu bf = be;
  bf.set_decode_precision(hat::precision::bf16, a);
  CHECK(hat::with_decode_precision(bf, a, hat::precision::bf16, [&](hat::cpu& b) { return &b == &bf; }));
  CHECK(hat::with_decode_precision(bf, a, hat::precision::fp32, [&](hat::cpu& b) { return &b != &bf && !b.decode; }));
  CHECK(bf.decode != nullptr);
  CHECK(hat::parse_precision("bf16", "--precision") == hat::precision::bf16);
  CHECK_THROWS_WITH(hat::parse_precision("int8", "--precision"), "--precision: unknown precision 'int8' (fp32, bf16)");
}
