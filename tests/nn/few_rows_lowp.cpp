// SPDX-License-Identifier: MIT
// bf16 and int8 weights: the conversions, and the few-row kernels on every path this CPU has
// (scalar, AVX2, AVX-512, AVX512-VNNI) against double-precision references, and on the worker
// pool's threads against one thread; over column panels in one pass against a product per panel
// (int8) or a dense copy (bf16). Products of many rows (cpu_lowp_many_rows.hpp): tiles against
// the double product of the same widened or dequantised values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <initializer_list>
#include <optional>
#include <vector>

#include <hat/backend/cpu_few_rows_bf16.hpp>
#include <hat/backend/cpu_few_rows_int8.hpp>
#include <hat/backend/cpu_lowp_many_rows.hpp>
#include <hat/backend/flush_subnormals.hpp>
#include <hat/space/random.hpp>

namespace {

using hat::detail::lowp_path;

std::vector<lowp_path> paths_here() {
  std::vector<lowp_path> v;
  for (lowp_path p : {lowp_path::scalar, lowp_path::avx2, lowp_path::avx512, lowp_path::avx512_vnni})
    if (hat::detail::lowp_path_available(p)) v.push_back(p);
    else WARN("this CPU lacks the " << hat::detail::lowp_path_name(p) << " path: not run here");
  return v;
}

float bits_float(std::uint32_t u) { return std::bit_cast<float>(u); }

struct problem {
  std::size_t m, n, k, ldx, ldw, ldy;
  std::vector<float> x, w, y;
};

// x and w uniform in [-1, 1), y in [0, 1).
template <class Problem>
void fill_random(Problem& p, hat::rng& g) {
  for (auto& v : p.x) v = static_cast<float>(g.uniform() * 2 - 1);
  for (auto& v : p.w) v = static_cast<float>(g.uniform() * 2 - 1);
  for (auto& v : p.y) v = static_cast<float>(g.uniform());
}

problem random_problem(std::size_t m, std::size_t n, std::size_t k, hat::rng& g) {
  problem p{m, n, k, k + 3, k + 5, n + 2, {}, {}, {}};  // strided, as elastic slices are
  p.x.resize(m * p.ldx);
  p.w.resize(n * p.ldw);
  p.y.resize(m * p.ldy);
  fill_random(p, g);
  return p;
}

}  // namespace

TEST_CASE("bf16: round to nearest even, NaN and infinity kept", "[nn][cpu][lowp]") {
  using hat::to_bf16;
  using hat::to_float;
  CHECK(to_float(to_bf16(1.0f)) == 1.0f);
  CHECK(to_float(to_bf16(-2.5f)) == -2.5f);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  CHECK(to_float(to_bf16(1.0f + 0x1p-8f)) == 1.0f);
  CHECK(to_float(to_bf16(1.0f + 3 * 0x1p-8f)) == 1.0f + 0x1p-6f);  // tie, to the even 1 + 2^-6
  CHECK(to_float(to_bf16(1.0f + 0x1p-8f + 0x1p-20f)) == 1.0f + 0x1p-7f);  // above the tie: up
  CHECK(to_bf16(bits_float(0x3F80FFFFu)).bits == 0x3F81);
  CHECK(std::isnan(to_float(to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(to_float(to_bf16(bits_float(0x7F800001u)))));  // a NaN whose payload is all in the low half
  CHECK(to_float(to_bf16(std::numeric_limits<float>::infinity())) == std::numeric_limits<float>::infinity());
  CHECK(to_float(to_bf16(std::numeric_limits<float>::max())) == std::numeric_limits<float>::infinity());
  CHECK(to_float(to_bf16(-0.0f)) == 0.0f);
  CHECK(std::signbit(to_float(to_bf16(-0.0f))));
  CHECK(to_float(to_bf16(bits_float(0x00000001u))) == 0.0f);  // the smallest subnormal rounds to 0
}

TEST_CASE("int8 rows: symmetric per-row scales; activations as 13-bit integers", "[nn][cpu][lowp]") {
  const float w[4] = {0.5f, -1.27f, 0.01f, 0.0f};
  const float s = hat::int8_row_scale(w, 4);
  CHECK(s == Approx(0.01f));
  std::int8_t q[4];
  hat::quantize_int8(w, 4, s, q);
  CHECK(q[0] == 50);
  CHECK(q[1] == -127);
  CHECK(q[2] == 1);
  CHECK(q[3] == 0);
  // Clamped to ±127; NaN and +inf to 127, -inf to -127; a NaN does not set a row's scale.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float wide[5] = {1000.0f, -1000.0f, nan, inf, -inf};
  std::int8_t wq[5];
  hat::quantize_int8(wide, 5, 1.0f, wq);
  CHECK(std::vector<int>(wq, wq + 5) == std::vector<int>{127, -127, 127, 127, -127});
  const float with_nan[3] = {nan, -2.54f, 1.0f};
  CHECK(hat::int8_row_scale(with_nan, 3) == Approx(0.02f));
  const float zeros[3] = {};
  CHECK(hat::int8_row_scale(zeros, 3) == 0.0f);
  hat::quantize_int8(zeros, 3, 0.0f, q);
  CHECK((q[0] == 0 && q[1] == 0 && q[2] == 0));

  const float x[5] = {2.0f, -1.0f, 0.5f, 1e-6f, -2.0f};
  std::int16_t xq[5];
  const float xs = hat::quantize_activations(x, 5, xq);
  CHECK(xs == 2.0f / 4095.0f);
  CHECK(xq[0] == 4095);
  CHECK(xq[1] == -2048);  // -2047.5 rounds to the even -2048
  CHECK(xq[2] == 1024);   // 1023.75
  CHECK(xq[3] == 0);
  CHECK(xq[4] == -4095);
  const float bad[3] = {1.0f, std::numeric_limits<float>::infinity(), 0.0f};
  CHECK(std::isnan(hat::quantize_activations(bad, 3, xq)));
  CHECK(hat::quantize_activations(zeros, 3, xq) == 0.0f);
}

TEST_CASE("int8 activations: the vector quantisations give the scalar one's integers and scale", "[nn][cpu][lowp]") {
  // Ties: the largest magnitude 4095 makes inv 1, so x.5 values round to the even integer.
  const std::vector<float> ties = {4095.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.5f, 4094.5f};
  std::vector<std::int16_t> tq(ties.size());
  CHECK(hat::quantize_activations(ties.data(), ties.size(), tq.data()) == 1.0f);
  CHECK(tq == std::vector<std::int16_t>{4095, 0, 2, 2, 0, -2, -2, 4, 4094});
  hat::rng g(41);
  // Tiny rows: subnormal (1e-38, denorm_min), normal with 4095 / max overflowing (1e-36), normal
  // with a subnormal scale (3e-35).
  std::vector<std::vector<float>> rows = {ties,
                                          {},
                                          std::vector<float>(37, 0.0f),
                                          std::vector<float>(19, 1e-38f),
                                          std::vector<float>(40, std::numeric_limits<float>::denorm_min()),
                                          std::vector<float>(23, 1e-36f),
                                          std::vector<float>(17, -3e-35f)};
  for (std::size_t k : {1u, 7u, 8u, 15u, 16u, 17u, 31u, 33u, 640u, 4136u}) {
    std::vector<float> r(k);
    for (auto& v : r) v = static_cast<float>((g.uniform() * 2 - 1) * 3);
    rows.push_back(r);
    r[k / 2] = std::numeric_limits<float>::quiet_NaN();
    rows.push_back(r);
    r[k / 2] = -std::numeric_limits<float>::infinity();
    rows.push_back(r);
  }
  for (bool ftz : {false, true}) {
    std::optional<hat::detail::flush_subnormals> guard;  // as the products run
    if (ftz) guard.emplace();
    for (const auto& r : rows) {
      INFO("k " << r.size() << (ftz ? ", subnormals flushed" : ""));
      std::vector<std::int16_t> want(r.size() + 1, 7), got = want;
      [[maybe_unused]] const float scale = hat::quantize_activations(r.data(), r.size(), want.data());
      CHECK(want.back() == 7);  // nothing past k
#ifdef HAT_FEW_ROWS_X86
      for (lowp_path path : paths_here()) {
        if (path == lowp_path::scalar) continue;
        INFO("path " << hat::detail::lowp_path_name(path));
        std::fill(got.begin(), got.end(), std::int16_t{7});
        const float s = path == lowp_path::avx2 ? hat::detail::quantize_activations_avx2(r.data(), r.size(), got.data())
                                                : hat::detail::quantize_activations_avx512(r.data(), r.size(), got.data());
        CHECK(got == want);
        CHECK(std::bit_cast<std::uint32_t>(s) == std::bit_cast<std::uint32_t>(scale));
      }
#endif
    }
  }
}

TEST_CASE("few-row bf16 kernel: every path equals the double product of the bf16 weights", "[nn][cpu][lowp]") {
  hat::rng g(7);
  for (lowp_path path : paths_here())
    for (std::size_t m : {1u, 2u, 5u, 6u, 7u, 16u})
      for (std::size_t n : {1u, 3u, 4u, 9u, 64u})
        for (std::size_t k : {1u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 512u}) {
          INFO("path " << hat::detail::lowp_path_name(path) << " m " << m << " n " << n << " k " << k);
          problem p = random_problem(m, n, k, g);
          std::vector<hat::bf16> w(p.w.size());
          for (std::size_t i = 0; i < w.size(); ++i) w[i] = hat::to_bf16(p.w[i]);
          for (float beta : {0.0f, 0.5f}) {
            std::vector<float> got = p.y;
            hat::detail::few_rows_gemm_bf16(path, m, n, k, 0.75f, p.x.data(), p.ldx, w.data(), p.ldw, beta, got.data(), p.ldy);
            for (std::size_t i = 0; i < m; ++i)
              for (std::size_t j = 0; j < p.ldy; ++j) {
                if (j >= n) {  // the row padding is left alone
                  REQUIRE(got[i * p.ldy + j] == p.y[i * p.ldy + j]);
                  continue;
                }
                double want = 0;
                for (std::size_t c = 0; c < k; ++c)
                  want += static_cast<double>(p.x[i * p.ldx + c]) * hat::to_float(w[j * p.ldw + c]);
                want = 0.75 * want + beta * p.y[i * p.ldy + j];
                REQUIRE(got[i * p.ldy + j] == Approx(want).margin(2e-6 * static_cast<double>(k)));
              }
          }
        }
}

TEST_CASE("few-row int8 kernel: every path gives the scalar path's bits, within the quantisation bound", "[nn][cpu][lowp]") {
  hat::rng g(11);
  const auto paths = paths_here();
  for (std::size_t m : {1u, 2u, 5u, 6u, 7u, 13u})
    for (std::size_t n : {1u, 3u, 4u, 9u, 33u})
      for (std::size_t k : {1u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 512u, 4096u + 40u}) {
        INFO("m " << m << " n " << n << " k " << k);
        problem p = random_problem(m, n, k, g);
        std::vector<std::int8_t> q(p.w.size());
        std::vector<float> scale(n);
        for (std::size_t j = 0; j < n; ++j) {
          scale[j] = hat::int8_row_scale(p.w.data() + j * p.ldw, k);
          hat::quantize_int8(p.w.data() + j * p.ldw, k, scale[j], q.data() + j * p.ldw);
        }
        for (float beta : {0.0f, 0.5f}) {
          std::vector<float> reference = p.y;
          hat::detail::few_rows_gemm_int8(lowp_path::scalar, m, n, k, 0.75f, p.x.data(), p.ldx, q.data(), p.ldw, scale.data(),
                                          beta, reference.data(), p.ldy);
          for (lowp_path path : paths) {
            INFO("path " << hat::detail::lowp_path_name(path));
            std::vector<float> got = p.y;
            hat::detail::few_rows_gemm_int8(path, m, n, k, 0.75f, p.x.data(), p.ldx, q.data(), p.ldw, scale.data(), beta,
                                            got.data(), p.ldy);
            REQUIRE(got == reference);  // the padding columns included: left alone
          }
          // Against the float product: x and W each off by at most half a step per element.
          for (std::size_t i = 0; i < m; ++i) {
            double xmax = 0;
            for (std::size_t c = 0; c < k; ++c) xmax = std::max(xmax, std::fabs(static_cast<double>(p.x[i * p.ldx + c])));
            const double xstep = xmax / hat::int8_activation_max;
            for (std::size_t j = 0; j < n; ++j) {
              double want = 0, bound = 0;
              for (std::size_t c = 0; c < k; ++c) {
                const double xv = p.x[i * p.ldx + c], wv = p.w[j * p.ldw + c];
                want += xv * wv;
                bound += std::fabs(xv) * scale[j] / 2 + (std::fabs(wv) + scale[j] / 2) * xstep / 2;
              }
              want = 0.75 * want + beta * p.y[i * p.ldy + j];
              REQUIRE(std::fabs(reference[i * p.ldy + j] - want) <= 0.75 * bound + 1e-5 * (1 + std::fabs(want)));
            }
          }
        }
      }
}

namespace {

// W [n, sum of widths] as column panels one after another (panel p: [n, width_p], ld = width_p
// + 3, strided as a paneled matrix's slices may be), x [m, sum of widths] with ld + 2.
struct paneled_problem {
  std::size_t m, n, k = 0, ldx, ldy;
  std::vector<std::size_t> widths, lds, starts;  // per panel; starts: offset of panel p in w
  std::vector<float> x, w, y;
};

paneled_problem random_paneled(std::size_t m, std::size_t n, std::vector<std::size_t> widths, hat::rng& g) {
  paneled_problem p{m, n, 0, 0, n + 2, std::move(widths), {}, {}, {}, {}, {}};
  std::size_t at = 0;
  for (std::size_t width : p.widths) {
    p.k += width;
    p.lds.push_back(width + 3);
    p.starts.push_back(at);
    at += n * (width + 3);
  }
  p.ldx = p.k + 2;
  p.x.resize(m * p.ldx);
  p.w.resize(at);
  p.y.resize(m * p.ldy);
  fill_random(p, g);
  return p;
}

// f(p, widths) on a random paneled problem per split, row count m and output count n.
template <class F>
void for_each_paneled(const std::vector<std::vector<std::size_t>>& splits, std::initializer_list<std::size_t> rows,
                      hat::rng& g, F&& f, std::initializer_list<std::size_t> outputs = {1u, 4u, 9u}) {
  for (const auto& widths : splits)
    for (std::size_t m : rows)
      for (std::size_t n : outputs) {
        INFO("panels " << widths.size() << " first width " << widths[0] << " m " << m << " n " << n);
        paneled_problem p = random_paneled(m, n, widths, g);
        f(p, widths);
      }
}

// p's weights in int8, each panel's rows with their own scales (int8_scales::panel), and the
// panel list the int8 kernels take.
struct int8_paneled {
  std::vector<std::int8_t> q;
  std::vector<std::vector<float>> scales;
  std::vector<hat::detail::int8_panel> panels;
  explicit int8_paneled(const paneled_problem& p) : q(p.w.size()), scales(p.widths.size(), std::vector<float>(p.n)) {
    for (std::size_t t = 0; t < p.widths.size(); ++t) {
      for (std::size_t j = 0; j < p.n; ++j) {
        const std::size_t row = p.starts[t] + j * p.lds[t];
        scales[t][j] = hat::int8_row_scale(p.w.data() + row, p.widths[t]);
        hat::quantize_int8(p.w.data() + row, p.widths[t], scales[t][j], q.data() + row);
      }
      panels.push_back({q.data() + p.starts[t], p.lds[t], p.widths[t], scales[t].data()});
    }
  }
  int8_paneled(const int8_paneled&) = delete;  // panels point into q and scales
  int8_paneled& operator=(const int8_paneled&) = delete;
};

}  // namespace

TEST_CASE("few-row int8 kernel over panels: one pass gives the bits of one product per panel, every path",
          "[nn][cpu][lowp]") {
  hat::rng g(31);
  const auto paths = paths_here();
  const std::vector<std::vector<std::size_t>> splits = {
      {512, 128}, {16, 24}, {17, 40}, {1, 1, 33}, {100, 4096 + 40}, {32, 64, 96, 32}, {5, 7, 9, 11, 13, 15, 17, 19}};
  for_each_paneled(splits, {1u, 5u, 7u, 13u}, g, [&](paneled_problem& p, const std::vector<std::size_t>& widths) {
        const std::size_t m = p.m, n = p.n;
        const int8_paneled w8(p);
        const std::vector<hat::detail::int8_panel>& panels = w8.panels;
        for (float beta : {0.0f, 0.5f}) {
          INFO("beta " << beta);
          // One scalar product per panel, accumulated: what gemm_panels did panel by panel.
          std::vector<float> want = p.y;
          for (std::size_t t = 0, col = 0; t < widths.size(); col += widths[t], ++t)
            hat::detail::few_rows_gemm_int8(lowp_path::scalar, m, n, widths[t], 0.75f, p.x.data() + col, p.ldx,
                                            panels[t].q, panels[t].ld, panels[t].scale, t == 0 ? beta : 1.0f,
                                            want.data(), p.ldy);
          for (lowp_path path : paths) {
            INFO("path " << hat::detail::lowp_path_name(path));
            std::vector<float> got = p.y;
            hat::detail::few_rows_gemm_int8_panels(path, m, n, 0.75f, p.x.data(), p.ldx, panels.data(), panels.size(), beta,
                                                   got.data(), p.ldy);
            REQUIRE(got == want);  // the padding columns included: left alone
          }
        }
      });
}

TEST_CASE("few-row bf16 kernel over panels: a dense copy's bits where split at multiples of 32, the double product "
          "otherwise, every path",
          "[nn][cpu][lowp]") {
  hat::rng g(37);
  const auto paths = paths_here();
  const std::vector<std::vector<std::size_t>> splits = {{512, 128}, {32, 64, 96, 32}, {64, 32}, {17, 40}, {1, 1, 33},
                                                        {5, 7, 9, 11, 13, 15, 17, 19}};
  for_each_paneled(splits, {1u, 5u, 6u, 13u}, g, [&](paneled_problem& p, const std::vector<std::size_t>& widths) {
        const std::size_t m = p.m, n = p.n;
        std::vector<hat::bf16> b(p.w.size());
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = hat::to_bf16(p.w[i]);
        std::vector<hat::detail::few_rows_panel<hat::bf16>> panels;
        std::vector<hat::bf16> dense(n * p.k);  // the same weights as one panel
        for (std::size_t t = 0, col = 0; t < widths.size(); col += widths[t], ++t) {
          panels.push_back({b.data() + p.starts[t], p.lds[t], widths[t]});
          for (std::size_t j = 0; j < n; ++j)
            for (std::size_t c = 0; c < widths[t]; ++c) dense[j * p.k + col + c] = b[p.starts[t] + j * p.lds[t] + c];
        }
        const bool aligned = std::all_of(widths.begin(), widths.end(), [](std::size_t w) { return w % 32 == 0; });
        for (lowp_path path : paths)
          for (float beta : {0.0f, 0.5f}) {
            INFO("path " << hat::detail::lowp_path_name(path) << " beta " << beta);
            std::vector<float> got = p.y, want = p.y;
            hat::detail::few_rows_gemm_bf16_panels(path, m, n, 0.75f, p.x.data(), p.ldx, panels.data(), panels.size(), beta,
                                                   got.data(), p.ldy);
            hat::detail::few_rows_gemm_bf16(path, m, n, p.k, 0.75f, p.x.data(), p.ldx, dense.data(), p.k, beta, want.data(),
                                            p.ldy);
            if (aligned || path == lowp_path::scalar) REQUIRE(got == want);  // the scalar path sums in column order
            for (std::size_t i = 0; i < m; ++i)
              for (std::size_t j = 0; j < p.ldy; ++j) {
                if (j >= n) {
                  REQUIRE(got[i * p.ldy + j] == p.y[i * p.ldy + j]);
                  continue;
                }
                double d = 0;
                for (std::size_t c = 0; c < p.k; ++c)
                  d += static_cast<double>(p.x[i * p.ldx + c]) * hat::to_float(dense[j * p.k + c]);
                d = 0.75 * d + beta * p.y[i * p.ldy + j];
                REQUIRE(got[i * p.ldy + j] == Approx(d).margin(2e-6 * static_cast<double>(p.k)));
              }
          }
      });
}

TEST_CASE("few-row int8 kernel: the largest values over several chunks sum exactly", "[nn][cpu][lowp]") {
  // Every product 4095 x 127 over 2.5 chunks: an int32 per chunk must not overflow.
  const std::size_t m = 2, n = 3, k = 2 * hat::int8_chunk + hat::int8_chunk / 2;
  std::vector<float> x(m * k, -3.0f), y(m * n, 1.0f);
  std::vector<std::int8_t> q(n * k, 127);
  const std::vector<float> scale(n, 0.5f);
  for (lowp_path path : paths_here()) {
    INFO("path " << hat::detail::lowp_path_name(path));
    hat::detail::few_rows_gemm_int8(path, m, n, k, 1.0f, x.data(), k, q.data(), k, scale.data(), 0.0f, y.data(), n);
    for (float v : y) REQUIRE(v == Approx(-3.0 * 63.5 * static_cast<double>(k)).epsilon(1e-6));
  }
}

TEST_CASE("few-row low-precision kernels: a NaN or an infinity in x reaches y", "[nn][cpu][lowp]") {
  const std::size_t k = 40;
  std::vector<float> x(k, 0.5f), y(2, 0.0f);
  x[7] = std::numeric_limits<float>::infinity();
  std::vector<std::int8_t> q(2 * k, 3);
  std::vector<hat::bf16> b(2 * k, hat::to_bf16(0.25f));
  const std::vector<float> scale(2, 0.1f);
  for (lowp_path path : paths_here()) {
    INFO("path " << hat::detail::lowp_path_name(path));
    hat::detail::few_rows_gemm_int8(path, 1, 2, k, 1.0f, x.data(), k, q.data(), k, scale.data(), 0.0f, y.data(), 2);
    CHECK(std::isnan(y[0]));
    hat::detail::few_rows_gemm_bf16(path, 1, 2, k, 1.0f, x.data(), k, b.data(), k, 0.0f, y.data(), 2);
    CHECK(std::isinf(y[1]));
  }
}

TEST_CASE("few-row low-precision kernels on threads: the same bits on 1, 2 and 3 threads, every path",
          "[nn][cpu][lowp][threads]") {
  hat::rng g(17);
  auto& pool = hat::detail::worker_pool::instance();
  const auto paths = paths_here();
  for (std::size_t m : {1u, 5u})
    for (std::size_t n : {2100u, 4099u}) {
      const std::size_t k = 512;  // 2-4 MB of bf16, 1-2 MB of int8: split on every thread count here
      INFO("m " << m << " n " << n);
      problem p = random_problem(m, n, k, g);
      std::vector<hat::bf16> b(p.w.size());
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = hat::to_bf16(p.w[i]);
      std::vector<std::int8_t> q(p.w.size());
      std::vector<float> scale(n);
      for (std::size_t j = 0; j < n; ++j) {
        scale[j] = hat::int8_row_scale(p.w.data() + j * p.ldw, k);
        hat::quantize_int8(p.w.data() + j * p.ldw, k, scale[j], q.data() + j * p.ldw);
      }
      for (lowp_path path : paths) {
        INFO("path " << hat::detail::lowp_path_name(path));
        std::vector<float> want_b, want_q, want_bp, want_qp;
        for (int threads : {1, 2, 3}) {
          pool.set_threads(threads);
          std::vector<float> yb = p.y, yq = p.y;
          hat::detail::few_rows_gemm_bf16(path, m, n, k, 0.75f, p.x.data(), p.ldx, b.data(), p.ldw, 0.5f, yb.data(), p.ldy);
          hat::detail::few_rows_gemm_int8(path, m, n, k, 0.75f, p.x.data(), p.ldx, q.data(), p.ldw, scale.data(), 0.5f,
                                          yq.data(), p.ldy);
          // the same weights read as two panels of 384 and 128 columns, in one pass
          const hat::detail::few_rows_panel<hat::bf16> bp[2] = {{b.data(), p.ldw, 384}, {b.data() + 384, p.ldw, 128}};
          const hat::detail::int8_panel qp[2] = {{q.data(), p.ldw, 384, scale.data()},
                                                 {q.data() + 384, p.ldw, 128, scale.data()}};
          std::vector<float> ybp = p.y, yqp = p.y;
          hat::detail::few_rows_gemm_bf16_panels(path, m, n, 0.75f, p.x.data(), p.ldx, bp, 2, 0.5f, ybp.data(), p.ldy);
          hat::detail::few_rows_gemm_int8_panels(path, m, n, 0.75f, p.x.data(), p.ldx, qp, 2, 0.5f, yqp.data(), p.ldy);
          if (threads == 1) {
            want_b = yb;
            want_q = yq;
            want_bp = ybp;
            want_qp = yqp;
          } else {
            CHECK(yb == want_b);
            CHECK(yq == want_q);
            CHECK(ybp == want_bp);
            CHECK(yqp == want_qp);
          }
        }
        pool.set_threads(1);
      }
    }
}

namespace {

// The BLAS's place in many_rows_tiles: c = alpha a b^T + beta c in float, in column order; each
// call's tile rows recorded.
struct reference_sgemm {
  std::vector<std::size_t>* tiles;
  void operator()(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                  const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) const {
    tiles->push_back(n);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        float s = 0.0f;
        for (std::size_t t = 0; t < k; ++t) s += a[i * lda + t] * b[j * ldb + t];
        float& o = c[i * ldc + j];
        o = beta == 0.0f ? alpha * s : alpha * s + beta * o;
      }
  }
};

// Every output tile covered once, none wider than `per`.
void check_tiles(const std::vector<std::size_t>& tiles, std::size_t n, std::size_t per) {
  REQUIRE(tiles.size() == (n + per - 1) / per);
  std::size_t covered = 0;
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    CHECK(tiles[t] == (t + 1 < tiles.size() ? per : n - covered));
    covered += tiles[t];
  }
  CHECK(covered == n);
}

// y [m, ldy] against want (a double per output within `margin`), the columns past n left alone.
void check_near(const paneled_problem& p, const std::vector<float>& got, const std::vector<double>& want, double margin) {
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t j = 0; j < p.ldy; ++j) {
      INFO("row " << i << " column " << j);
      if (j >= p.n)
        REQUIRE(got[i * p.ldy + j] == p.y[i * p.ldy + j]);
      else
        REQUIRE(got[i * p.ldy + j] == Approx(want[i * p.n + j]).margin(margin));
    }
}

const std::vector<std::vector<std::size_t>> many_rows_splits = {{640}, {512, 128}, {1024, 1024}, {17, 40}, {1, 1, 33},
                                                                {5, 7, 9, 11, 13, 15, 17, 19}};

}  // namespace

TEST_CASE("many-row bf16 products: tiles of the exactly widened weights, a dense copy's bits at any split, every "
          "path alike",
          "[nn][cpu][lowp]") {
  // Tiles of the default size (n 200 is one tile) and of 48 rows (n 200: four of 48, then 8).
  REQUIRE(hat::detail::lowp_tile_rows(2048) == 512);
  REQUIRE(hat::detail::lowp_tile_rows(1 << 20) == 64);
  hat::rng g(41);
  const auto paths = paths_here();
  for_each_paneled(many_rows_splits, {33u, 41u}, g, [&](paneled_problem& p, const std::vector<std::size_t>& widths) {
        const std::size_t m = p.m, n = p.n;
        std::vector<hat::bf16> b(p.w.size());
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = hat::to_bf16(p.w[i]);
        std::vector<hat::detail::few_rows_panel<hat::bf16>> panels;
        std::vector<hat::bf16> dense(n * p.k);
        for (std::size_t t = 0, col = 0; t < widths.size(); col += widths[t], ++t) {
          panels.push_back({b.data() + p.starts[t], p.lds[t], widths[t]});
          for (std::size_t j = 0; j < n; ++j)
            for (std::size_t c = 0; c < widths[t]; ++c) dense[j * p.k + col + c] = b[p.starts[t] + j * p.lds[t] + c];
        }
        const hat::detail::few_rows_panel<hat::bf16> whole{dense.data(), p.k, p.k};
        for (float beta : {0.0f, 0.5f}) {
          INFO("beta " << beta);
          std::vector<double> want(m * n);
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) {
              double d = 0;
              for (std::size_t c = 0; c < p.k; ++c)
                d += static_cast<double>(p.x[i * p.ldx + c]) * hat::to_float(dense[j * p.k + c]);
              want[i * n + j] = 0.75 * d + beta * p.y[i * p.ldy + j];
            }
          std::vector<float> first;
          for (lowp_path path : paths)
            for (std::size_t tile_rows : {std::size_t{0}, std::size_t{48}}) {
              INFO("path " << hat::detail::lowp_path_name(path) << " tile rows " << tile_rows);
              std::vector<std::size_t> tiles, dense_tiles;
              std::vector<float> got = p.y, one = p.y;
              hat::detail::many_rows_gemm_bf16_panels(path, m, n, 0.75f, p.x.data(), p.ldx, panels.data(), panels.size(),
                                                      beta, got.data(), p.ldy, reference_sgemm{&tiles}, tile_rows);
              hat::detail::many_rows_gemm_bf16_panels(path, m, n, 0.75f, p.x.data(), p.ldx, &whole, 1, beta, one.data(),
                                                      p.ldy, reference_sgemm{&dense_tiles}, tile_rows);
              check_tiles(tiles, n, tile_rows > 0 ? tile_rows : hat::detail::lowp_tile_rows(p.k));
              REQUIRE(got == one);  // the panels side by side in the tile: the dense copy's product
              check_near(p, got, want, 2e-6 * static_cast<double>(p.k));
              if (first.empty())
                first = got;
              else
                REQUIRE(got == first);  // the widening is exact on every path; the tiling moves no sum
            }
        }
      }, {1u, 9u, 200u});
}

TEST_CASE("many-row int8 products: the few-row kernel's quantised values, dequantised, in an fp32 product; every path "
          "alike; a NaN row stays in its row",
          "[nn][cpu][lowp]") {
  hat::rng g(43);
  const auto paths = paths_here();
  for_each_paneled(many_rows_splits, {33u, 41u}, g, [&](paneled_problem& p, const std::vector<std::size_t>& widths) {
        const std::size_t m = p.m, n = p.n;
        const int8_paneled w8(p);
        const std::vector<hat::detail::int8_panel>& panels = w8.panels;
        const std::vector<std::int8_t>& q = w8.q;
        const std::vector<std::vector<float>>& scales = w8.scales;
        for (float beta : {0.0f, 0.5f}) {
          INFO("beta " << beta);
          // The double product of the dequantised values: each row's panel segment quantised by
          // the scalar reference, times its scale; each weight times its row's scale.
          std::vector<double> want(m * n);
          std::vector<std::int16_t> xq(p.k);
          for (std::size_t i = 0; i < m; ++i) {
            std::vector<float> xd(p.k);
            for (std::size_t t = 0, col = 0; t < widths.size(); col += widths[t], ++t) {
              const float s = hat::quantize_activations(p.x.data() + i * p.ldx + col, widths[t], xq.data());
              for (std::size_t c = 0; c < widths[t]; ++c) xd[col + c] = static_cast<float>(xq[c]) * s;
            }
            for (std::size_t j = 0; j < n; ++j) {
              double d = 0;
              for (std::size_t t = 0, col = 0; t < widths.size(); col += widths[t], ++t)
                for (std::size_t c = 0; c < widths[t]; ++c)
                  d += static_cast<double>(xd[col + c]) *
                       static_cast<float>(static_cast<float>(q[p.starts[t] + j * p.lds[t] + c]) * scales[t][j]);
              want[i * n + j] = 0.75 * d + beta * p.y[i * p.ldy + j];
            }
          }
          std::vector<float> first;
          for (lowp_path path : paths)
            for (std::size_t tile_rows : {std::size_t{0}, std::size_t{48}}) {
              INFO("path " << hat::detail::lowp_path_name(path) << " tile rows " << tile_rows);
              std::vector<std::size_t> tiles;
              std::vector<float> got = p.y, few = p.y;
              hat::detail::many_rows_gemm_int8_panels(path, m, n, 0.75f, p.x.data(), p.ldx, panels.data(), panels.size(),
                                                      beta, got.data(), p.ldy, reference_sgemm{&tiles}, tile_rows);
              check_tiles(tiles, n, tile_rows > 0 ? tile_rows : hat::detail::lowp_tile_rows(p.k));
              check_near(p, got, want, 2e-6 * static_cast<double>(p.k));
              // the few-row kernel sums the same integers exactly: the two differ by fp32 rounding only
              hat::detail::few_rows_gemm_int8_panels(path, m, n, 0.75f, p.x.data(), p.ldx, panels.data(), panels.size(),
                                                     beta, few.data(), p.ldy);
              for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j)
                  REQUIRE(got[i * p.ldy + j] == Approx(few[i * p.ldy + j]).margin(2e-6 * static_cast<double>(p.k)));
              if (first.empty())
                first = got;
              else
                REQUIRE(got == first);  // the same floats on every path and tiling (the reference sums in order)
            }
          // A NaN in row 3 of x: that row's outputs are NaN, the other rows keep their bits.
          if (m > 3) {
            paneled_problem bad = p;
            bad.x[3 * p.ldx + p.k - 1] = std::numeric_limits<float>::quiet_NaN();
            for (lowp_path path : paths) {
              std::vector<std::size_t> tiles;
              std::vector<float> got = p.y;
              hat::detail::many_rows_gemm_int8_panels(path, m, n, 0.75f, bad.x.data(), p.ldx, panels.data(),
                                                      panels.size(), beta, got.data(), p.ldy, reference_sgemm{&tiles});
              for (std::size_t i = 0; i < m; ++i)
                for (std::size_t j = 0; j < n; ++j) {
                  if (i == 3)
                    REQUIRE(std::isnan(got[i * p.ldy + j]));
                  else
                    REQUIRE(got[i * p.ldy + j] == first[i * p.ldy + j]);
                }
            }
          }
        }
      }, {1u, 9u, 200u});
}
