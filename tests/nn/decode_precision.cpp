// SPDX-License-Identifier: MIT
// cpu::set_decode_precision: products x W^T over a model's weights read its bf16 or int8 copy
// (the same bits as the low-precision kernels on weights converted here, slices included, any
// number of rows; int8 with its scales per panel or per row); everything else stays fp32; a
// PyTorch-trained model's logits move by a bounded amount.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <cmath>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/decode/beam_search.hpp>
#include <hat/nn/paneled_matrix.hpp>
#include <hat/nn/parameter_list.hpp>
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

// Past lowp_many_rows rows a product sums the same values as the few-row kernel (few) in another
// order, or in fp32 where int8's is exact: y within fp32 rounding of k-term sums of it.
void check_close(const std::vector<float>& y, const std::vector<float>& few, std::size_t k) {
  REQUIRE(y.size() == few.size());
  for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(few[i]).margin(4e-6 * static_cast<double>(k)));
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
  REQUIRE(copy.bf16_copy == bf.bf16_copy);

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
    std::vector<float> want(m * 40, 0.25f), few = want;
    const hat::detail::few_rows_panel<hat::bf16> corner{converted.data(), ld, 24};
    hat::detail::few_rows_gemm_bf16(lowp, m, 40, 24, 0.5f, xm.data(), ld, converted.data(), ld, 0.75f, few.data(), 40);
    if (m <= hat::detail::lowp_many_rows)
      want = few;
    else  // tiles of the widened weights for the BLAS's sgemm
      hat::detail::many_rows_gemm_bf16_panels(lowp, m, 40, 0.5f, xm.data(), ld, &corner, 1, 0.75f, want.data(), 40,
                                              hat::detail::blas_sgemm_nt{});
    check_close(want, few, 24);
    CHECK(product(bf, m, 40, 24, xm.data(), ld, storage.data(), ld) == want);
    CHECK(product(fp32, m, 40, 24, xm.data(), ld, storage.data(), ld) != want);
  }

  // The arena's first 40 x 64 floats read as a paneled matrix of two 32-wide panels
  // (paneled_matrix::product: cpu::gemm_panels): one pass over both bf16 panels, with the bits of
  // the bf16 kernel on a dense copy (split at a multiple of 32 columns). A panel outside the
  // arena: one product per panel, that one in fp32.
  {
    const hat::paneled_matrix<float> pm(storage.data(), 40, {32, 64});
    std::vector<hat::bf16> dense(40 * 64);
    for (std::size_t r = 0; r < 40; ++r)
      for (std::size_t c = 0; c < 64; ++c) dense[r * 64 + c] = converted[pm.index(r, c)];
    for (std::size_t m : {1u, 5u, 16u}) {  // x holds 16 rows
      INFO("paneled, m " << m);
      std::vector<float> want(m * 40, 0.25f), got = want;
      hat::detail::few_rows_gemm_bf16(lowp, m, 40, 64, 0.5f, x.data(), ld, dense.data(), 64, 0.75f, want.data(), 40);
      pm.product(bf, hat::matrix_ref<const float>{x.data(), m, 64, ld}, 0, hat::matrix_ref<float>{got.data(), m, 40, 40},
                 0.5f, 0.75f);
      CHECK(got == want);
    }
    // Many rows (more than lowp_many_rows): the tiles hold both panels side by side, so the
    // product has the dense copy's bits there too.
    {
      const std::size_t m = hat::detail::lowp_many_rows + 8;
      std::vector<float> xm(m * 64);
      for (auto& v : xm) v = static_cast<float>(g.uniform() * 2 - 1);
      std::vector<float> want(m * 40, 0.25f), got = want, few = want;
      const hat::detail::few_rows_panel<hat::bf16> whole{dense.data(), 64, 64};
      hat::detail::many_rows_gemm_bf16_panels(lowp, m, 40, 0.5f, xm.data(), 64, &whole, 1, 0.75f, want.data(), 40,
                                              hat::detail::blas_sgemm_nt{});
      hat::detail::few_rows_gemm_bf16(lowp, m, 40, 64, 0.5f, xm.data(), 64, dense.data(), 64, 0.75f, few.data(), 40);
      check_close(want, few, 64);
      pm.product(bf, hat::matrix_ref<const float>{xm.data(), m, 64, 64}, 0, hat::matrix_ref<float>{got.data(), m, 40, 40},
                 0.5f, 0.75f);
      CHECK(got == want);
    }
    // 4 rows: panel 0's 4 x 32 end where the arena does, panel 1 lies in the memory past it
    const hat::paneled_matrix<float> partly(storage.data() + a.n - 4 * 32, 4, {32, 64});
    std::vector<float> got(5 * 4, 0.25f), want = got;
    partly.product(bf, hat::matrix_ref<const float>{x.data(), 5, 64, ld}, 0, hat::matrix_ref<float>{got.data(), 5, 4, 4},
                   0.5f, 0.75f);
    hat::detail::few_rows_gemm_bf16(lowp, 5, 4, 32, 0.5f, x.data(), ld, converted.data() + a.n - 4 * 32, 32, 0.75f,
                                    want.data(), 4);
    fp32.gemm(hat::matrix_ref<const float>{x.data() + 32, 5, 32, ld}, hat::op::none,
              hat::matrix_ref<const float>{storage.data() + a.n, 4, 32, 32}, hat::op::transpose,
              hat::matrix_ref<float>{want.data(), 5, 4, 4}, 0.5f, 1.0f);
    CHECK(got == want);
  }

  bf.set_decode_precision(hat::precision::fp32, a);
  REQUIRE(bf.bf16_copy == nullptr);
  CHECK(product(bf, 5, 40, 24, x.data(), ld, storage.data(), ld) == product(fp32, 5, 40, 24, x.data(), ld, storage.data(), ld));
}

namespace {

struct drift {
  double max_diff = 0, max_abs = 0;  // max |variant - fp32| and max |fp32| over every logit of every case
};

// The logits of every fixture case under `variant` against `fp32`, on `model` filled with `fx`.
template <class Model>
drift logit_drift(const Model& model, const hat_test::fixture& fx, const hat::cpu& fp32, const hat::cpu& variant) {
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
  drift d;
  for (const auto& pc : fx.cases) {
    const auto f = logits(fp32, pc.config), b = logits(variant, pc.config);
    for (std::size_t i = 0; i < f.size(); ++i) {
      REQUIRE(std::isfinite(b[i]));
      d.max_diff = std::max(d.max_diff, std::fabs(static_cast<double>(b[i]) - f[i]));
      d.max_abs = std::max(d.max_abs, std::fabs(static_cast<double>(f[i])));
    }
  }
  return d;
}

}  // namespace

TEST_CASE("decode precision bf16: a PyTorch-trained model's logits within a stated bound of fp32", "[nn][cpu][precision]") {
  using namespace hat_test;
  hat::cpu be;
  const fixture fx = load("parity_shared.txt");
  model_t model(be, fx.vocab);
  fill(be, model, fx);
  hat::cpu bf = be;
  bf.set_decode_precision(hat::precision::bf16, model);
  const drift d = logit_drift(model, fx, be, bf);
  INFO("max |logit| " << d.max_abs << ", max |bf16 - fp32| " << d.max_diff);
  CHECK(d.max_diff > 0);  // the copy is read
  // bf16 keeps 8 significant bits (relative error <= 2^-9 per weight): 2 % of the largest logit
  // bounds what that does through this model's layers with room to spare.
  CHECK(d.max_diff <= 0.02 * std::max(1.0, d.max_abs));
  // Back to fp32: the same bits as never converted.
  bf.set_decode_precision(hat::precision::fp32, model);
  CHECK(logit_drift(model, fx, be, bf).max_diff == 0);
}

TEST_CASE("decode precision int8: a PyTorch-trained model's logits within a stated bound of fp32, scales per panel or per row",
          "[nn][cpu][precision]") {
  using namespace hat_test;
  hat::cpu be;
  const fixture fx = load("parity_shared.txt");
  paneled_model_t model(be, fx.vocab);  // weights in column panels: the two scale choices differ
  fill(be, model, fx);
  for (auto scales : {hat::int8_scales::panel, hat::int8_scales::row}) {
    hat::cpu q = be;
    q.set_decode_precision(hat::precision::int8, model, scales);
    REQUIRE(q.decode_precision() == hat::precision::int8);
    const drift d = logit_drift(model, fx, be, q);
    INFO((scales == hat::int8_scales::row ? "row" : "panel") << " scales: max |logit| " << d.max_abs
                                                              << ", max |int8 - fp32| " << d.max_diff);
    CHECK(d.max_diff > 0);
    // int8 keeps 7 bits of each row's largest weight (error <= scale / 2 = max|w| / 254) and 12
    // of each activation row's: 8 % of the largest logit bounds what that does through this
    // model's layers.
    CHECK(d.max_diff <= 0.08 * std::max(1.0, d.max_abs));
  }
}

TEST_CASE("decode precision int8: each matrix's int8 twin, its row scales per panel or per row, slices and the fp32 rest",
          "[nn][cpu][precision]") {
  hat::rng g(23);
  // An arena: a plain matrix a [10, 24], a paneled matrix b [12, 40] in panels of 16 and 24
  // columns, a bias [5].
  struct model_like {
    std::vector<float> storage = std::vector<float>(10 * 24 + 12 * 40 + 5);
    std::vector<hat::parameter_info> info{{"a.weight", 0, {10, 24}, {}, hat::parameter_init::zero},
                                          {"b.weight", 240, {12, 40}, {16, 40}, hat::parameter_init::zero},
                                          {"b.bias", 720, {5}, {}, hat::parameter_init::zero}};
    const float* data() const noexcept { return storage.data(); }
    std::size_t size() const noexcept { return storage.size(); }
    const std::vector<hat::parameter_info>& parameters() const noexcept { return info; }
  } model;
  for (auto& v : model.storage) v = static_cast<float>(g.uniform() * 2 - 1);
  for (std::size_t c = 0; c < 16; ++c) model.storage[240 + 5 * 16 + c] *= 0.01f;  // b's row 5 is small in panel 0
  std::vector<float> x(40 * 40);  // up to 40 rows (check_view's largest m: past lowp_many_rows)
  for (auto& v : x) v = static_cast<float>(g.uniform() * 2 - 1);
  const float* w = model.storage.data();
  const auto lowp = hat::detail::best_lowp_path();
  hat::cpu fp32;

  for (auto scales : {hat::int8_scales::panel, hat::int8_scales::row}) {
    INFO((scales == hat::int8_scales::panel ? "panel" : "row") << " scales");
    hat::cpu q;
    q.set_decode_precision(hat::precision::int8, model, scales);
    REQUIRE(q.decode_precision() == hat::precision::int8);
    CHECK(q.decodes_at(hat::precision::int8, model, scales));
    CHECK(q.decode_int8_scales() == scales);
    const auto other = scales == hat::int8_scales::panel ? hat::int8_scales::row : hat::int8_scales::panel;
    CHECK_FALSE(q.decodes_at(hat::precision::int8, model, other));
    // with_decode_precision runs on q itself at its scales, on a converted copy at the others.
    CHECK(hat::with_decode_precision(q, model, hat::precision::int8, [&](hat::cpu& b) { return &b == &q; }, scales));
    CHECK(hat::with_decode_precision(
        q, model, hat::precision::int8, [&](hat::cpu& b) { return &b != &q && b.decodes_at(hat::precision::int8, model, other); },
        other));
    // What the twin must hold, computed here block by block: (offset, rows, width) of each
    // stored block, and the columns a row's scale is taken over.
    std::vector<std::int8_t> twin(model.size());
    std::vector<float> scale(model.size());  // by the block row's first offset
    const auto convert = [&](std::size_t at, std::size_t rows, std::size_t width, auto&& scale_of) {
      for (std::size_t r = 0; r < rows; ++r) {
        scale[at + r * width] = scale_of(r);
        hat::quantize_int8(w + at + r * width, width, scale[at + r * width], twin.data() + at + r * width);
      }
    };
    convert(0, 10, 24, [&](std::size_t r) { return hat::int8_row_scale(w + r * 24, 24); });
    for (std::size_t p = 0; p < 2; ++p) {
      const std::size_t at = 240 + 12 * (p == 0 ? 0 : 16), width = p == 0 ? 16 : 24;
      convert(at, 12, width, [&](std::size_t r) {
        if (scales == hat::int8_scales::panel) return hat::int8_row_scale(w + at + r * width, width);
        return std::max(hat::int8_row_scale(w + 240 + r * 16, 16), hat::int8_row_scale(w + 240 + 12 * 16 + r * 24, 24));
      });
    }
    // A view of `rows` rows and k columns at (row r0, column c0) of the block at `at`.
    const auto check_view = [&](std::size_t at, std::size_t width, std::size_t r0, std::size_t c0, std::size_t rows,
                                std::size_t k) {
      std::vector<float> row_scale(rows);
      for (std::size_t r = 0; r < rows; ++r) row_scale[r] = scale[at + (r0 + r) * width];
      const std::size_t off = at + r0 * width + c0;
      for (std::size_t m : {1u, 5u, 20u, 40u}) {
        INFO("block at " << at << ", rows " << r0 << "+" << rows << ", columns " << c0 << "+" << k << ", m " << m);
        std::vector<float> want(m * rows, 0.25f), few = want;
        const hat::detail::int8_panel view{twin.data() + off, width, k, row_scale.data()};
        hat::detail::few_rows_gemm_int8_panels(lowp, m, rows, 0.5f, x.data(), 40, &view, 1, 0.75f, few.data(), rows);
        if (m <= hat::detail::lowp_many_rows)
          want = few;
        else  // x quantised as there, both sides dequantised, the BLAS's sgemm
          hat::detail::many_rows_gemm_int8_panels(lowp, m, rows, 0.5f, x.data(), 40, &view, 1, 0.75f, want.data(), rows,
                                                  hat::detail::blas_sgemm_nt{});
        check_close(want, few, k);
        CHECK(product(q, m, rows, k, x.data(), 40, w + off, width) == want);
        CHECK(product(fp32, m, rows, k, x.data(), 40, w + off, width) != want);
      }
    };
    check_view(0, 24, 0, 0, 10, 24);   // all of a
    check_view(0, 24, 2, 3, 5, 17);    // a slice of a
    check_view(240, 16, 0, 0, 12, 16);  // b's first panel: a SubTransformer of input width 16
    check_view(240, 16, 4, 0, 6, 12);
    check_view(432, 24, 3, 0, 9, 24);   // b's second panel
    // b as a paneled matrix, read across both panels (paneled_matrix::product: cpu::gemm_panels):
    // one pass with the bits of one int8 product per panel, accumulated; past lowp_many_rows
    // rows, one sgemm over both panels dequantised side by side, within fp32 rounding of that.
    const hat::paneled_matrix<float> b(model.storage.data() + 240, 12, {16, 40});
    // Past lowp_many_rows rows: both panels dequantised side by side into tiles for the BLAS.
    for (std::size_t m : {1u, 5u, 20u, 40u})
      for (const auto& [r0, rows, k] : {std::array<std::size_t, 3>{0, 12, 40}, std::array<std::size_t, 3>{4, 6, 30}}) {
        INFO("b across its panels: rows " << r0 << "+" << rows << ", columns " << k << ", m " << m);
        std::vector<float> want(m * rows, 0.25f), got = want, plain = want, per_panel = want;
        std::vector<float> row_scale[2];
        hat::detail::int8_panel panels[2];
        for (std::size_t p = 0; p < 2; ++p) {
          const std::size_t at = p == 0 ? 240 : 432, width = p == 0 ? 16 : 24, cols = p == 0 ? 16 : k - 16;
          row_scale[p].resize(rows);
          for (std::size_t r = 0; r < rows; ++r) row_scale[p][r] = scale[at + (r0 + r) * width];
          panels[p] = {twin.data() + at + r0 * width, width, cols, row_scale[p].data()};
          hat::detail::few_rows_gemm_int8(lowp, m, rows, cols, 0.5f, x.data() + (p == 0 ? 0 : 16), 40, panels[p].q,
                                          width, panels[p].scale, p == 0 ? 0.75f : 1.0f, per_panel.data(), rows);
        }
        if (m <= hat::detail::lowp_many_rows)
          want = per_panel;
        else
          hat::detail::many_rows_gemm_int8_panels(lowp, m, rows, 0.5f, x.data(), 40, panels, 2, 0.75f, want.data(), rows,
                                                  hat::detail::blas_sgemm_nt{});
        check_close(want, per_panel, k);
        const hat::matrix_ref<const float> xv{x.data(), m, k, 40};
        b.product(q, xv, r0, hat::matrix_ref<float>{got.data(), m, rows, rows}, 0.5f, 0.75f);
        CHECK(got == want);
        b.product(fp32, xv, r0, hat::matrix_ref<float>{plain.data(), m, rows, rows}, 0.5f, 0.75f);
        CHECK(plain != want);
      }
    // (the fixture: b's row 5 has a small panel 0, so per-panel and per-row scales differ there,
    // which check_view's rows 4-9 of panel 0 then tell apart)
    REQUIRE((scales == hat::int8_scales::row || scale[240 + 5 * 16] < scale[432 + 5 * 24] / 10));
    // Not one panel of one matrix with its own leading dimension, or not a matrix: fp32.
    for (const auto& [at, rows, k, ld] : {std::array<std::size_t, 4>{240, 12, 40, 40},  // b as if plain
                                          std::array<std::size_t, 4>{240 + 8, 2, 16, 16},  // past panel 0's width
                                          std::array<std::size_t, 4>{240 + 11 * 16, 2, 8, 16},  // past panel 0's rows
                                          std::array<std::size_t, 4>{720, 1, 5, 5},            // the bias
                                          std::array<std::size_t, 4>{8 * 24, 3, 24, 24}})      // past a's rows
      CHECK(product(q, 5, rows, k, x.data(), 40, w + at, ld) == product(fp32, 5, rows, k, x.data(), 40, w + at, ld));
  }

  // A weight int8 cannot code is refused with its matrix, row and column; the backend stays as
  // it was.
  hat::cpu q;
  q.set_decode_precision(hat::precision::int8, model, hat::int8_scales::row);
  const auto before = q.int8_copy;
  model.storage[240 + 12 * 16 + 3 * 24 + 4] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(q.set_decode_precision(hat::precision::int8, model),
                    "precision int8: weight 'b.weight' holds a non-finite value (row 3, column 20)");
  CHECK(q.int8_copy == before);
  CHECK(q.decodes_at(hat::precision::int8, model, hat::int8_scales::row));
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
  CHECK(hat::with_decode_precision(be, a, hat::precision::fp32, [&](hat::cpu& b) { return &b == &be && !b.bf16_copy; }));
  CHECK(hat::with_decode_precision(be, a, hat::precision::bf16, [&](hat::cpu& b) { return &b != &be && b.bf16_copy; }));
  CHECK(be.bf16_copy == nullptr);  // the caller's backend is left as it was
  hat::cpu bf = be;
  bf.set_decode_precision(hat::precision::bf16, a);
  CHECK(hat::with_decode_precision(bf, a, hat::precision::bf16, [&](hat::cpu& b) { return &b == &bf; }));
  // A copy made from another model's weights does not count: that model gets its own.
  std::vector<float> w2(64, 0.25f);
  const arena a2{w2.data(), w2.size()};
  CHECK_FALSE(bf.decodes_at(hat::precision::bf16, a2));
  CHECK(hat::with_decode_precision(bf, a2, hat::precision::bf16,
                                   [&](hat::cpu& b) { return &b != &bf && b.decodes_at(hat::precision::bf16, a2); }));
  CHECK(hat::with_decode_precision(bf, a, hat::precision::fp32, [&](hat::cpu& b) { return &b != &bf && !b.bf16_copy; }));
  CHECK(bf.bf16_copy != nullptr);
  CHECK(hat::parse_precision("bf16", "--precision") == hat::precision::bf16);
  CHECK(hat::parse_precision("int8", "--precision") == hat::precision::int8);
  CHECK(hat::parse_int8_scales("row", "--int8-scales") == hat::int8_scales::row);
  CHECK(hat::int8_scales_name(hat::parse_int8_scales("panel", "--int8-scales")) == "panel");
  CHECK_THROWS_WITH(hat::parse_int8_scales("tensor", "--int8-scales"), "--int8-scales: unknown int8 scales 'tensor' (panel, row)");
  // A precision this CPU runs on the portable kernels only is said (the commands print it once).
  using hat::detail::lowp_path;
  CHECK(hat::cpu::precision_warning(hat::precision::int8, lowp_path::scalar) ==
        "precision int8 runs the portable scalar kernels on this CPU (no AVX2): slower than fp32 (the same results as the "
        "vector kernels)");
  CHECK(hat::cpu::precision_warning(hat::precision::bf16, lowp_path::scalar).find("precision bf16 ") == 0);
  CHECK(hat::cpu::precision_warning(hat::precision::fp32, lowp_path::scalar).empty());
  CHECK(hat::cpu::precision_warning(hat::precision::int8, lowp_path::avx2).empty());
  CHECK_THROWS_WITH(hat::parse_precision("fp16", "--precision"), "--precision: unknown precision 'fp16' (fp32, bf16, int8)");
  // int8 needs the model's list of matrices: an arena without one is refused by name.
  CHECK_THROWS_WITH(hat::with_decode_precision(be, a, hat::precision::int8, [](hat::cpu&) { return 0; }),
                    "precision int8: the model does not list its weight matrices (parameters())");
}
